//! The share page in a real headless Chromium (Debian's `chromium`, installed by
//! `scripts/install-chromium.sh`, which `make test` runs) against the real `sesame` server
//! binary: the page fetches the ciphertext, decrypts it with WebCrypto using the link's
//! fragment and shows the fields; a one-time link shows the consumed message on its second
//! visit; screenshots are saved under `target/test-artifacts/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../server/tests/common/smtp_sink.rs"]
mod smtp_sink;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sesame_core::model::{
    AllowedRecipientType, AllowedType, ItemShareAccountPolicy, ItemShareParams, ValidRecipient,
};
use sesame_core::totp::Totp;
use smtp_sink::SmtpSink;
use support::{Fixture, Server, TOTP_SECRET};

const CHROMIUM: &str = "/usr/bin/chromium";

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium on `url` with `mode` (`--dump-dom` or `--screenshot=…`) and
/// returns its stdout. Virtual time lets the page's fetch and WebCrypto finish first.
fn chromium(url: &str, mode: &str) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run scripts/install-chromium.sh (make test does)"
    );
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1000,1100",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(mode)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// The `data-state` of the page's status element.
fn state(dom: &str) -> &str {
    let start = dom.find("data-state=\"").expect("a status element") + 12;
    &dom[start..start + dom[start..].find('"').unwrap()]
}

#[tokio::test]
async fn the_share_page_decrypts_in_chromium_and_a_one_time_link_works_once() {
    let fx = Fixture::new().await;
    let item = fx
        .owner
        .items()
        .get(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap();
    let shares = fx.owner.items().shares();
    let policy = ItemShareAccountPolicy::default();
    let once = shares
        .create(&item, &policy, support::one_time_share())
        .await
        .unwrap();

    let first = tokio::task::spawn_blocking(move || {
        let dom = chromium(&once, "--dump-dom");
        (once, dom)
    });
    let (once, dom) = first.await.unwrap();
    assert_eq!(state(&dom), "ready", "{dom}");
    for shown in [
        "Postgres",
        "pg-user",
        "db.internal",
        "pg notes",
        "Admin",
        "Security",
    ] {
        assert!(dom.contains(shown), "{shown:?} not shown:\n{dom}");
    }
    assert!(dom.contains(r#"data-field="username""#), "{dom}");
    // Concealed values stay out of the page until someone reveals them.
    for hidden in ["pg-top", "pg-admin", "OPENSSH PRIVATE KEY"] {
        assert!(!dom.contains(hidden), "{hidden:?} is in the DOM unrevealed");
    }
    assert!(dom.contains("Reveal") && dom.contains("Copy"), "{dom}");
    // The live TOTP code (the page's clock may run a little ahead under virtual time).
    let totp = Totp::parse(TOTP_SECRET).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let codes: Vec<String> = (0..6)
        .map(|step| totp.code_at(now - 60 + step * 30).code().to_owned())
        .collect();
    assert!(
        codes.iter().any(|code| dom.contains(code.as_str())),
        "none of the TOTP codes {codes:?} is shown:\n{dom}"
    );
    assert!(dom.contains("last view"), "{dom}");

    let second = tokio::task::spawn_blocking(move || chromium(&once, "--dump-dom"))
        .await
        .unwrap();
    assert_eq!(state(&second), "gone", "{second}");
    assert!(second.contains("already viewed"), "{second}");
    assert!(!second.contains("pg-user"), "no data next to the message");

    // A wrong fragment: the page says so and shows nothing.
    let link = shares
        .create(&item, &policy, ItemShareParams::default())
        .await
        .unwrap();
    let (base, fragment) = link.split_once('#').unwrap();
    let mut wrong = fragment.to_owned();
    let last = if wrong.ends_with('A') { "B" } else { "A" };
    wrong.replace_range(wrong.len() - 2..wrong.len() - 1, last);
    let wrong_link = format!("{base}#{wrong}");
    let dom = tokio::task::spawn_blocking(move || chromium(&wrong_link, "--dump-dom"))
        .await
        .unwrap();
    assert_eq!(state(&dom), "not-found", "{dom}");
    assert!(!dom.contains("pg-user"));

    // Screenshots, kept as test artifacts: a shared item, and a consumed link.
    let dir = artifacts();
    let shot = dir.join("share-page.png");
    let consumed = dir.join("share-page-consumed.png");
    let _ = std::fs::remove_file(&shot);
    let _ = std::fs::remove_file(&consumed);
    let once = shares
        .create(&item, &policy, support::one_time_share())
        .await
        .unwrap();
    let (shot2, consumed2) = (shot.clone(), consumed.clone());
    tokio::task::spawn_blocking(move || {
        chromium(&once, &format!("--screenshot={}", shot2.display()));
        chromium(&once, &format!("--screenshot={}", consumed2.display()));
    })
    .await
    .unwrap();
    for png in [&shot, &consumed] {
        let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{}",
            png.display()
        );
    }
}

/// A server that mails codes to `sink`, a policy that allows recipients, and a one-time
/// link restricted to bob@example.com.
async fn restricted_link(sink: &SmtpSink) -> (Fixture, String) {
    let url = sink.url();
    let fx = Fixture::with_server(Server::start_with_env(&[
        ("SESAME_SMTP_URL", url.as_str()),
        ("SESAME_SMTP_FROM", "Sesame <sesame@example.net>"),
    ]))
    .await;
    let item = fx
        .owner
        .items()
        .get(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap();
    let shares = fx.owner.items().shares();
    let policy = ItemShareAccountPolicy {
        allowed_types: vec![AllowedType::Authenticated],
        allowed_recipient_types: vec![AllowedRecipientType::Email],
        ..ItemShareAccountPolicy::default()
    };
    shares.set_account_policy(&policy).await.unwrap();
    let link = shares
        .create(
            &item,
            &policy,
            ItemShareParams {
                recipients: Some(vec![ValidRecipient::Email {
                    email: "bob@example.com".into(),
                }]),
                one_time_only: true,
                ..ItemShareParams::default()
            },
        )
        .await
        .unwrap();
    (fx, link)
}

#[tokio::test]
async fn a_restricted_link_asks_for_an_email_address_first() {
    let sink = SmtpSink::start().await;
    let (fx, link) = restricted_link(&sink).await;
    let shot = artifacts().join("share-page-verify.png");
    let _ = std::fs::remove_file(&shot);
    let (dom, link) = tokio::task::spawn_blocking(move || {
        let dom = chromium(&link, "--dump-dom");
        chromium(&link, &format!("--screenshot={}", shot.display()));
        (dom, link)
    })
    .await
    .unwrap();
    assert_eq!(state(&dom), "verify", "{dom}");
    for shown in [
        r#"id="verify-email""#,
        r#"type="email""#,
        r#"autocomplete="email""#,
        r#"for="verify-email""#,
        "Send code",
        "shared with named people",
    ] {
        assert!(dom.contains(shown), "{shown:?} not shown:\n{dom}");
    }
    assert!(!dom.contains("pg-user"), "no data before the code");
    // Asking for the address consumed nothing and mailed nothing.
    let listed = fx.owner.items().shares().list().await.unwrap();
    assert_eq!(listed[0].views, 0);
    assert!(sink.mails().is_empty());
    drop(link);
}

/// Headless Chromium driven over the DevTools protocol through `--remote-debugging-pipe`
/// (JSON messages ending in NUL on file descriptors 3 and 4, here two FIFOs the shell
/// opens for it): typing into the page, which `--dump-dom` cannot do.
struct DevTools {
    child: std::process::Child,
    to: std::fs::File,
    from: std::sync::mpsc::Receiver<serde_json::Value>,
    next: u64,
    session: String,
    _dir: tempfile::TempDir,
}

impl DevTools {
    fn open(url: &str) -> Self {
        assert!(Path::new(CHROMIUM).exists(), "{CHROMIUM} is missing");
        let dir = tempfile::tempdir().unwrap();
        let (input, output) = (dir.path().join("in"), dir.path().join("out"));
        for fifo in [&input, &output] {
            let made = Command::new("mkfifo").arg(fifo).status().unwrap();
            assert!(made.success());
        }
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "exec {CHROMIUM} --headless --no-sandbox --disable-gpu --disable-quic \
                 --no-first-run --disable-background-networking --disable-component-update \
                 --disable-sync --hide-scrollbars --window-size=1000,1100 \
                 --user-data-dir=\"$1\" --remote-debugging-pipe about:blank 3<\"$2\" 4>\"$3\""
            ))
            .arg("sh")
            .arg(dir.path().join("profile"))
            .arg(&input)
            .arg(&output)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        // The shell opens `in` first, then `out`: open them in the same order.
        let to = std::fs::OpenOptions::new()
            .write(true)
            .open(&input)
            .unwrap();
        let from = std::fs::File::open(&output).unwrap();
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            let mut reader = std::io::BufReader::new(from);
            let mut message = Vec::new();
            while reader
                .read_until(0, &mut message)
                .map(|n| n > 0)
                .unwrap_or(false)
            {
                message.pop();
                if let Ok(value) = serde_json::from_slice(&message) {
                    if send.send(value).is_err() {
                        break;
                    }
                }
                message.clear();
            }
        });
        let mut tools = Self {
            child,
            to,
            from: receive,
            next: 0,
            session: String::new(),
            _dir: dir,
        };
        let target = tools.call("Target.createTarget", serde_json::json!({ "url": url }));
        let attached = tools.call(
            "Target.attachToTarget",
            serde_json::json!({ "targetId": target["targetId"], "flatten": true }),
        );
        tools.session = attached["sessionId"].as_str().unwrap().to_owned();
        tools
    }

    /// Sends a command (to the page once attached) and waits for its result.
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.try_call(method, params)
            .unwrap_or_else(|error| panic!("{method}: {error}"))
    }

    /// [`call`](Self::call), with the protocol's error as `Err`.
    fn try_call(
        &mut self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        use std::io::Write as _;
        self.next += 1;
        let mut message =
            serde_json::json!({ "id": self.next, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = serde_json::json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let reply = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no answer to {method} within 60 s"));
            if reply["id"] == self.next {
                return match reply.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(reply["result"].clone()),
                };
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> serde_json::Value {
        self.try_eval(expression)
            .unwrap_or_else(|error| panic!("{expression}: {error}"))
    }

    /// [`eval`](Self::eval), `Err` while the page has no document to evaluate in yet.
    fn try_eval(&mut self, expression: &str) -> Result<serde_json::Value, serde_json::Value> {
        let result = self.try_call(
            "Runtime.evaluate",
            serde_json::json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        )?;
        Ok(result["result"]["value"].clone())
    }

    /// Waits (up to 30 s) until `expression` is true in the page.
    fn wait_until(&mut self, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.try_eval(expression) != Ok(serde_json::json!(true)) {
            assert!(
                Instant::now() < deadline,
                "{expression} never held; the page shows:\n{:?}",
                self.try_eval("document.body.innerText")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `text` into the input `id` as a person would, then submits its form.
    fn type_and_submit(&mut self, id: &str, text: &str) {
        self.eval(&format!("document.getElementById({id:?}).focus()"));
        self.call("Input.insertText", serde_json::json!({ "text": text }));
        self.call(
            "Input.dispatchKeyEvent",
            serde_json::json!({ "type": "keyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r" }),
        );
        self.call(
            "Input.dispatchKeyEvent",
            serde_json::json!({ "type": "keyUp", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13 }),
        );
    }

    fn screenshot(&mut self, path: &Path) {
        use base64::Engine as _;
        let shot = self.call(
            "Page.captureScreenshot",
            serde_json::json!({ "format": "png" }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for DevTools {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recipient_types_their_address_and_the_mailed_code_and_sees_the_item() {
    let sink = SmtpSink::start().await;
    let (fx, link) = restricted_link(&sink).await;
    let dir = artifacts();
    let (code_shot, opened_shot) = (
        dir.join("share-page-verify-code.png"),
        dir.join("share-page-verified.png"),
    );
    for shot in [&code_shot, &opened_shot] {
        let _ = std::fs::remove_file(shot);
    }
    let mut page = tokio::task::block_in_place(|| {
        let mut page = DevTools::open(&link);
        page.wait_until("document.getElementById('status').dataset.state === 'verify'");
        page.type_and_submit("verify-email", "Bob@Example.com");
        page.wait_until("!!document.getElementById('verify-code')");
        page
    });
    let code = sink.wait_for("bob@example.com", 1).await.code();
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    tokio::task::block_in_place(|| {
        // A wrong code: the form stays, says how many tries are left, shows no data.
        page.type_and_submit("verify-code", &wrong);
        page.wait_until(
            "document.getElementById('verify-error').textContent.includes('Wrong code; 4 tries left')",
        );
        assert_eq!(
            page.eval("document.getElementById('verify-code').getAttribute('aria-invalid')"),
            serde_json::json!("true")
        );
        page.screenshot(&code_shot);
        page.type_and_submit("verify-code", &code);
        page.wait_until("document.getElementById('status').dataset.state === 'ready'");
        let text = page.eval("document.body.innerText");
        let text = text.as_str().unwrap();
        for shown in ["Postgres", "pg-user", "db.internal", "last view"] {
            assert!(text.contains(shown), "{shown:?} not shown:\n{text}");
        }
        assert!(
            !text.contains("pg-top"),
            "a concealed value is shown unrevealed"
        );
        assert_eq!(
            page.eval("document.getElementById('verify').hidden"),
            serde_json::json!(true)
        );
        page.screenshot(&opened_shot);
    });
    drop(page);
    for png in [&code_shot, &opened_shot] {
        let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{}",
            png.display()
        );
    }
    // One view, and the one-time link is used up.
    let listed = fx.owner.items().shares().list().await.unwrap();
    assert_eq!((listed[0].views, listed[0].max_views), (1, Some(1)));
    assert_eq!(sink.mails().len(), 1);
}
