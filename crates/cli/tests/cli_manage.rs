//! `sesame vault`, `item` and `service-account` against a real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use support::{run, Fixture};

fn json(out: &support::Run) -> Value {
    assert_eq!(out.code, Some(0), "{out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic_json(&out.stdout, e))
}

#[allow(clippy::panic)]
fn panic_json(text: &str, e: serde_json::Error) -> Value {
    panic!("not JSON ({e}): {text}")
}

#[tokio::test]
async fn vaults_list_get_create_edit_grant_revoke_delete() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");

    let list = json(&cli(&["vault", "list", "--format", "json"]));
    assert_eq!(list[0]["title"], "Infra");
    assert_eq!(list[0]["id"], f.vault_id.as_str());
    assert_eq!(list[0]["activeItemCount"], 1);
    let table = cli(&["vault", "list"]);
    assert!(
        table.stdout.starts_with("ID") && table.stdout.contains("Infra"),
        "{table:?}"
    );
    assert!(
        !table.stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );

    let created = json(&cli(&[
        "vault",
        "create",
        "Staging",
        "--description",
        "pre-prod",
        "--format",
        "json",
    ]));
    assert_eq!(created["title"], "Staging");
    assert_eq!(created["description"], "pre-prod");
    let edited = json(&cli(&[
        "vault", "edit", "Staging", "--title", "Stage", "--format", "json",
    ]));
    assert_eq!(edited["title"], "Stage");
    assert_eq!(edited["id"], created["id"]);

    let granted = json(&cli(&[
        "vault",
        "grant",
        "Stage",
        "ci-reader",
        "--permissions",
        "read,write",
        "--format",
        "json",
    ]));
    assert_eq!(granted["accessorUuid"], f.sa_id.as_str());
    let got = json(&cli(&["vault", "get", "Stage", "--format", "json"]));
    let access = got["access"].as_array().unwrap();
    assert!(
        access.iter().any(|a| a["accessorUuid"] == f.sa_id.as_str()),
        "{got}"
    );
    let sa = run(
        f.server
            .cli(&f.sa_token)
            .args(["vault", "list", "--format", "json"]),
        "",
    );
    assert_eq!(json(&sa).as_array().unwrap().len(), 2);

    let revoked = cli(&["vault", "revoke", "Stage", &f.sa_id]);
    assert_eq!(revoked.code, Some(0), "{revoked:?}");
    let sa = run(
        f.server
            .cli(&f.sa_token)
            .args(["vault", "list", "--format", "json"]),
        "",
    );
    assert_eq!(json(&sa).as_array().unwrap().len(), 1);

    // A read-only service account may not create vaults' items: exit 4.
    let denied = run(
        f.server
            .cli(&f.sa_token)
            .args(["item", "create", "--vault", "Infra", "--title", "X", "a=b"]),
        "",
    );
    assert_eq!(denied.code, Some(4), "{denied:?}");

    let deleted = cli(&["vault", "delete", "Stage"]);
    assert_eq!(deleted.code, Some(0), "{deleted:?}");
    assert_eq!(cli(&["vault", "get", "Stage"]).code, Some(3));
    assert_eq!(cli(&["vault", "edit", "Infra"]).code, Some(2));
    assert_eq!(
        cli(&[
            "vault",
            "grant",
            "Infra",
            "ci-reader",
            "--permissions",
            "fly"
        ])
        .code,
        Some(2)
    );
}

#[tokio::test]
async fn items_create_get_edit_list_archive_delete() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");

    let created = json(&cli(&[
        "item",
        "create",
        "--vault",
        "Infra",
        "--title",
        "Redis",
        "--category",
        "database",
        "--tags",
        "prod,cache",
        "username=app",
        r"admin.host[url]=redis\=1",
        "admin.port=6379",
        "--generate-password=letters,digits,24",
        "--format",
        "json",
    ]));
    assert_eq!(created["title"], "Redis");
    assert_eq!(created["category"], "Database");
    assert_eq!(created["vaultId"], f.vault_id.as_str());
    let fields = created["fields"].as_array().unwrap();
    let by_title = |t: &str| fields.iter().find(|x| x["title"] == t).unwrap().clone();
    assert_eq!(by_title("username")["value"], "app");
    assert_eq!(by_title("host")["fieldType"], "Url");
    assert_eq!(
        by_title("host")["value"],
        "redis\\=1",
        "the value is taken as written"
    );
    assert_eq!(by_title("host")["sectionId"], "admin");
    let password = by_title("password")["value"].as_str().unwrap().to_owned();
    assert_eq!(password.len(), 24);
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));

    // The table conceals, --reveal shows.
    let table = cli(&["item", "get", "Redis", "--vault", "Infra"]);
    assert!(
        table.stdout.contains("concealed") && !table.stdout.contains(&password),
        "{table:?}"
    );
    let revealed = cli(&["item", "get", "Redis", "--vault", "Infra", "--reveal"]);
    assert!(revealed.stdout.contains(&password));

    // Every field's reference, and each resolves to the field's value.
    let refs = json(&cli(&[
        "item",
        "get",
        "Redis",
        "--vault",
        "Infra",
        "--references",
        "--format",
        "json",
    ]));
    let refs = refs.as_array().unwrap();
    assert_eq!(refs.len(), 4);
    let host = refs.iter().find(|r| r["title"] == "host").unwrap();
    assert_eq!(host["reference"], "op://Infra/Redis/admin/host");
    for r in refs {
        let reference = r["reference"].as_str().unwrap();
        let read = cli(&["read", "-n", reference]);
        assert_eq!(read.code, Some(0), "{reference}: {read:?}");
    }
    assert_eq!(
        cli(&["read", "-n", "op://Infra/Redis/password"]).stdout,
        password
    );

    // Edit: replace, add, delete, retitle.
    let edited = json(&cli(&[
        "item",
        "edit",
        "Redis",
        "--vault",
        "Infra",
        "--title",
        "Redis main",
        "username=svc",
        "username2[email]=a@b.c",
        "admin.port[delete]=",
        "--format",
        "json",
    ]));
    assert_eq!(edited["title"], "Redis main");
    assert_eq!(edited["version"], 2);
    let fields = edited["fields"].as_array().unwrap();
    assert!(fields
        .iter()
        .any(|x| x["title"] == "username" && x["value"] == "svc"));
    assert!(fields
        .iter()
        .any(|x| x["title"] == "username2" && x["fieldType"] == "Email"));
    assert!(!fields.iter().any(|x| x["title"] == "port"));

    let list = json(&cli(&[
        "item", "list", "--vault", "Infra", "--format", "json",
    ]));
    let titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Postgres", "Redis main"]);
    let list = json(&cli(&[
        "item", "list", "--vault", "Infra", "--tags", "cache", "--format", "json",
    ]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    let list = json(&cli(&[
        "item",
        "list",
        "--vault",
        "Infra",
        "--categories",
        "login",
        "--format",
        "json",
    ]));
    assert_eq!(list.as_array().unwrap().len(), 0);

    assert_eq!(
        cli(&["item", "archive", "Redis main", "--vault", "Infra"]).code,
        Some(0)
    );
    let list = json(&cli(&[
        "item", "list", "--vault", "Infra", "--format", "json",
    ]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    let list = json(&cli(&[
        "item",
        "list",
        "--vault",
        "Infra",
        "--include-archived",
        "--format",
        "json",
    ]));
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        cli(&["item", "delete", "Redis main", "--vault", "Infra"]).code,
        Some(0)
    );
    assert_eq!(
        cli(&["item", "get", "Redis main", "--vault", "Infra"]).code,
        Some(3)
    );
    assert_eq!(
        cli(&["item", "create", "--vault", "Infra", "--title", "x", "bad"]).code,
        Some(2)
    );
}

#[tokio::test]
async fn service_accounts_create_list_rotate_revoke() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");

    let created = json(&cli(&[
        "service-account",
        "create",
        "deployer",
        "--vault",
        "Infra:read",
        "--vault",
        &format!(
            "{}:READ_ITEMS,REVEAL_ITEM_PASSWORD,CREATE_ITEMS",
            f.vault_id
        ),
        "--expires-in",
        "30d",
        "--format",
        "json",
    ]));
    assert_eq!(created["name"], "deployer");
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("sesame_sa_"));
    assert_eq!(
        created.as_object().unwrap().len(),
        3,
        "exactly id, name, token"
    );

    // The new token works, with the granted access.
    let token = secrecy::SecretString::from(token);
    let read = run(
        f.server
            .cli(&token)
            .args(["read", "op://Infra/Postgres/password"]),
        "",
    );
    assert_eq!(read.stdout, "pg-top\n", "{read:?}");

    // The table form prints the token alone on stdout.
    let plain = cli(&[
        "service-account",
        "create",
        "other",
        "--vault",
        "Infra:read",
    ]);
    assert_eq!(plain.code, Some(0), "{plain:?}");
    assert!(plain.stdout.trim().starts_with("sesame_sa_") && plain.stdout.lines().count() == 1);
    assert!(plain.stderr.contains("only this once"));

    let list = json(&cli(&["service-account", "list", "--format", "json"]));
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"deployer") && names.contains(&"ci-reader"),
        "{names:?}"
    );
    assert!(cli(&["service-account", "list"])
        .stdout
        .contains("deployer"));

    let rotated = json(&cli(&[
        "service-account",
        "rotate",
        "deployer",
        "--format",
        "json",
    ]));
    let new_token = secrecy::SecretString::from(rotated["token"].as_str().unwrap().to_owned());
    assert_eq!(
        run(f.server.cli(&token).arg("whoami"), "").code,
        Some(5),
        "old token dead"
    );
    assert_eq!(
        run(f.server.cli(&new_token).arg("whoami"), "").code,
        Some(0)
    );

    assert_eq!(
        cli(&["service-account", "revoke", "deployer"]).code,
        Some(0)
    );
    assert_eq!(
        run(f.server.cli(&new_token).arg("whoami"), "").code,
        Some(5)
    );
    assert_eq!(
        cli(&["service-account", "create", "x", "--vault", "Infra"]).code,
        Some(2)
    );
    assert_eq!(
        cli(&["service-account", "create", "x", "--vault", "Nope:read"]).code,
        Some(3)
    );
    // Only the owner manages service accounts.
    let denied = run(
        f.server.cli(&f.sa_token).args(["service-account", "list"]),
        "",
    );
    assert_eq!(denied.code, Some(4), "{denied:?}");
}

#[tokio::test]
async fn events_show_the_audit_trail_to_the_owner_only() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let read = run(
        f.server
            .cli(&f.sa_token)
            .args(["read", "op://Infra/Postgres/password"]),
        "",
    );
    assert_eq!(read.code, Some(0));
    let page = json(&run(
        f.server.cli(&owner).args(["events", "--format", "json"]),
        "",
    ));
    let events = page["events"].as_array().unwrap();
    assert_eq!(events[0]["seq"], 1);
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"vault.create"), "{actions:?}");
    assert!(
        events.iter().any(|e| e["principalId"] == f.sa_id.as_str()),
        "{page}"
    );
    let paged = json(&run(
        f.server
            .cli(&owner)
            .args(["events", "--after", "1", "--limit", "2", "--format", "json"]),
        "",
    ));
    assert_eq!(paged["events"][0]["seq"], 2);
    assert_eq!(paged["nextCursor"], 3);
    let table = run(f.server.cli(&owner).arg("events"), "");
    assert!(
        table.stdout.starts_with("SEQ") && table.stdout.contains("vault.create"),
        "{table:?}"
    );
    let denied = run(f.server.cli(&f.sa_token).arg("events"), "");
    assert_eq!(denied.code, Some(4), "{denied:?}");
}

/// Drops the append-only guards of the audit trail, as someone holding the database can.
async fn drop_audit_guards(db: &sqlx::SqlitePool) {
    for trigger in [
        "audit_events_no_delete",
        "audit_events_no_update",
        "audit_head_only_grows",
        "audit_checkpoints_no_delete",
    ] {
        sqlx::query(&format!("DROP TRIGGER IF EXISTS {trigger}"))
            .execute(db)
            .await
            .unwrap();
    }
}

/// The number in `text` right before `words`.
fn count_before(text: &str, words: &str) -> u64 {
    let head = &text[..text.find(words).unwrap_or_else(|| panic_text(text, words))];
    let digits: String = head
        .trim_end()
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

#[allow(clippy::panic)]
fn panic_text(text: &str, words: &str) -> usize {
    panic!("{words:?} not in {text:?}")
}

#[tokio::test]
async fn events_checkpoint_signs_the_head_and_counts_what_follows_it() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");
    let first = cli(&["events"]);
    assert_eq!(first.code, Some(0), "{first:?}");
    assert!(
        first.stderr.contains("none signed by the owner yet"),
        "{first:?}"
    );
    let signed = cli(&["events", "checkpoint", "--format", "json"]);
    let checkpoint = json(&signed);
    let at = checkpoint["seq"].as_u64().unwrap();
    let after = cli(&["events"]);
    assert_eq!(after.code, Some(0), "{after:?}");
    assert!(
        after
            .stderr
            .contains(&format!("newest checkpoint is at event {at}")),
        "{after:?}"
    );
    // The events since: the checkpoint request itself, then this run's authentication and
    // reads, all chained after the signed head.
    let unsigned = count_before(
        &after.stderr,
        "events after it are chained but not yet signed",
    );
    let total = count_before(&after.stderr, "events; the owner's newest checkpoint");
    assert_eq!(total - at, unsigned);
    assert!(unsigned >= 3, "{after:?}");
    let (ok, out) = f.server.audit_verify();
    assert!(
        ok && out.contains(&format!("checkpoint is at event {at}")),
        "{out}"
    );
    // The client API reports the same.
    let verification = f.owner.verify_events(None).await.unwrap();
    assert_eq!(verification.checkpoint.unwrap().seq, at);
    assert_eq!(verification.unsigned, verification.events - at);
    // A service account can neither check nor sign.
    let denied = run(f.server.cli(&f.sa_token).args(["events", "checkpoint"]), "");
    assert_eq!(denied.code, Some(4), "{denied:?}");
}

#[tokio::test]
async fn a_rewritten_trail_passes_server_verify_but_not_the_owners_checkpoint() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");
    let checkpoint = json(&cli(&["events", "checkpoint", "--format", "json"]));
    let at = checkpoint["seq"].as_u64().unwrap();

    // Someone with the database rewrites event 2, re-hashes every later event, moves the
    // persisted head and deletes the checkpoint: a chain that is valid in itself.
    let db = f.server.database().await;
    drop_audit_guards(&db).await;
    let page = f.owner.events(0, 1000).await.unwrap();
    let mut events = page.events;
    events[1].outcome = "permission_denied".into();
    let mut prev = events[0].hash.clone();
    for event in &mut events[1..] {
        event.prev_hash = prev;
        event.hash = sesame_core::audit::event_hash(event);
        prev = event.hash.clone();
        sqlx::query("UPDATE audit_events SET outcome = ?, prev_hash = ?, hash = ? WHERE seq = ?")
            .bind(&event.outcome)
            .bind(&event.prev_hash)
            .bind(&event.hash)
            .bind(event.seq as i64)
            .execute(&db)
            .await
            .unwrap();
    }
    let last = events.last().unwrap();
    for (sql, seq) in [
        ("DELETE FROM audit_events WHERE seq > ?", last.seq),
        ("DELETE FROM audit_checkpoints WHERE seq >= ?", 0),
    ] {
        sqlx::query(sql)
            .bind(seq as i64)
            .execute(&db)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE audit_head SET seq = ?, hash = ?")
        .bind(last.seq as i64)
        .bind(&last.hash)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let (ok, out) = f.server.audit_verify();
    assert!(ok, "the database agrees with itself: {out}");

    // The owner's CLI remembers the checkpoint it signed, and catches it.
    let caught = cli(&["events"]);
    assert_eq!(caught.code, Some(8), "{caught:?}");
    assert!(
        caught.stderr.contains("checkpoints were deleted"),
        "{caught:?}"
    );
    // Without that memory, the server's checkpoint catches the rewrite as long as the
    // checkpoint row is left in place.
    let db = f.server.database().await;
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, signature, created_at) VALUES (?, ?, ?, 0)",
    )
    .bind(at as i64)
    .bind(checkpoint["hash"].as_str().unwrap())
    .bind(checkpoint["signature"].as_str().unwrap())
    .execute(&db)
    .await
    .unwrap();
    db.close().await;
    let err = f.owner.verify_events(None).await.unwrap_err();
    assert_eq!(err.code(), sesame_core::ErrorCode::Integrity);
    assert!(
        err.to_string()
            .contains(&format!("event {at} is not the event the owner signed")),
        "{err}"
    );
}

#[tokio::test]
async fn deleting_the_newest_events_is_caught_by_server_verify_and_by_events() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");
    let checkpoint = json(&cli(&["events", "checkpoint", "--format", "json"]));
    let at = checkpoint["seq"].as_u64().unwrap();
    let db = f.server.database().await;
    drop_audit_guards(&db).await;
    sqlx::query("DELETE FROM audit_events WHERE seq >= ?")
        .bind(at as i64 - 1)
        .execute(&db)
        .await
        .unwrap();
    let (ok, out) = f.server.audit_verify();
    assert!(!ok && out.contains("persisted head"), "{out}");
    // The client sees the checkpoint beyond the end of the trail it is served (or the gap
    // its own requests leave after the persisted head).
    let err = f.owner.verify_events(None).await.unwrap_err();
    assert_eq!(err.code(), sesame_core::ErrorCode::Integrity, "{err}");

    // Also rewriting the persisted head and deleting the checkpoint (and the events the
    // check above appended) fools the database's own check, not the owner's CLI, which
    // remembers the checkpoint it signed.
    for sql in [
        "DELETE FROM audit_checkpoints WHERE seq >= ?",
        "DELETE FROM audit_events WHERE seq >= ?",
    ] {
        sqlx::query(sql)
            .bind(at as i64 - 1)
            .execute(&db)
            .await
            .unwrap();
    }
    let kept: (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_one(&db)
            .await
            .unwrap();
    sqlx::query("UPDATE audit_head SET seq = ?, hash = ?")
        .bind(kept.0)
        .bind(&kept.1)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let (ok, out) = f.server.audit_verify();
    assert!(ok, "{out}");
    let caught = cli(&["events"]);
    assert_eq!(caught.code, Some(8), "{caught:?}");
    assert!(
        caught.stderr.contains("checkpoints were deleted"),
        "{caught:?}"
    );
}

/// Issue 9, point 1: an item that does not decrypt and a vault whose grant does not verify
/// are warned about once, on stderr only, with the command that removes each; both are
/// removed by id, and everything else works meanwhile.
#[tokio::test]
async fn unreadable_records_are_warned_about_once_and_removed_by_id() {
    let f = Fixture::new().await;
    let db = f.server.database().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");
    let planted = f
        .owner
        .items()
        .create(support::login(&f.vault_id, "Planted", "x"))
        .await
        .unwrap()
        .id;
    sqlx::query("UPDATE items SET overview = randomblob(80) WHERE id = ?")
        .bind(&planted)
        .execute(&db)
        .await
        .unwrap();
    let trap = f
        .owner
        .vaults()
        .create(sesame_core::model::VaultCreateParams::new("Trap"))
        .await
        .unwrap()
        .id;
    f.owner
        .vaults()
        .grant(
            &trap,
            &f.sa_id,
            sesame_core::model::permissions::READ_ITEMS
                | sesame_core::model::permissions::REVEAL_ITEM_PASSWORD,
        )
        .await
        .unwrap();
    // 64 zero bytes: a well-formed signature that does not verify.
    sqlx::query(
        "UPDATE vault_access SET grant_signature = ? WHERE vault_id = ? AND principal_id = ?",
    )
    .bind("A".repeat(86))
    .bind(&trap)
    .bind(f.owner.principal().unwrap().id.as_str())
    .execute(&db)
    .await
    .unwrap();

    let list = cli(&["item", "list", "--vault", &f.vault_id, "--format", "json"]);
    let items = json(&list);
    assert_eq!(items.as_array().unwrap().len(), 1, "{list:?}");
    assert_eq!(items[0]["title"], "Postgres");
    assert!(!list.stdout.contains("warning"), "{list:?}");
    assert_eq!(list.stderr.matches("warning:").count(), 2, "{list:?}");
    let item_warning = format!(
        "warning: vault {}: item {planted} cannot be decrypted",
        f.vault_id
    );
    assert!(list.stderr.contains(&item_warning), "{list:?}");
    let delete = format!("sesame item delete {planted} --vault {}", f.vault_id);
    assert!(list.stderr.contains(&delete), "{list:?}");
    assert!(list
        .stderr
        .contains(&format!("warning: vault {trap} cannot be opened")));
    assert!(list.stderr.contains(&format!("sesame vault leave {trap}")));
    let read = cli(&["read", &format!("op://{}/Postgres/password", f.vault_id)]);
    assert_eq!(
        (read.code, read.stdout.trim()),
        (Some(0), "pg-top"),
        "{read:?}"
    );

    let deleted = cli(&["item", "delete", &planted, "--vault", &f.vault_id]);
    assert_eq!(deleted.code, Some(0), "{deleted:?}");
    let left = cli(&["vault", "leave", &trap]);
    assert_eq!(left.code, Some(0), "{left:?}");
    let after = cli(&["vault", "list"]);
    assert_eq!(after.code, Some(0), "{after:?}");
    assert!(!after.stderr.contains("warning"), "{after:?}");
    // Left, the vault is no longer a bad grant; the owner still lists it among the
    // account's vaults (point 2), plainly as one it has no key for, and can delete it.
    let row = after
        .stdout
        .lines()
        .find(|l| l.contains(&trap))
        .unwrap_or("");
    assert!(
        row.contains("<unreadable: no key for this vault"),
        "{after:?}"
    );
    let gone = cli(&["vault", "delete", &trap]);
    assert_eq!(gone.code, Some(0), "{gone:?}");
    assert!(!cli(&["vault", "list"]).stdout.contains(&trap));
}

#[tokio::test]
async fn vault_rights_on_the_command_line() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");

    // READ_ITEMS alone is a usage error naming the rule, before any request.
    let refused = cli(&[
        "service-account",
        "create",
        "half",
        "--vault",
        "Infra:READ_ITEMS",
    ]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("REVEAL_ITEM_PASSWORD must be included with READ_ITEMS"),
        "{refused:?}"
    );

    let created = json(&cli(&[
        "service-account",
        "create",
        "ci",
        "--vault",
        "Infra:read",
        "--can-create-vaults",
        "--format",
        "json",
    ]));
    let token: secrecy::SecretString = created["token"].as_str().unwrap().to_owned().into();
    let ci = |args: &[&str]| run(f.server.cli(&token).args(args), "");
    let made = json(&ci(&["vault", "create", "CI scratch", "--format", "json"]));
    let made_id = made["id"].as_str().unwrap().to_owned();

    // The owner sees it, unreadable, and says why.
    let table = cli(&["vault", "list"]);
    assert!(
        table.stdout.contains(&format!(
            "<unreadable: no key for this vault: it was created by {} and not shared with you>",
            created["id"].as_str().unwrap()
        )),
        "{table:?}"
    );
    let rights = json(&cli(&[
        "service-account",
        "rights",
        "ci",
        "--format",
        "json",
    ]));
    assert_eq!(rights["canCreateVaults"], true);
    let off = cli(&[
        "service-account",
        "rights",
        "ci",
        "--can-create-vaults",
        "false",
    ]);
    assert!(off.stdout.contains("may not create vaults"), "{off:?}");
    let denied = ci(&["vault", "create", "Another"]);
    assert_ne!(denied.code, Some(0));
    assert!(
        denied.stderr.contains("may not create vaults"),
        "{denied:?}"
    );

    // The owner deletes the vault it cannot read, by id.
    let deleted = cli(&["vault", "delete", &made_id]);
    assert_eq!(deleted.code, Some(0), "{deleted:?}");
    let list = json(&cli(&["vault", "list", "--format", "json"]));
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

/// One rule for names, written once in the core client: `sesame item get` and `sesame
/// read op://…` pick the same vault and item for the same text, ids exactly and names
/// ignoring case by Unicode lowercase, and both report the same ambiguity (no preference
/// for an exact spelling).
#[tokio::test]
async fn commands_and_references_match_names_by_the_same_rule() {
    let f = Fixture::new().await;
    let owner = f.server.owner_token().clone();
    let cli = |args: &[&str]| run(f.server.cli(&owner).args(args), "");
    let vault = f
        .owner
        .vaults()
        .create(sesame_core::model::VaultCreateParams::new(
            "Ünïcode Dätabase",
        ))
        .await
        .unwrap()
        .id;
    let items = f.owner.items();
    let unicode = items
        .create(support::login(&vault, "Ünïcode Dätabase", "u-pass"))
        .await
        .unwrap()
        .id;

    // Non-ASCII names, found by their lowercase spelling both ways.
    let got = json(&cli(&[
        "item",
        "get",
        "ünïcode dätabase",
        "--vault",
        "ünïcode dätabase",
        "--format",
        "json",
    ]));
    assert_eq!(got["id"], unicode.as_str());
    assert_eq!(got["vaultId"], vault.as_str());
    let read = cli(&["read", "op://ünïcode dätabase/ünïcode dätabase/password"]);
    assert_eq!(
        (read.code, read.stdout.as_str()),
        (Some(0), "u-pass\n"),
        "{read:?}"
    );
    let shown = json(&cli(&[
        "vault",
        "get",
        "ÜNÏCODE DÄTABASE",
        "--format",
        "json",
    ]));
    assert_eq!(shown["id"], vault.as_str());

    // Two titles that fold to the same lowercase: ambiguous both ways, with the same ids
    // and the same message, whichever spelling is given.
    let upper = items
        .create(support::login(&vault, "Ärger", "one"))
        .await
        .unwrap()
        .id;
    let lower = items
        .create(support::login(&vault, "ärger", "two"))
        .await
        .unwrap()
        .id;
    let mut ids = [upper.clone(), lower.clone()];
    ids.sort();
    let candidates = format!("({}, {})", ids[0], ids[1]);
    for spelling in ["ärger", "Ärger", "ÄRGER"] {
        let get = cli(&["item", "get", spelling, "--vault", &vault]);
        let read = cli(&["read", &format!("op://{vault}/{spelling}/password")]);
        for out in [&get, &read] {
            assert_eq!(out.code, Some(2), "{out:?}");
            assert!(out.stderr.contains("is ambiguous"), "{out:?}");
            assert!(out.stderr.contains(&candidates), "{out:?}");
        }
        assert_eq!(get.stderr, read.stderr);
    }
    // Archived, one no longer counts: both pick the other.
    items.archive(&vault, &upper).await.unwrap();
    let got = json(&cli(&[
        "item", "get", "ÄRGER", "--vault", &vault, "--format", "json",
    ]));
    assert_eq!(got["id"], lower.as_str());
    let read = cli(&["read", &format!("op://{vault}/ÄRGER/password")]);
    assert_eq!(read.stdout, "two\n", "{read:?}");
    // An archived item is still found by id, or by a title no active item has.
    items.archive(&vault, &lower).await.unwrap();
    let got = json(&cli(&[
        "item", "get", &upper, "--vault", &vault, "--format", "json",
    ]));
    assert_eq!(got["id"], upper.as_str());
    let get = cli(&["item", "get", "ärger", "--vault", &vault]);
    assert_eq!(get.code, Some(2), "two archived ones: {get:?}");
    assert!(get.stderr.contains(&candidates), "{get:?}");
    let read = cli(&["read", &format!("op://{vault}/ärger/password")]);
    assert_eq!(read.code, Some(3), "archived items never resolve: {read:?}");

    // Vaults too: two vaults whose names fold together are ambiguous in both.
    let second = f
        .owner
        .vaults()
        .create(sesame_core::model::VaultCreateParams::new(
            "ünïcode DÄTABASE",
        ))
        .await
        .unwrap()
        .id;
    let mut vaults = [vault.clone(), second];
    vaults.sort();
    let candidates = format!("({}, {})", vaults[0], vaults[1]);
    let get = cli(&["item", "list", "--vault", "Ünïcode Dätabase"]);
    let read = cli(&["read", "op://Ünïcode Dätabase/Ünïcode Dätabase/password"]);
    for out in [&get, &read] {
        assert_eq!(out.code, Some(2), "{out:?}");
        assert!(out.stderr.contains(&candidates), "{out:?}");
    }

    // And service accounts.
    let created = json(&cli(&[
        "service-account",
        "create",
        "über-bot",
        "--format",
        "json",
    ]));
    let rights = cli(&["service-account", "rights", "ÜBER-BOT"]);
    assert_eq!(rights.code, Some(0), "{rights:?}");
    assert!(
        rights
            .stdout
            .contains(created["id"].as_str().unwrap_or("<no id>")),
        "{rights:?}"
    );
}
