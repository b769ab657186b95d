//! `sesame password generate`, `sesame totp` and `sesame completion`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{run, Fixture, TOTP_SECRET};

fn sesame(args: &[&str]) -> support::Run {
    run(
        std::process::Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(args)
            .env_remove("SESAME_FORMAT"),
        "",
    )
}

#[test]
fn password_generate_follows_the_recipes() {
    let out = sesame(&["password", "generate"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout.trim_end().chars().count(), 32);
    let pin = sesame(&["password", "generate", "--recipe", "pin", "--length", "8"]);
    let pin = pin.stdout.trim_end();
    assert!(
        pin.len() == 8 && pin.chars().all(|c| c.is_ascii_digit()),
        "{pin}"
    );
    let compact = sesame(&["password", "generate", "pin,5"]).stdout;
    assert_eq!(compact.trim_end().len(), 5);
    let letters = sesame(&[
        "password",
        "generate",
        "--length",
        "40",
        "--no-digits",
        "--no-symbols",
    ]);
    assert!(letters
        .stdout
        .trim_end()
        .chars()
        .all(|c| c.is_ascii_alphabetic()));
    let memorable = sesame(&[
        "password",
        "generate",
        "--recipe",
        "memorable",
        "--words",
        "5",
        "--separator",
        "spaces",
    ]);
    assert_eq!(
        memorable.stdout.trim_end().split(' ').count(),
        5,
        "{memorable:?}"
    );
    let json = sesame(&[
        "password", "generate", "--format", "json", "--recipe", "pin",
    ]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["password"].as_str().unwrap().len(), 6);
    assert!(value["entropyBits"].as_f64().unwrap() > 19.0);
    assert_eq!(value["recipe"]["type"], "Pin");
    let bad = sesame(&["password", "generate", "--recipe", "pin", "--length", "40"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("length"), "{bad:?}");
}

#[test]
fn totp_from_a_uri_or_a_secret() {
    let expected = sesame_core::totp::Totp::parse(TOTP_SECRET).unwrap();
    let codes = || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        [now, now - 30].map(|t| expected.code_at(t).code().to_owned())
    };
    let out = sesame(&["totp", TOTP_SECRET]);
    assert!(
        codes().contains(&out.stdout.trim_end().to_owned()),
        "{out:?}"
    );
    let uri = format!("otpauth://totp/me?secret={TOTP_SECRET}&issuer=x");
    let out = sesame(&["totp", &uri, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(codes().contains(&value["code"].as_str().unwrap().to_owned()));
    assert!(value["expiresInSeconds"].as_u64().unwrap() <= 30);
    let bad = sesame(&["totp", "not base32!"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
}

#[tokio::test]
async fn totp_from_a_reference() {
    let f = Fixture::new().await;
    let expected = sesame_core::totp::Totp::parse(TOTP_SECRET).unwrap();
    let out = run(
        f.server
            .cli(&f.sa_token)
            .args(["totp", "op://Infra/Postgres/one-time password"]),
        "",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = out.stdout.trim_end();
    assert!(
        [now, now - 30]
            .iter()
            .any(|t| expected.code_at(*t).code() == code),
        "{code}"
    );
}

#[test]
fn completion_scripts_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out = sesame(&["completion", shell]);
        assert_eq!(out.code, Some(0), "{out:?}");
        for word in ["inject", "service-account", "env-file", "generate-password"] {
            assert!(out.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    // The bash script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("sesame.bash");
    std::fs::write(&script, sesame(&["completion", "bash"]).stdout).unwrap();
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(checked.success());
    assert_eq!(sesame(&["completion", "tcsh"]).code, Some(2));
}

#[test]
fn every_command_has_help_with_an_example() {
    for args in [
        &["read", "--help"][..],
        &["inject", "--help"],
        &["run", "--help"],
        &["item", "create", "--help"],
        &["service-account", "create", "--help"],
        &["vault", "grant", "--help"],
        &["completion", "--help"],
    ] {
        let out = sesame(args);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(out.stdout.contains("Example"), "{args:?}: {}", out.stdout);
    }
}

/// Point 13: a credential source that is given but blank is an authentication error,
/// never a silent fallback to the owner credential saved in the config directory.
#[tokio::test]
async fn a_blank_token_never_falls_back_to_the_saved_owner() {
    let server = support::Server::start();
    // The credential `server init` would have saved for this user: the owner's.
    let saved = server.data_dir.join("cli-config").join("sesame");
    std::fs::create_dir_all(&saved).unwrap();
    std::fs::write(
        saved.join("credential"),
        format!(
            "{}\n",
            secrecy::ExposeSecret::expose_secret(server.owner_token())
        ),
    )
    .unwrap();
    // The fallback is real: with no other source, the saved owner is used.
    let owner = run(server.cli_without_token().arg("whoami"), "");
    assert_eq!(owner.code, Some(0), "{owner:?}");

    let empty_file = server.data_dir.join("empty.token");
    std::fs::write(&empty_file, "").unwrap();
    let blank_file = server.data_dir.join("blank.token");
    std::fs::write(&blank_file, " \n\t\n").unwrap();
    let empty = empty_file.to_str().unwrap();
    let blank = blank_file.to_str().unwrap();
    // (An empty --token-file path is refused by argument parsing, exit 2.)
    let cases: [(&str, Option<&str>, &[&str], &str); 5] = [
        (
            "empty variable",
            Some(""),
            &[],
            "SESAME_SERVICE_ACCOUNT_TOKEN is set but empty",
        ),
        (
            "blank variable",
            Some(" \t\n"),
            &[],
            "SESAME_SERVICE_ACCOUNT_TOKEN is set but empty",
        ),
        ("empty file", None, &["--token-file", empty], "is empty"),
        ("blank file", None, &["--token-file", blank], "is empty"),
        // The file is chosen over the variable; an empty one is not skipped for it.
        (
            "empty file, blank variable",
            Some(""),
            &["--token-file", empty],
            "is empty",
        ),
    ];
    for (case, variable, flags, message) in cases {
        let mut command = server.cli_without_token();
        if let Some(value) = variable {
            command.env("SESAME_SERVICE_ACCOUNT_TOKEN", value);
        }
        let out = run(command.args(flags).arg("whoami"), "");
        assert_eq!(out.code, Some(5), "{case}: {out:?}");
        assert!(out.stderr.contains(message), "{case}: {}", out.stderr);
        assert!(
            out.stdout.is_empty(),
            "{case}: nothing ran as the owner: {out:?}"
        );
    }
}

/// How a numeric argument reads its value, and so which text is its "far too large".
#[derive(Debug, Clone, Copy)]
enum Reads {
    Number,
    Duration,
    /// An octal file mode.
    Mode,
    /// A value inside an `otpauth://` URI, checked by the core's parser.
    Uri,
}

/// Every number, size and duration argument of the CLI: its command line with `{}` for
/// the value, how it reads it, the range its error names, and its exit code when the
/// value is in range (3: the file asked for does not exist). Point 14: add a row with
/// every new one (`main.rs`'s `every_number_and_duration_argument_has_limits` finds
/// those that are missing their limits).
const NUMERIC_ARGUMENTS: &[(&str, Reads, &str, i32)] = &[
    (
        "events --after={}",
        Reads::Number,
        "from 0 to 9223372036854775807",
        0,
    ),
    ("events --limit={}", Reads::Number, "from 1 to 1000", 0),
    (
        "service-account create sa --vault Infra:read --expires-in={}",
        Reads::Duration,
        "from 1s to 3650d",
        0,
    ),
    (
        "service-account ratelimit ci-reader --reads={}",
        Reads::Number,
        "1 to 1000000000",
        0,
    ),
    (
        "service-account ratelimit ci-reader --writes={}",
        Reads::Number,
        "1 to 1000000000",
        0,
    ),
    (
        "share policy --max-views={}",
        Reads::Number,
        "from 1 to 1000000",
        0,
    ),
    (
        "share policy --files --files-max-size={}",
        Reads::Number,
        "from 1 to 9223372036854775807",
        0,
    ),
    (
        "share policy --max-expiry={}",
        Reads::Duration,
        "1h, 1d, 7d, 14d, 30d",
        0,
    ),
    (
        "share policy --default-expiry={}",
        Reads::Duration,
        "1h, 1d, 7d, 14d, 30d",
        0,
    ),
    (
        "item share Postgres --vault Infra --expires-in={}",
        Reads::Duration,
        "1h, 1d, 7d, 14d, 30d",
        0,
    ),
    (
        "password generate --length={}",
        Reads::Number,
        "from 4 to 100",
        0,
    ),
    (
        "password generate --recipe memorable --words={}",
        Reads::Number,
        "from 3 to 15",
        0,
    ),
    (
        "password generate pin,{}",
        Reads::Number,
        "from 3 to 100",
        0,
    ),
    (
        "password generate memorable,{}",
        Reads::Number,
        "from 3 to 100",
        0,
    ),
    (
        "read op://Infra/Postgres/password -o {out} --file-mode={}",
        Reads::Mode,
        "0 to 7777",
        0,
    ),
    (
        "inject -o {out} --file-mode={}",
        Reads::Mode,
        "0 to 7777",
        0,
    ),
    (
        "item file get Postgres none --vault Infra -o {out} --file-mode={}",
        Reads::Mode,
        "0 to 7777",
        3,
    ),
    (
        "document get Postgres --vault Infra -o {out} --file-mode={}",
        Reads::Mode,
        "0 to 7777",
        3,
    ),
    (
        "totp otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period={}",
        Reads::Uri,
        "period",
        0,
    ),
    (
        "totp otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits={}",
        Reads::Uri,
        "digits",
        0,
    ),
    (
        "server start --data-dir {data} --listen 127.0.0.1:0 --rate-limit-reads={}",
        Reads::Number,
        "from 1 to 1000000000",
        0,
    ),
    (
        "server start --data-dir {data} --listen 127.0.0.1:0 --rate-limit-writes={}",
        Reads::Number,
        "from 1 to 1000000000",
        0,
    ),
    (
        "server start --data-dir {data} --listen 127.0.0.1:0 --session-ttl={}",
        Reads::Number,
        "from 1 to 604800",
        0,
    ),
    (
        "server start --data-dir {data} --listen 127.0.0.1:0 --rate-limit-unauthenticated={}",
        Reads::Number,
        "from 1 to 1000000000",
        0,
    ),
    (
        "server start --data-dir {data} --listen 127.0.0.1:0 --header-read-timeout={}",
        Reads::Number,
        "from 1 to 3600",
        0,
    ),
    (
        "server start --data-dir {data} --listen 127.0.0.1:0 --idle-timeout={}",
        Reads::Number,
        "from 1 to 86400",
        0,
    ),
    (
        "server start --data-dir {data} --listen 127.0.0.1:0 --max-connections={}",
        Reads::Number,
        "from 1 to 1000000",
        0,
    ),
];

/// Values no argument may panic on: each is refused (exit 2) or in range.
const HOSTILE: &[&str] = &[
    "0",
    "-1",
    "99999999999999999999",
    "99999999999999999999d",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775808",
    "4294967296",
    "9223372036854775807s",
    "106751991167300d",
    "5é",
    "",
];

/// Point 14: no number, size or duration makes the CLI panic (exit 101); an out-of-range
/// one is a usage error (exit 2) that names the limit. Run against a real server as the
/// owner, so values that pass parsing reach the code that uses them.
#[tokio::test]
async fn no_number_or_duration_argument_panics_and_out_of_range_is_usage() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let scratch = tempfile::tempdir().unwrap();
    let out_file = scratch.path().join("out");
    // A second, initialized data directory for `server start` (never the running one's).
    let data = scratch.path().join("data");
    let init = sesame(&["server", "init", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(init.code, Some(0), "{init:?}");
    for (template, reads, limit, accepted) in NUMERIC_ARGUMENTS {
        let far_too_large = match reads {
            Reads::Duration => "99999999999999999999d",
            _ => "99999999999999999999",
        };
        for value in HOSTILE {
            let line = template
                .replace("{out}", out_file.to_str().unwrap())
                .replace("{data}", data.to_str().unwrap());
            let args: Vec<String> = line
                .split(' ')
                .map(|word| word.replace("{}", value))
                .collect();
            let mut command = f.server.cli(&owner);
            command
                .args(&args)
                .env("XDG_CONFIG_HOME", scratch.path().join("config"))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            let mut child = command.spawn().unwrap();
            // A value a server accepts starts it: give it a moment, then stop it.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break Some(status);
                }
                if std::time::Instant::now() > deadline {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    break None;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            };
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            let code = status.and_then(|s| s.code());
            assert_ne!(
                code,
                Some(101),
                "`sesame {line}` with {value:?} panicked: {stderr}"
            );
            assert!(
                status.is_none() || code.is_some(),
                "`sesame {line}` with {value:?} died of a signal: {stderr}"
            );
            // A server given an accepted value keeps running until stopped.
            let accepted = if line.starts_with("server start") {
                None
            } else {
                Some(*accepted)
            };
            assert!(
                code == Some(2) || code == accepted,
                "`sesame {line}` with {value:?}: exit {code:?}, not 2 or {accepted:?}: {stderr}"
            );
            if *value == far_too_large || *value == "-1" {
                assert_eq!(code, Some(2), "`sesame {line}` with {value:?}: {stderr}");
            }
            if *value == far_too_large {
                assert!(
                    stderr.contains(limit),
                    "`sesame {line}` with {value:?} does not name its limit {limit:?}: {stderr}"
                );
            }
        }
    }
}
