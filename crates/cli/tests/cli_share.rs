//! `sesame item share` and `sesame share list|revoke|open|policy` against a real server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../server/tests/common/smtp_sink.rs"]
mod smtp_sink;
mod support;

use serde_json::Value;
use smtp_sink::SmtpSink;
use support::{run, Fixture, Server};

fn json(out: &support::Run) -> Value {
    assert_eq!(out.code, Some(0), "{out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"))
}

#[tokio::test]
async fn item_share_prints_a_link_that_opens_once_and_can_be_listed_and_revoked() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");

    let table = cli(&[
        "item",
        "share",
        "Postgres",
        "--vault",
        "Infra",
        "--view-once",
    ]);
    assert_eq!(table.code, Some(0), "{table:?}");
    let link = table.stdout.trim().to_owned();
    assert!(link.starts_with(&format!("{}/s/", f.server.url)), "{link}");
    assert!(link.contains('#'), "{link}");

    // The link is the credential: `share open` needs no token.
    let opened = json(&run(
        f.server
            .cli_without_token()
            .args(["share", "open", &link, "--format", "json"]),
        "",
    ));
    assert_eq!(opened["title"], "Postgres");
    assert_eq!(opened["viewsLeft"], 0);
    let username = opened["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "username")
        .unwrap();
    assert_eq!(username["value"], "pg-user");
    let again = run(
        f.server.cli_without_token().args(["share", "open", &link]),
        "",
    );
    assert_eq!(again.code, Some(3), "not found: {again:?}");
    assert!(again.stderr.contains("already viewed"), "{again:?}");

    let created = json(&cli(&[
        "item",
        "share",
        "Postgres",
        "--vault",
        "Infra",
        "--expires-in",
        "1h",
        "--format",
        "json",
    ]));
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created["url"]
        .as_str()
        .unwrap()
        .contains(&format!("/s/{id}#")));
    let listed = json(&cli(&["share", "list", "--format", "json"]));
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["id"], id.as_str());
    let expires = time::OffsetDateTime::parse(
        listed[0]["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let created_at = time::OffsetDateTime::parse(
        listed[0]["createdAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!((expires - created_at).whole_seconds(), 3600);
    let table = cli(&["share", "list"]);
    assert!(
        table.stdout.starts_with("ID") && table.stdout.contains("used up"),
        "{table:?}"
    );

    assert_eq!(
        json(&cli(&["share", "revoke", &id, "--format", "json"]))["id"],
        id.as_str()
    );
    let gone = run(
        f.server
            .cli_without_token()
            .args(["share", "open", created["url"].as_str().unwrap()]),
        "",
    );
    assert_eq!(gone.code, Some(3));
    assert!(gone.stderr.contains("revoked"), "{gone:?}");
    assert!(cli(&["share", "list"]).stdout.contains("revoked"));
}

#[tokio::test]
async fn the_policy_is_shown_set_and_enforced_with_precise_exit_codes() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");

    let policy = json(&cli(&["share", "policy", "--format", "json"]));
    assert_eq!(policy["maxExpiry"], "ThirtyDays");
    let set = json(&cli(&[
        "share",
        "policy",
        "--max-expiry",
        "1d",
        "--default-expiry",
        "1h",
        "--max-views",
        "3",
        "--format",
        "json",
    ]));
    assert_eq!(
        (&set["maxExpiry"], &set["defaultExpiry"], &set["maxViews"]),
        (
            &Value::from("OneDay"),
            &Value::from("OneHour"),
            &Value::from(3)
        )
    );
    let table = cli(&["share", "policy"]);
    assert!(
        table.stdout.contains("max views") && table.stdout.contains('3'),
        "{table:?}"
    );

    let too_long = cli(&[
        "item",
        "share",
        "Postgres",
        "--vault",
        "Infra",
        "--expires-in",
        "7d",
    ]);
    assert_eq!(too_long.code, Some(2), "{too_long:?}");
    assert!(too_long.stderr.contains("OneDay"), "{too_long:?}");
    let bad = cli(&[
        "item",
        "share",
        "Postgres",
        "--vault",
        "Infra",
        "--expires-in",
        "2d",
    ]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("1h, 1d, 7d, 14d, 30d"), "{bad:?}");
    let recipients = cli(&[
        "item",
        "share",
        "Postgres",
        "--vault",
        "Infra",
        "--emails",
        "bob@example.com",
    ]);
    assert_eq!(recipients.code, Some(2), "{recipients:?}");
    assert!(recipients.stderr.contains("recipients"), "{recipients:?}");
    let misspelt = cli(&[
        "item", "share", "Postgres", "--vault", "Infra", "--emails", "bob@",
    ]);
    assert_eq!(misspelt.code, Some(2));
    assert!(misspelt.stderr.contains("recipient 1"), "{misspelt:?}");
    let policy_error = cli(&["share", "policy", "--default-expiry", "30d"]);
    assert_eq!(policy_error.code, Some(2), "{policy_error:?}");
    assert!(
        policy_error.stderr.contains("defaultExpiry"),
        "{policy_error:?}"
    );

    // The read-only service account: no SEND_ITEMS, and not the owner.
    let reader = run(
        f.server
            .cli(&f.sa_token)
            .args(["item", "share", "Postgres", "--vault", "Infra"]),
        "",
    );
    assert_eq!(reader.code, Some(4), "permission denied: {reader:?}");
    assert!(reader.stderr.contains("SEND_ITEMS"), "{reader:?}");
    let reader = run(
        f.server
            .cli(&f.sa_token)
            .args(["share", "policy", "--max-views", "1"]),
        "",
    );
    assert_eq!(reader.code, Some(4), "{reader:?}");
}

#[tokio::test]
async fn a_link_for_recipients_opens_with_the_code_mailed_to_them() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    // The server logs everything it would (debug), to a file the test reads at the end.
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let f = Fixture::with_server(Server::start_logging(
        &[
            ("SESAME_SMTP_URL", url.as_str()),
            ("SESAME_SMTP_FROM", "sesame@example.net"),
            ("SESAME_SMTP_USERNAME", "mailer"),
            ("SESAME_SMTP_PASSWORD", "smtp-pa55word"),
            ("SESAME_LOG", "debug"),
        ],
        log.into(),
    ))
    .await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");
    let policy = json(&cli(&[
        "share",
        "policy",
        "--recipients",
        "email",
        "--format",
        "json",
    ]));
    assert_eq!(
        policy["allowedTypes"],
        serde_json::json!(["Public", "Authenticated"])
    );
    assert_eq!(
        policy["allowedRecipientTypes"],
        serde_json::json!(["Email"])
    );
    let share = |extra: &[&str]| {
        let mut args = vec!["item", "share", "Postgres", "--vault", "Infra"];
        args.extend_from_slice(extra);
        let out = cli(&args);
        assert_eq!(out.code, Some(0), "{out:?}");
        out.stdout.trim().to_owned()
    };
    let domain = cli(&[
        "item",
        "share",
        "Postgres",
        "--vault",
        "Infra",
        "--emails",
        "example.com",
    ]);
    assert_eq!(domain.code, Some(2), "{domain:?}");
    assert!(domain.stderr.contains("a domain"), "{domain:?}");
    let link = share(&["--emails", "bob@example.com", "--view-once"]);

    // The link alone: a hint, no view.
    let bare = run(
        f.server.cli_without_token().args(["share", "open", &link]),
        "",
    );
    assert_eq!(bare.code, Some(5), "{bare:?}");
    assert!(bare.stderr.contains("--email"), "{bare:?}");

    // --email mails a code and reads it from stdin.
    let mut child = f
        .server
        .cli_without_token()
        .args([
            "share",
            "open",
            &link,
            "--email",
            "bob@example.com",
            "--format",
            "json",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let code = sink.wait_for("bob@example.com", 1).await.code();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{code}").unwrap();
    }
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let opened = json(&support::Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    });
    assert_eq!(opened["title"], "Postgres");
    assert_eq!(opened["viewsLeft"], 0);
    assert!(String::from_utf8_lossy(&output.stderr).contains("Enter the code"));

    // Or in two steps: --email alone asks for a code, --code opens with it.
    let link = share(&["--emails", "bob@example.com"]);
    let asked = run(
        f.server
            .cli_without_token()
            .args(["share", "open", &link, "--email", "bob@example.com"]),
        "",
    );
    assert_eq!(asked.code, Some(2), "{asked:?}");
    assert!(asked.stderr.contains("--code"), "{asked:?}");
    let code = sink.wait_for("bob@example.com", 2).await.code();
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let refused = run(
        f.server.cli_without_token().args([
            "share",
            "open",
            &link,
            "--email",
            "bob@example.com",
            "--code",
            &wrong,
        ]),
        "",
    );
    assert_eq!(refused.code, Some(4), "{refused:?}");
    assert!(refused.stderr.contains("4 tries left"), "{refused:?}");
    let opened = run(
        f.server.cli_without_token().args([
            "share",
            "open",
            &link,
            "--email",
            "bob@example.com",
            "--code",
            &code,
        ]),
        "",
    );
    assert_eq!(opened.code, Some(0), "{opened:?}");
    assert!(opened.stdout.contains("pg-user"), "{opened:?}");
    assert_eq!(sink.mails().len(), 2);

    let policy = json(&cli(&[
        "share",
        "policy",
        "--no-recipients",
        "--format",
        "json",
    ]));
    assert_eq!(policy["allowedTypes"], serde_json::json!(["Public"]));

    // The server logged in to the SMTP server for each mail, with the configured account.
    let logins = sink.logins();
    assert_eq!(logins.len(), 2, "{logins:?}");
    assert!(logins
        .iter()
        .all(|(user, password)| user == "mailer" && password == "smtp-pa55word"));

    // Nothing the server logged holds an address, a code or the SMTP password.
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("listening"), "the log was captured: {log}");
    for secret in [
        "bob@example.com",
        "smtp-pa55word",
        code.as_str(),
        wrong.as_str(),
    ] {
        assert!(
            !log.contains(secret),
            "{secret:?} in the server's log:\n{log}"
        );
    }
}
