//! Shares restricted to recipients over real HTTP, with a real SMTP server (the test
//! sink): a visitor proves an address with a one-time code mailed to it. The code goes
//! only to a recipient, opens once, counts down wrong tries and voids after five,
//! expires on the server's clock; a non-recipient gets no mail and the same answers;
//! requests are rate-limited per share; without SMTP nothing of this is allowed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::smtp_sink::SmtpSink;
use common::{b64, rand_bytes, send, Reply, Session, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use sesame_core::crypto::access_hash;
use sesame_core::id::Id;

const FROM: &str = "sesame@example.net";

async fn start(sink: &SmtpSink) -> TestServer {
    let url = sink.url();
    common::start_with(move |config| {
        config.smtp_url = Some(url.parse().unwrap());
        config.smtp_from = Some(format!("Sesame <{FROM}>"));
        config.public_url = Some("https://sesame.example.net".into());
    })
    .await
}

fn policy(allowed_types: Value, recipient_types: Value) -> Value {
    json!({
        "maxExpiry": "SevenDays", "defaultExpiry": "OneDay", "maxViews": null,
        "allowedTypes": allowed_types, "allowedRecipientTypes": recipient_types,
        "files": {"allowed": false, "maxSize": 1024},
    })
}

/// The owner's session and the path that shares a fresh item.
async fn item(server: &TestServer) -> (Session, String) {
    let owner = server.owner().await;
    let (vault, _key) = owner.create_vault(&server.owner).await;
    let reply = owner.create_item(&vault, b"overview", b"details").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let item = reply.body["id"].as_str().unwrap().to_owned();
    (owner, format!("/v1/vaults/{vault}/items/{item}/shares"))
}

struct Share {
    id: Id,
    token: [u8; 32],
    sealed: Value,
}

/// Creates a share for `recipients` (JSON), asserting `status`.
async fn create(owner: &Session, path: &str, recipients: Value, status: u16) -> (Share, Reply) {
    let id = Id::generate();
    let token = rand_bytes::<32>();
    let sealed = json!(b64(&rand_bytes::<64>()));
    let body = json!({
        "id": id,
        "accessHash": b64(&access_hash(&token)),
        "expireAfter": "OneDay",
        "oneTimeOnly": false,
        "recipients": recipients,
        "item": sealed,
    });
    let reply = owner.post(path, body).await;
    assert_eq!(reply.status, status, "{:?}", reply.body);
    (Share { id, token, sealed }, reply)
}

async fn challenge(server: &TestServer, share: &Share, email: &str) -> Reply {
    send(
        &server.http,
        Method::POST,
        &server.url(&format!("/v1/shares/{}/challenge", share.id)),
        None,
        Some(json!({ "access": b64(&share.token), "email": email })),
    )
    .await
}

async fn open(server: &TestServer, share: &Share, proof: Option<(&str, &str)>) -> Reply {
    let mut body = json!({ "access": b64(&share.token) });
    if let Some((email, code)) = proof {
        body["email"] = json!(email);
        body["code"] = json!(code);
    }
    send(
        &server.http,
        Method::POST,
        &server.url(&format!("/v1/shares/{}/open", share.id)),
        None,
        Some(body),
    )
    .await
}

fn assert_refused(reply: &Reply, status: u16, needle: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert!(reply.message().contains(needle), "{}", reply.message());
}

/// A code that is not `code`.
fn other_than(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

async fn outcomes(owner: &Session, action: &str) -> Vec<String> {
    owner.get("/v1/events?after=0&limit=1000").await.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .map(|e| e["outcome"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_recipient_opens_with_the_code_mailed_to_them_and_nobody_else_gets_one() {
    let sink = SmtpSink::start().await;
    let server = start(&sink).await;
    let (owner, path) = item(&server).await;
    let set = owner
        .put(
            "/v1/share-policy",
            policy(
                json!(["Public", "Authenticated"]),
                json!(["Email", "Domain"]),
            ),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let recipients = json!([
        {"type": "Email", "parameters": {"email": "Bob@Example.com"}},
        {"type": "Domain", "parameters": {"domain": "example.org"}},
    ]);
    let (share, _) = create(&owner, &path, recipients, 200).await;

    // The link alone no longer opens it, and counts no view.
    let bare = open(&server, &share, None).await;
    assert_refused(&bare, 401, "restricted to its recipients");

    // A recipient asks for a code: it arrives by mail, to that address only.
    let asked = challenge(&server, &share, " BOB@example.COM ").await;
    assert_eq!(asked.status, 202, "{:?}", asked.body);
    assert_eq!(
        asked.body,
        json!({"expiresIn": 600, "attempts": 5, "codeLength": 6})
    );
    let mail = sink.wait_for("bob@example.com", 1).await;
    assert_eq!(mail.from, FROM);
    assert_eq!(mail.to, ["bob@example.com"]);
    assert!(
        mail.data.contains("Subject: Your code for a shared item"),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains("https://sesame.example.net"),
        "{}",
        mail.data
    );
    let code = mail.code();

    // Anyone else gets the same answer, and no mail; a subdomain is not the domain.
    for stranger in [
        "eve@example.net",
        "ann@mail.example.org",
        "bob@example.com.evil.org",
    ] {
        let reply = challenge(&server, &share, stranger).await;
        assert_eq!(
            (reply.status, &reply.body),
            (asked.status, &asked.body),
            "{stranger}"
        );
    }
    // …and trying a code for a stranger answers as a wrong code for a recipient does.
    let stranger = open(&server, &share, Some(("eve@example.net", &code))).await;
    let wrong = open(
        &server,
        &share,
        Some(("bob@example.com", &other_than(&code))),
    )
    .await;
    assert_refused(&stranger, 403, "wrong code; 4 tries left");
    assert_refused(&wrong, 403, "wrong code; 4 tries left");
    let unasked = open(&server, &share, Some(("zed@example.net", &code))).await;
    assert_refused(&unasked, 403, "no code was asked for this address");

    // The right code opens it once.
    let opened = open(&server, &share, Some(("bob@example.com", &code))).await;
    assert_eq!(opened.status, 200, "{:?}", opened.body);
    assert_eq!(opened.body["item"], share.sealed);
    assert_eq!(opened.headers["cache-control"], "no-store");
    let again = open(&server, &share, Some(("bob@example.com", &code))).await;
    assert_refused(&again, 403, "no longer works");

    // Everyone at a named domain is a recipient.
    assert_eq!(
        challenge(&server, &share, "ann@example.org").await.status,
        202
    );
    let code = sink.wait_for("ann@example.org", 1).await.code();
    let opened = open(&server, &share, Some(("Ann@Example.org", &code))).await;
    assert_eq!(opened.status, 200, "{:?}", opened.body);

    // Still no mail to anyone else (the mails go out in the background: give a stray
    // one time to arrive).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let addressed: Vec<Vec<String>> = sink.mails().into_iter().map(|m| m.to).collect();
    assert_eq!(addressed, [["bob@example.com"], ["ann@example.org"]]);

    assert_eq!(owner.get("/v1/shares").await.body[0]["views"], 2);
    assert_eq!(
        outcomes(&owner, "share.challenge").await,
        [
            "ok",
            "permission_denied",
            "permission_denied",
            "permission_denied",
            "ok"
        ]
    );
    assert_eq!(
        outcomes(&owner, "share.open").await,
        [
            "unauthenticated",
            "permission_denied",
            "permission_denied",
            "permission_denied",
            "ok",
            "permission_denied",
            "ok"
        ]
    );
    assert!(sesame_server::verify_audit(&server.config)
        .await
        .unwrap()
        .intact());

    // The database holds no challenged address, only MACs of addresses and codes.
    let pool = server.database().await;
    let rows: Vec<(Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT email_mac, code_mac FROM share_challenges")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|(e, c)| e.len() == 32 && c.len() == 32));
    // (Not the code: six digits may occur by chance in the audit trail's hex hashes.)
    let needles = [
        "eve@example.net",
        "ann@mail.example.org",
        "example.com.evil",
    ];
    for entry in std::fs::read_dir(server.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            for needle in needles {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{needle} in {}",
                    path.display()
                );
            }
        }
    }
    if server.on_postgres() {
        // The database is not in the data dir: its rows, as text and bytes as hex.
        for row in server.postgres_rows().await {
            for needle in needles {
                assert!(
                    !row.contains(needle) && !row.contains(&common::hex(needle.as_bytes())),
                    "{needle} in {row}"
                );
            }
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_codes_count_down_and_void_the_code_and_codes_expire() {
    let sink = SmtpSink::start().await;
    let server = start(&sink).await;
    let (owner, path) = item(&server).await;
    let set = owner
        .put(
            "/v1/share-policy",
            policy(json!(["Authenticated"]), json!(["Email"])),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let bob = "bob@example.com";
    let (share, _) = create(
        &owner,
        &path,
        json!([{"type": "Email", "parameters": {"email": bob}}]),
        200,
    )
    .await;

    assert_eq!(challenge(&server, &share, bob).await.status, 202);
    let code = sink.wait_for(bob, 1).await.code();
    let wrong = other_than(&code);
    for left in ["4 tries left", "3 tries left", "2 tries left", "1 try left"] {
        assert_refused(&open(&server, &share, Some((bob, &wrong))).await, 403, left);
    }
    assert_refused(
        &open(&server, &share, Some((bob, &wrong))).await,
        403,
        "last try, so this code is now void",
    );
    // Void even for the right code.
    assert_refused(
        &open(&server, &share, Some((bob, &code))).await,
        403,
        "no longer works",
    );

    // A newer code replaces the older one.
    assert_eq!(challenge(&server, &share, bob).await.status, 202);
    let older = sink.wait_for(bob, 2).await.code();
    assert_eq!(challenge(&server, &share, bob).await.status, 202);
    let newer = sink.wait_for(bob, 3).await.code();
    if older != newer {
        assert_refused(
            &open(&server, &share, Some((bob, &older))).await,
            403,
            "wrong code",
        );
    }
    assert_eq!(open(&server, &share, Some((bob, &newer))).await.status, 200);

    // A code works for ten minutes, on the server's clock.
    assert_eq!(challenge(&server, &share, bob).await.status, 202);
    let code = sink.wait_for(bob, 4).await.code();
    server.clock.advance(Duration::from_secs(601));
    assert_refused(
        &open(&server, &share, Some((bob, &code))).await,
        403,
        "expired",
    );
    assert_eq!(owner.get("/v1/shares").await.body[0]["views"], 1);
    server.shutdown().await;
}

#[tokio::test]
async fn code_requests_are_rate_limited_per_share_for_everyone_alike() {
    let sink = SmtpSink::start().await;
    let server = start(&sink).await;
    let (owner, path) = item(&server).await;
    owner
        .put(
            "/v1/share-policy",
            policy(json!(["Public", "Authenticated"]), json!(["Domain"])),
        )
        .await;
    let (share, _) = create(
        &owner,
        &path,
        json!([{"type": "Domain", "parameters": {"domain": "example.com"}}]),
        200,
    )
    .await;
    let (other, _) = create(
        &owner,
        &path,
        json!([{"type": "Domain", "parameters": {"domain": "example.com"}}]),
        200,
    )
    .await;
    for i in 0..5 {
        let email = if i % 2 == 0 {
            "a@example.com"
        } else {
            "x@example.net"
        };
        assert_eq!(challenge(&server, &share, email).await.status, 202, "{i}");
    }
    for email in ["a@example.com", "x@example.net"] {
        let limited = challenge(&server, &share, email).await;
        assert_refused(&limited, 429, "too many codes");
        let wait: u64 = limited.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=600).contains(&wait), "{wait}");
    }
    // Another share has its own budget; the window passes on the server's clock.
    assert_eq!(
        challenge(&server, &other, "a@example.com").await.status,
        202
    );
    server.clock.advance(Duration::from_secs(601));
    assert_eq!(
        challenge(&server, &share, "a@example.com").await.status,
        202
    );
    // And a day allows 20 in all: 6 so far, 4 more in this window and 5 in the next two.
    for batch in [4, 5, 5] {
        for _ in 0..batch {
            assert_eq!(
                challenge(&server, &share, "x@example.net").await.status,
                202
            );
        }
        server.clock.advance(Duration::from_secs(601));
    }
    let daily = challenge(&server, &share, "a@example.com").await;
    assert_refused(&daily, 429, "too many codes");

    // Codes are for restricted shares only; malformed addresses are refused.
    let (public, _) = create(&owner, &path, json!([]), 200).await;
    assert_refused(
        &challenge(&server, &public, "a@example.com").await,
        400,
        "not restricted",
    );
    assert_refused(
        &challenge(&server, &other, "example.com").await,
        400,
        "a domain",
    );
    assert_refused(
        &challenge(&server, &other, "a@@example.com").await,
        400,
        "email has",
    );
    let unknown = Share {
        id: Id::generate(),
        token: rand_bytes::<32>(),
        sealed: Value::Null,
    };
    assert_refused(
        &challenge(&server, &unknown, "a@example.com").await,
        404,
        "no share matches",
    );
    let forged = Share {
        id: share.id,
        token: rand_bytes::<32>(),
        sealed: Value::Null,
    };
    assert_refused(
        &challenge(&server, &forged, "a@example.com").await,
        404,
        "no share matches",
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_policy_and_the_server_decide_who_may_be_a_recipient() {
    let sink = SmtpSink::start().await;
    let server = start(&sink).await;
    let (owner, path) = item(&server).await;
    let bob = json!([{"type": "Email", "parameters": {"email": "bob@example.com"}}]);
    let corp = json!([{"type": "Domain", "parameters": {"domain": "example.com"}}]);

    // The default policy allows public links only.
    let (_, refused) = create(&owner, &path, bob.clone(), 400).await;
    assert!(
        refused.message().contains("Authenticated"),
        "{}",
        refused.message()
    );
    // Authenticated needs a recipient type.
    let reply = owner
        .put(
            "/v1/share-policy",
            policy(json!(["Authenticated"]), json!([])),
        )
        .await;
    assert_refused(&reply, 400, "allowedRecipientTypes is empty");
    owner
        .put(
            "/v1/share-policy",
            policy(json!(["Authenticated"]), json!(["Email"])),
        )
        .await;
    let (_, refused) = create(&owner, &path, corp.clone(), 400).await;
    assert!(
        refused.message().contains("Domain"),
        "{}",
        refused.message()
    );
    // Only restricted links: a public one is refused.
    let (_, refused) = create(&owner, &path, json!([]), 400).await;
    assert!(
        refused.message().contains("public links"),
        "{}",
        refused.message()
    );
    create(&owner, &path, bob.clone(), 200).await;

    // The server parses recipients with the client's rules.
    for (recipients, needle) in [
        (
            json!([{"type": "Email", "parameters": {"email": "bob@@example.com"}}]),
            "recipient 1",
        ),
        (
            json!([{"type": "Email", "parameters": {"email": "example.com"}}]),
            "given as Email",
        ),
        (
            json!([{"type": "Email", "parameters": {"email": "bob@localhost"}}]),
            "no dot",
        ),
    ] {
        let (_, refused) = create(&owner, &path, recipients, 400).await;
        assert!(refused.message().contains(needle), "{}", refused.message());
    }
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"type": "Email", "parameters": {"email": format!("u{i}@example.com")}}))
        .collect();
    let (_, refused) = create(&owner, &path, json!(many), 400).await;
    assert!(
        refused.message().contains("at most 100"),
        "{}",
        refused.message()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn without_smtp_recipients_are_refused() {
    let server = common::start().await;
    let (owner, path) = item(&server).await;
    let reply = owner
        .put(
            "/v1/share-policy",
            policy(json!(["Public", "Authenticated"]), json!(["Email"])),
        )
        .await;
    assert_refused(&reply, 400, "configure smtp_url");
    assert_eq!(
        owner.get("/v1/share-policy").await.body["allowedTypes"],
        json!(["Public"])
    );
    let (_, refused) = create(
        &owner,
        &path,
        json!([{"type": "Email", "parameters": {"email": "bob@example.com"}}]),
        400,
    )
    .await;
    assert!(
        refused.message().contains("not supported"),
        "{}",
        refused.message()
    );
    let (public, _) = create(&owner, &path, json!([]), 200).await;
    let reply = challenge(&server, &public, "bob@example.com").await;
    assert_refused(&reply, 503, "cannot mail codes");
    // A plain SMTP server elsewhere than on this machine is refused at start.
    let mut config = server.config.clone();
    config.smtp_url = Some("smtp://mail.example.com:25".parse().unwrap());
    config.smtp_from = Some("s@example.com".into());
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("in clear"), "{err}");
    server.shutdown().await;
}

/// A server mailing through `smtp_url`, a share for bob@example.com, and his code request
/// (answered `202` whatever becomes of the mail).
async fn bob_asks_for_a_code(smtp_url: String) -> (TestServer, Session) {
    let server = common::start_with(move |config| {
        config.smtp_url = Some(smtp_url.parse().unwrap());
        config.smtp_from = Some(FROM.into());
    })
    .await;
    let (owner, path) = item(&server).await;
    owner
        .put(
            "/v1/share-policy",
            policy(json!(["Authenticated"]), json!(["Email"])),
        )
        .await;
    let (share, _) = create(
        &owner,
        &path,
        json!([{"type": "Email", "parameters": {"email": "bob@example.com"}}]),
        200,
    )
    .await;
    let asked = challenge(&server, &share, "bob@example.com").await;
    assert_eq!(asked.status, 202, "{:?}", asked.body);
    (server, owner)
}

/// Waits until the audit trail records that the code mail failed.
async fn mail_failure_is_audited(owner: &Session, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while outcomes(owner, "share.code_mail").await != ["server"] {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: no share.code_mail failure recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_mail_that_cannot_be_sent_is_in_the_audit_trail_and_the_answer_is_the_same() {
    // An SMTP address where nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://{}", closed.local_addr().unwrap());
    drop(closed);
    let (server, owner) = bob_asks_for_a_code(url).await;
    mail_failure_is_audited(&owner, "closed port").await;
    assert_eq!(outcomes(&owner, "share.challenge").await, ["ok"]);
    server.shutdown().await;
}

#[tokio::test]
async fn tls_settings_never_fall_back_to_plain_smtp() {
    // The sink offers neither TLS nor STARTTLS: a server told to use either sends nothing.
    for scheme in ["smtps", "smtp+starttls"] {
        let sink = SmtpSink::start().await;
        let (server, owner) = bob_asks_for_a_code(format!("{scheme}://{}", sink.addr)).await;
        mail_failure_is_audited(&owner, scheme).await;
        assert!(sink.mails().is_empty(), "{scheme}: {:?}", sink.mails());
        server.shutdown().await;
    }
}
