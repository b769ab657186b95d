//! `sesame item share` and `sesame share list|revoke|open|policy` against a real server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::{run, Fixture};

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
