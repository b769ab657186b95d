//! Against a real PostgreSQL: `SESAME_TEST_POSTGRES` holds an admin URL (e.g.
//! `postgres://postgres@127.0.0.1:54391/postgres`); each test makes its own database
//! and drops it. Without the variable they return at once. The HTTP suite covers the
//! behaviour in depth; these cover connecting and what concurrency could break.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sesame_core::model::permissions::{
    ARCHIVE_ITEMS, CREATE_ITEMS, DELETE_ITEMS, MANAGE_VAULT, READ_ITEMS, UPDATE_ITEMS,
};
use sesame_core::model::ItemState;

use super::*;

/// A database of its own on the test cluster, dropped by [`TestDb::drop_db`].
struct TestDb {
    admin: String,
    name: String,
    url: String,
}

impl TestDb {
    async fn create() -> Option<Self> {
        let admin = std::env::var("SESAME_TEST_POSTGRES")
            .ok()
            .filter(|url| !url.is_empty())?;
        let name = format!("sesame_unit_{}", Id::generate().as_str());
        let mut conn = PgConnection::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        Some(Self {
            admin,
            name,
            url: url.to_string(),
        })
    }

    async fn drop_db(self) {
        let mut conn = PgConnection::connect(&self.admin).await.unwrap();
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

fn event(principal: &Id, action: &str, vault: Option<&Id>, requires: u32) -> EventRecord {
    EventRecord {
        principal_id: Some(*principal),
        action: action.to_owned(),
        vault_id: vault.copied(),
        item_id: None,
        outcome: "ok".to_owned(),
        integration_name: "unit".to_owned(),
        integration_version: "1".to_owned(),
        requires,
    }
}

fn new_principal(id: Id, kind: PrincipalKind) -> NewPrincipal {
    NewPrincipal {
        id,
        name: format!("{kind:?}"),
        kind,
        signing_public_key: "sign".to_owned(),
        encryption_public_key: "encrypt".to_owned(),
        expires_at: None,
        certificate: "cert".to_owned(),
        can_create_vaults: false,
    }
}

fn wrapped() -> WrappedVaultKey {
    WrappedVaultKey {
        encapsulated_key: [7; 32],
        ciphertext: vec![1, 2, 3],
    }
}

fn create_request(id: Id) -> ItemCreateRequest {
    ItemCreateRequest {
        id,
        state: ItemState::Active,
        overview: Ciphertext(vec![1]),
        details: Ciphertext(vec![2]),
        files: Vec::new(),
    }
}

fn update_request(expected_version: u32, byte: u8) -> ItemUpdateRequest {
    ItemUpdateRequest {
        expected_version,
        state: ItemState::Active,
        overview: Ciphertext(vec![byte]),
        details: Ciphertext(vec![byte]),
        files: Vec::new(),
    }
}

#[tokio::test]
async fn an_unreachable_database_is_retried_then_named_without_its_password() {
    // Port 1 refuses at once: every attempt fails fast, the patience bounds the wait.
    let started = std::time::Instant::now();
    let err = open(
        "postgres://sesame:hunter2secret@127.0.0.1:1/vaultdb",
        true,
        Duration::from_millis(900),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(started.elapsed() >= Duration::from_millis(600), "retried");
    assert!(err.contains("\"vaultdb\" at 127.0.0.1:1"), "{err}");
    assert!(!err.contains("hunter2secret"), "{err}");
    let err = connect("mysql://nope", true).await.unwrap_err().to_string();
    assert!(err.starts_with("invalid configuration"), "{err}");
}

#[tokio::test]
async fn the_schema_is_checked_unless_migrated() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let err = connect(&db.url, false).await.unwrap_err().to_string();
    assert_eq!(
        err,
        "database error: the database schema is not current (0 of 2 migrations applied): \
         run `sesame server migrate --database-url …` with a role that may change the \
         schema"
    );
    let store = connect(&db.url, true).await.unwrap();
    store.close().await;
    let store = connect(&db.url, false).await.unwrap();
    store.ping().await.unwrap();
    let timeout: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(timeout, "1min");
    // What `clear_session_secret` runs after its update (outside a transaction).
    sqlx::query("VACUUM account")
        .execute(&store.pool)
        .await
        .unwrap();
    // Migrating again is a no-op.
    connect(&db.url, true).await.unwrap().close().await;
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn the_store_keeps_its_contract_under_concurrency() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = connect(&db.url, true).await.unwrap();
    let (account, owner, sa) = (Id::generate(), Id::generate(), Id::generate());
    let owner_new = new_principal(owner, PrincipalKind::Owner);
    let init = event(&owner, "account.init", None, 0);
    store
        .initialize(&account, b"secret", &owner_new, &init)
        .await
        .unwrap();
    let again = store
        .initialize(&Id::generate(), b"secret", &owner_new, &init)
        .await
        .unwrap_err();
    assert_eq!(again.code().as_str(), "conflict", "{again}");
    assert_eq!(again.message(), "the server already has an account");

    // A vault, a service account and its grant.
    let vault = Id::generate();
    let all = MANAGE_VAULT
        | READ_ITEMS
        | CREATE_ITEMS
        | UPDATE_ITEMS
        | DELETE_ITEMS
        | ARCHIVE_ITEMS
        | sesame_core::model::permissions::REVEAL_ITEM_PASSWORD;
    let request = VaultCreateRequest {
        id: vault,
        attributes: Ciphertext(vec![9]),
        wrapped_key: wrapped(),
        signature: "sig".to_owned(),
    };
    let created = store
        .create_vault(
            &owner,
            &request,
            all,
            &event(&owner, "vault.create", None, 0),
        )
        .await
        .unwrap();
    assert_eq!(created.permissions, all);
    let taken = store
        .create_vault(
            &owner,
            &request,
            all,
            &event(&owner, "vault.create", None, 0),
        )
        .await
        .unwrap_err();
    assert_eq!(taken.code().as_str(), "conflict");
    store
        .create_principal(
            &owner,
            &new_principal(sa, PrincipalKind::ServiceAccount),
            &[],
            &event(&owner, "principal.create", None, 0),
        )
        .await
        .unwrap();
    let writer = READ_ITEMS | CREATE_ITEMS | UPDATE_ITEMS | DELETE_ITEMS;
    let grant = event(&owner, "vault.grant", Some(&vault), MANAGE_VAULT);
    store
        .grant(
            &vault,
            &sa,
            writer,
            &owner,
            Some((&wrapped(), "sig")),
            &grant,
        )
        .await
        .unwrap();
    assert_eq!(store.permissions(&vault, &sa).await.unwrap(), Some(writer));

    // Items: create (twice: conflict), compare-and-set, delete, sync.
    let create = event(&sa, "item.create", Some(&vault), CREATE_ITEMS);
    let item = Id::generate();
    let first = store
        .create_item(&vault, &create_request(item), &create)
        .await
        .unwrap();
    assert_eq!((first.version, first.content_version), (1, 1));
    let dup = store
        .create_item(&vault, &create_request(item), &create)
        .await
        .unwrap_err();
    assert_eq!(dup.code().as_str(), "conflict", "{dup}");
    let update = event(&sa, "item.update", Some(&vault), UPDATE_ITEMS);
    let second = store
        .put_item(&vault, &item, &update_request(1, 5), false, &update)
        .await
        .unwrap();
    assert_eq!((second.version, second.content_version), (2, 2));
    let stale = store
        .put_item(&vault, &item, &update_request(1, 6), false, &update)
        .await
        .unwrap_err();
    assert_eq!(stale.code().as_str(), "conflict");
    assert!(
        stale.message().starts_with(&format!(
            "item {item} is at version 2, but the update is based on version 1"
        )),
        "{stale}"
    );
    // Two writers of the same expected version: exactly one wins.
    let racers: Vec<_> = (0..8u8)
        .map(|n| {
            let (store, update) = (store.clone(), update.clone());
            tokio::spawn(async move {
                store
                    .put_item(&vault, &item, &update_request(2, n), false, &update)
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(record) => {
                won += 1;
                assert_eq!(record.version, 3);
            }
            Err(err) => {
                assert_eq!(err.code().as_str(), "conflict", "{err}");
                assert!(err.message().contains("is at version 3"), "{err}");
            }
        }
    }
    assert_eq!(won, 1);
    // Concurrent creates: every content version is taken once, in order.
    let creators: Vec<_> = (0..16)
        .map(|_| {
            let (store, create) = (store.clone(), create.clone());
            tokio::spawn(async move {
                store
                    .create_item(&vault, &create_request(Id::generate()), &create)
                    .await
                    .unwrap()
                    .content_version
            })
        })
        .collect();
    let mut versions = Vec::new();
    for creator in creators {
        versions.push(creator.await.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (4..20).collect::<Vec<u64>>());
    let delete = event(&sa, "item.delete", Some(&vault), DELETE_ITEMS);
    store.delete_item(&vault, &item, &delete).await.unwrap();
    assert!(store.item(&vault, &item).await.unwrap().is_none());
    let changes = store.changes_since(&vault, 19, true).await.unwrap();
    assert_eq!(changes.content_version, 20);
    assert!(changes.items.is_empty());
    assert_eq!(changes.deleted.len(), 1);
    assert_eq!(
        (changes.deleted[0].id, changes.deleted[0].content_version),
        (item, 20)
    );
    let gone = store.delete_item(&vault, &item, &delete).await.unwrap_err();
    assert_eq!(gone.code().as_str(), "not_found");

    // Reads' events, group-committed, and one unbroken chain.
    let before = store.audit_head().await.unwrap().seq;
    let readers: Vec<_> = (0..100)
        .map(|_| {
            let store = store.clone();
            let read = event(&sa, "item.list", Some(&vault), 0);
            tokio::spawn(async move { store.append_event(&read).await })
        })
        .collect();
    for reader in readers {
        reader.await.unwrap().unwrap();
    }
    let head = store.audit_head().await.unwrap();
    assert_eq!(head.seq, before + 100);
    let report = crate::audit::verify(&store).await.unwrap();
    assert!(report.intact(), "{report:?}");
    assert_eq!(report.events, head.seq);

    // Each auth nonce once, across concurrent attempts too.
    let auth = event(&sa, "auth", None, 0);
    assert!(store
        .use_auth_nonce(&sa, "nonce-1", 2_000_000_000, 1_000, &auth)
        .await
        .unwrap());
    assert!(!store
        .use_auth_nonce(&sa, "nonce-1", 2_000_000_000, 1_000, &auth)
        .await
        .unwrap());
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let (store, auth) = (store.clone(), auth.clone());
            tokio::spawn(async move {
                store
                    .use_auth_nonce(&sa, "nonce-2", 2_000_000_000, 1_000, &auth)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut accepted = 0;
    for attempt in attempts {
        accepted += usize::from(attempt.await.unwrap());
    }
    assert_eq!(accepted, 1);

    // The grant is checked again inside the write: lowered, then revoked.
    store
        .grant(&vault, &sa, READ_ITEMS, &owner, None, &grant)
        .await
        .unwrap();
    let denied = store
        .create_item(&vault, &create_request(Id::generate()), &create)
        .await
        .unwrap_err();
    assert_eq!(denied.code().as_str(), "permission_denied", "{denied}");
    let revoke = event(&owner, "vault.revoke", Some(&vault), MANAGE_VAULT);
    store.revoke_grant(&vault, &sa, &revoke).await.unwrap();
    let refused = store
        .create_item(&vault, &create_request(Id::generate()), &create)
        .await
        .unwrap_err();
    assert_eq!(refused.code().as_str(), "not_found", "{refused}");
    let again = store.revoke_grant(&vault, &sa, &revoke).await.unwrap_err();
    assert_eq!(again.code().as_str(), "not_found");

    // The trail refuses changes.
    let edit = sqlx::query("UPDATE audit_events SET outcome = 'x' WHERE seq = 1")
        .execute(&store.pool)
        .await
        .unwrap_err();
    assert!(
        edit.to_string().contains("the audit trail is append-only"),
        "{edit}"
    );
    assert!(crate::audit::verify(&store).await.unwrap().intact());

    store.close().await;
    db.drop_db().await;
}

/// The ids of [`transcript`], the same for both backends so that messages match.
struct Ids {
    account: Id,
    owner: Id,
    sa: Id,
    sa2: Id,
    vault: Id,
    vault2: Id,
    item: Id,
    item2: Id,
    file: Id,
    file2: Id,
    share: Id,
    share2: Id,
}

impl Ids {
    fn new() -> Self {
        Self {
            account: Id::generate(),
            owner: Id::generate(),
            sa: Id::generate(),
            sa2: Id::generate(),
            vault: Id::generate(),
            vault2: Id::generate(),
            item: Id::generate(),
            item2: Id::generate(),
            file: Id::generate(),
            file2: Id::generate(),
            share: Id::generate(),
            share2: Id::generate(),
        }
    }
}

/// One line per call: what the projection shows of a success, or the error's code
/// and message.
fn note<T>(
    log: &mut Vec<String>,
    what: &str,
    result: StoreResult<T>,
    show: impl FnOnce(&T) -> String,
) -> Option<T> {
    match result {
        Ok(value) => {
            log.push(format!("{what}: ok {}", show(&value)));
            Some(value)
        }
        Err(err) => {
            log.push(format!("{what}: {err}"));
            None
        }
    }
}

fn share_line(share: &ItemShare) -> String {
    format!(
        "{} {} {} {:?} {} {} revoked={}",
        share.id,
        share.item_id,
        share.created_by,
        share.max_views,
        share.views,
        share.has_files,
        share.revoked_at.is_some()
    )
}

fn opening_line(opening: &ShareOpening) -> String {
    match opening {
        ShareOpening::Opened { share, item, files } => {
            format!("opened {} {item:?} {files:?}", share_line(share))
        }
        other => format!("{other:?}"),
    }
}

/// Calls every method of the [`Store`] contract, successes and failures, and notes
/// what each returned (times left out: they differ between runs).
async fn transcript<S: Store>(store: &S, ids: &Ids, now: OffsetDateTime) -> Vec<String> {
    use crate::store::CodeProof;

    let log = &mut Vec::new();
    let ev = |who: &Id, action: &str, vault: Option<&Id>, requires: u32| {
        event(who, action, vault, requires)
    };
    let o = &ids.owner;
    note(log, "account", store.account().await, |a| {
        format!("{:?}", a.as_ref().map(|a| a.id))
    });
    let init = ev(o, "init", None, 0);
    let owner_new = new_principal(*o, PrincipalKind::Owner);
    note(
        log,
        "init",
        store
            .initialize(&ids.account, b"key", &owner_new, &init)
            .await,
        |_| String::new(),
    );
    note(
        log,
        "init again",
        store.initialize(&ids.sa, b"key", &owner_new, &init).await,
        |_| String::new(),
    );
    note(log, "account", store.account().await, |a| {
        format!(
            "{:?}",
            a.as_ref().map(|a| (a.id, a.session_secret.to_vec()))
        )
    });
    let show_principal = |p: &Principal| {
        format!(
            "{} {:?} {} {} {} {:?} revoked={} {}",
            p.id,
            p.kind,
            p.name,
            p.key_generation,
            p.signing_public_key,
            p.certificate,
            p.revoked_at.is_some(),
            p.can_create_vaults
        )
    };
    note(log, "owner", store.owner().await, show_principal);

    // Vaults.
    let all = MANAGE_VAULT
        | READ_ITEMS
        | CREATE_ITEMS
        | UPDATE_ITEMS
        | DELETE_ITEMS
        | ARCHIVE_ITEMS
        | sesame_core::model::permissions::REVEAL_ITEM_PASSWORD;
    for (vault, what) in [
        (&ids.vault, "vault"),
        (&ids.vault, "vault again"),
        (&ids.vault2, "vault2"),
    ] {
        let request = VaultCreateRequest {
            id: *vault,
            attributes: Ciphertext(vec![1]),
            wrapped_key: wrapped(),
            signature: "sig".into(),
        };
        note(
            log,
            what,
            store
                .create_vault(o, &request, all, &ev(o, "vault.create", None, 0))
                .await,
            |v| {
                format!(
                    "{} {} {} {}",
                    v.id, v.permissions, v.attribute_version, v.content_version
                )
            },
        );
    }

    // Principals and grants.
    let mut sa_new = new_principal(ids.sa, PrincipalKind::ServiceAccount);
    sa_new.can_create_vaults = true;
    let create = ev(o, "principal.create", None, 0);
    note(
        log,
        "sa",
        store.create_principal(o, &sa_new, &[], &create).await,
        show_principal,
    );
    note(
        log,
        "sa again",
        store.create_principal(o, &sa_new, &[], &create).await,
        show_principal,
    );
    let grant_on = |vault: &Id, permissions: u32| VaultGrant {
        vault_id: *vault,
        permissions,
        wrapped_key: wrapped(),
        signature: "sig".into(),
    };
    let sa2_new = new_principal(ids.sa2, PrincipalKind::ServiceAccount);
    note(
        log,
        "sa2 on unknown vault",
        store
            .create_principal(o, &sa2_new, &[grant_on(&ids.item, READ_ITEMS)], &create)
            .await,
        show_principal,
    );
    note(
        log,
        "sa2 by sa",
        store
            .create_principal(
                &ids.sa,
                &sa2_new,
                &[grant_on(&ids.vault, READ_ITEMS)],
                &create,
            )
            .await,
        show_principal,
    );
    note(
        log,
        "sa2",
        store
            .create_principal(o, &sa2_new, &[grant_on(&ids.vault, READ_ITEMS)], &create)
            .await,
        show_principal,
    );
    note(log, "principals", store.principals().await, |ps| {
        let mut lines: Vec<String> = ps.iter().map(|p| p.id.to_string()).collect();
        lines.sort();
        lines.join(",")
    });
    let manage = ev(o, "vault.grant", Some(&ids.vault), MANAGE_VAULT);
    let writer = MANAGE_VAULT | READ_ITEMS | CREATE_ITEMS | UPDATE_ITEMS | DELETE_ITEMS;
    let key = wrapped();
    note(
        log,
        "grant unknown",
        store
            .grant(
                &ids.vault,
                &ids.item,
                writer,
                o,
                Some((&key, "sig")),
                &manage,
            )
            .await,
        |r| format!("{r:?}"),
    );
    note(
        log,
        "grant without key",
        store
            .grant(&ids.vault, &ids.sa, writer, o, None, &manage)
            .await,
        |r| format!("{r:?}"),
    );
    note(
        log,
        "grant",
        store
            .grant(&ids.vault, &ids.sa, writer, o, Some((&key, "sig")), &manage)
            .await,
        |r| format!("{r:?}"),
    );
    let by_sa = ev(&ids.sa, "vault.grant", Some(&ids.vault), MANAGE_VAULT);
    note(
        log,
        "lower the owner",
        store
            .grant(&ids.vault, o, READ_ITEMS, &ids.sa, None, &by_sa)
            .await,
        |r| format!("{r:?}"),
    );
    note(
        log,
        "grant by non-member",
        store
            .grant(
                &ids.vault2,
                &ids.sa2,
                READ_ITEMS,
                &ids.sa,
                Some((&key, "sig")),
                &ev(&ids.sa, "vault.grant", Some(&ids.vault2), MANAGE_VAULT),
            )
            .await,
        |r| format!("{r:?}"),
    );
    note(
        log,
        "permissions",
        store.permissions(&ids.vault, &ids.sa).await,
        |p| format!("{p:?}"),
    );
    note(log, "members", store.vault_members(&ids.vault).await, |m| {
        let mut lines: Vec<String> = m.iter().map(|r| format!("{r:?}")).collect();
        lines.sort();
        lines.join(",")
    });
    note(log, "vault", store.vault(&ids.vault, &ids.sa).await, |v| {
        format!(
            "{:?}",
            v.as_ref().map(|v| (
                v.id,
                v.permissions,
                v.granted_by,
                v.grant_signature.clone(),
                v.wrapped_key.clone()
            ))
        )
    });
    note(log, "vaults", store.vaults(&ids.sa).await, |vs| {
        format!("{:?}", vs.iter().map(|v| v.id).collect::<Vec<_>>())
    });
    note(
        log,
        "account vaults",
        store.account_vaults(&ids.sa).await,
        |vs| {
            let mut lines: Vec<String> = vs
                .iter()
                .map(|v| {
                    format!(
                        "{} {:?} {} {}",
                        v.id, v.created_by, v.active_item_count, v.member
                    )
                })
                .collect();
            lines.sort();
            lines.join(",")
        },
    );
    let update = ev(&ids.sa, "vault.update", Some(&ids.vault), MANAGE_VAULT);
    for what in ["update vault", "update vault again"] {
        note(
            log,
            what,
            store
                .update_vault(&ids.vault, &ids.sa, 1, &Ciphertext(vec![2]), &update)
                .await,
            |v| format!("{} {:?}", v.attribute_version, v.attributes),
        );
    }

    // Blobs and items.
    let upload = ev(&ids.sa, "file.upload", Some(&ids.vault), UPDATE_ITEMS);
    let blob = |file: &Id, item: &Id| BlobKey {
        vault: ids.vault,
        item: *item,
        file: *file,
    };
    note(
        log,
        "blob",
        store
            .add_blob(&blob(&ids.file, &ids.item), 10, &upload)
            .await,
        |_| String::new(),
    );
    note(
        log,
        "blob retried",
        store
            .add_blob(&blob(&ids.file, &ids.item), 11, &upload)
            .await,
        |_| String::new(),
    );
    note(
        log,
        "blob other item",
        store
            .add_blob(&blob(&ids.file, &ids.item2), 11, &upload)
            .await,
        |_| String::new(),
    );
    let create_item = ev(&ids.sa, "item.create", Some(&ids.vault), CREATE_ITEMS);
    let mut request = create_request(ids.item);
    request.files = vec![ids.file2];
    note(
        log,
        "item missing file",
        store.create_item(&ids.vault, &request, &create_item).await,
        |i| format!("{}", i.version),
    );
    request.files = vec![ids.file];
    let show_item = |i: &ItemRecord| {
        format!(
            "{} {} {:?} {} {:?} {:?}",
            i.id, i.version, i.state, i.content_version, i.overview, i.details
        )
    };
    note(
        log,
        "item",
        store.create_item(&ids.vault, &request, &create_item).await,
        show_item,
    );
    note(
        log,
        "item again",
        store.create_item(&ids.vault, &request, &create_item).await,
        show_item,
    );
    note(
        log,
        "item2",
        store
            .create_item(&ids.vault, &create_request(ids.item2), &create_item)
            .await,
        show_item,
    );
    note(
        log,
        "item in unknown vault",
        store
            .create_item(
                &ids.item,
                &create_request(ids.item2),
                &ev(o, "item.create", None, 0),
            )
            .await,
        show_item,
    );
    let put = ev(&ids.sa, "item.update", Some(&ids.vault), UPDATE_ITEMS);
    let mut archive = update_request(1, 3);
    archive.state = ItemState::Archived;
    note(
        log,
        "archive unallowed",
        store
            .put_item(&ids.vault, &ids.item, &archive, false, &put)
            .await,
        show_item,
    );
    note(
        log,
        "put",
        store
            .put_item(&ids.vault, &ids.item, &update_request(1, 4), false, &put)
            .await,
        show_item,
    );
    note(
        log,
        "put stale",
        store
            .put_item(&ids.vault, &ids.item, &update_request(1, 5), false, &put)
            .await,
        show_item,
    );
    note(
        log,
        "put missing",
        store
            .put_item(&ids.vault, &ids.file, &update_request(1, 5), false, &put)
            .await,
        show_item,
    );
    note(log, "blob state", store.blob(&ids.file).await, |b| {
        format!("{b:?}")
    });
    note(
        log,
        "forget attached",
        store.forget_blob(&blob(&ids.file, &ids.item)).await,
        |b| format!("{b}"),
    );
    note(
        log,
        "garbage",
        store.blob_garbage(now + time::Duration::hours(1)).await,
        |g| format!("{g:?}"),
    );
    note(
        log,
        "item read",
        store.item(&ids.vault, &ids.item).await,
        |i| format!("{:?}", i.as_ref().map(show_item)),
    );
    note(
        log,
        "items",
        store
            .items(&ids.vault, &[ids.item2, ids.file, ids.item])
            .await,
        |is| {
            format!(
                "{:?}",
                is.iter()
                    .map(|i| i.as_ref().map(show_item))
                    .collect::<Vec<_>>()
            )
        },
    );
    for details in [false, true] {
        note(
            log,
            "changes",
            store.changes_since(&ids.vault, 1, details).await,
            |c| {
                format!(
                    "{} {:?} {:?}",
                    c.content_version,
                    c.items.iter().map(show_item).collect::<Vec<_>>(),
                    c.deleted
                )
            },
        );
    }
    note(
        log,
        "changes unknown",
        store.changes_since(&ids.item, 0, false).await,
        |c| format!("{}", c.content_version),
    );

    // Shares.
    note(log, "policy", store.share_policy().await, |p| {
        format!("{p:?}")
    });
    let policy = ItemShareAccountPolicy {
        max_views: Some(7),
        ..Default::default()
    };
    note(
        log,
        "set policy",
        store
            .set_share_policy(&policy, &ev(o, "policy", None, 0))
            .await,
        |_| String::new(),
    );
    note(log, "policy", store.share_policy().await, |p| {
        format!("{p:?}")
    });
    let share_of =
        |id: &Id, item: &Id, max_views, recipients: Vec<sesame_core::model::ValidRecipient>| {
            NewShare {
                id: *id,
                vault: ids.vault,
                item: *item,
                created_by: ids.sa,
                access_hash: [3; 32],
                created_at: now,
                expires_at: now + time::Duration::hours(1),
                max_views,
                recipients,
                item_ciphertext: vec![8, 8],
                files_ciphertext: Some(vec![9]),
            }
        };
    let share_ev = ev(&ids.sa, "share.create", Some(&ids.vault), READ_ITEMS);
    note(
        log,
        "share",
        store
            .create_share(&share_of(&ids.share, &ids.item, Some(2), vec![]), &share_ev)
            .await,
        share_line,
    );
    note(
        log,
        "share again",
        store
            .create_share(&share_of(&ids.share, &ids.item, Some(2), vec![]), &share_ev)
            .await,
        share_line,
    );
    note(
        log,
        "share of missing",
        store
            .create_share(&share_of(&ids.share2, &ids.file, None, vec![]), &share_ev)
            .await,
        share_line,
    );
    let open = ev(o, "share.open", None, 0);
    note(
        log,
        "open wrong",
        store
            .open_share(&ids.share, &[4; 32], None, now, &open)
            .await,
        opening_line,
    );
    for _ in 0..3 {
        note(
            log,
            "open",
            store
                .open_share(&ids.share, &[3; 32], None, now, &open)
                .await,
            opening_line,
        );
    }
    note(log, "share read", store.share(&ids.share).await, |s| {
        format!("{:?}", s.as_ref().map(share_line))
    });
    let bob = sesame_core::model::ValidRecipient::parse("bob@example.com").unwrap();
    note(
        log,
        "share2",
        store
            .create_share(
                &share_of(&ids.share2, &ids.item, None, vec![bob]),
                &share_ev,
            )
            .await,
        share_line,
    );
    note(log, "shares by", store.shares_by(&ids.sa).await, |ss| {
        let mut lines: Vec<String> = ss.iter().map(share_line).collect();
        lines.sort();
        lines.join(",")
    });
    let challenge = |email: &str, mac: u8| ShareChallenge {
        share: ids.share2,
        access_hash: [3; 32],
        email: email.into(),
        email_mac: [mac; 32],
        code_mac: [mac + 1; 32],
        decoy_mac: [0; 32],
        now,
        expires_at: now + time::Duration::minutes(10),
        attempts: 2,
        limits: vec![(60, 3)],
    };
    let challenge_ev = ev(o, "share.challenge", None, 0);
    note(
        log,
        "challenge restricted?",
        store
            .challenge_share(
                &ShareChallenge {
                    share: ids.share,
                    ..challenge("bob@example.com", 10)
                },
                &challenge_ev,
            )
            .await,
        |c| format!("{c:?}"),
    );
    note(
        log,
        "challenge bob",
        store
            .challenge_share(&challenge("bob@example.com", 10), &challenge_ev)
            .await,
        |c| format!("{c:?}"),
    );
    note(
        log,
        "challenge eve",
        store
            .challenge_share(&challenge("eve@example.com", 20), &challenge_ev)
            .await,
        |c| format!("{c:?}"),
    );
    let proof = |email: &str, mac: u8, code: u8| CodeProof {
        email: email.into(),
        email_mac: [mac; 32],
        code_mac: [code; 32],
    };
    note(
        log,
        "open no proof",
        store
            .open_share(&ids.share2, &[3; 32], None, now, &open)
            .await,
        opening_line,
    );
    note(
        log,
        "open never sent",
        store
            .open_share(
                &ids.share2,
                &[3; 32],
                Some(&proof("carol@example.com", 30, 31)),
                now,
                &open,
            )
            .await,
        opening_line,
    );
    note(
        log,
        "open wrong code",
        store
            .open_share(
                &ids.share2,
                &[3; 32],
                Some(&proof("bob@example.com", 10, 99)),
                now,
                &open,
            )
            .await,
        opening_line,
    );
    note(
        log,
        "open eve",
        store
            .open_share(
                &ids.share2,
                &[3; 32],
                Some(&proof("eve@example.com", 20, 21)),
                now,
                &open,
            )
            .await,
        opening_line,
    );
    note(
        log,
        "open bob",
        store
            .open_share(
                &ids.share2,
                &[3; 32],
                Some(&proof("bob@example.com", 10, 11)),
                now,
                &open,
            )
            .await,
        opening_line,
    );
    note(
        log,
        "open bob again",
        store
            .open_share(
                &ids.share2,
                &[3; 32],
                Some(&proof("bob@example.com", 10, 11)),
                now,
                &open,
            )
            .await,
        opening_line,
    );
    note(
        log,
        "challenge limited",
        store
            .challenge_share(&challenge("bob@example.com", 10), &challenge_ev)
            .await,
        |c| format!("{c:?}"),
    );
    note(
        log,
        "challenge limited again",
        store
            .challenge_share(&challenge("bob@example.com", 10), &challenge_ev)
            .await,
        |c| format!("{c:?}"),
    );
    note(
        log,
        "revoke share",
        store
            .revoke_share(
                &ids.share2,
                &ev(&ids.sa, "share.revoke", Some(&ids.vault), 0),
            )
            .await,
        |_| String::new(),
    );
    note(
        log,
        "open revoked",
        store
            .open_share(&ids.share2, &[3; 32], None, now, &open)
            .await,
        opening_line,
    );
    note(
        log,
        "open expired",
        store
            .open_share(
                &ids.share,
                &[3; 32],
                None,
                now + time::Duration::hours(2),
                &open,
            )
            .await,
        opening_line,
    );

    // Deleting.
    let delete = ev(&ids.sa, "item.delete", Some(&ids.vault), DELETE_ITEMS);
    note(
        log,
        "delete",
        store.delete_item(&ids.vault, &ids.item, &delete).await,
        |_| String::new(),
    );
    note(
        log,
        "delete again",
        store.delete_item(&ids.vault, &ids.item, &delete).await,
        |_| String::new(),
    );
    note(log, "blob detached", store.blob(&ids.file).await, |b| {
        format!("{b:?}")
    });
    note(
        log,
        "changes",
        store.changes_since(&ids.vault, 0, false).await,
        |c| format!("{} {} {:?}", c.content_version, c.items.len(), c.deleted),
    );
    note(
        log,
        "share revoked with item",
        store.share(&ids.share).await,
        |s| format!("{:?}", s.as_ref().map(share_line)),
    );

    // Rate limits, rights, rotation, revocation.
    let limits = RateLimitSettings {
        reads: Some(5),
        writes: None,
    };
    let limit_ev = ev(o, "limits", None, 0);
    note(
        log,
        "limits",
        store.set_rate_limits(&ids.sa, &limits, &limit_ev).await,
        |_| String::new(),
    );
    note(
        log,
        "limits owner",
        store.set_rate_limits(o, &limits, &limit_ev).await,
        |_| String::new(),
    );
    note(
        log,
        "limits unknown",
        store.set_rate_limits(&ids.item, &limits, &limit_ev).await,
        |_| String::new(),
    );
    note(log, "limits read", store.rate_limits().await, |l| {
        format!("{l:?}")
    });
    let rights = ServiceAccountRights {
        can_create_vaults: false,
    };
    note(
        log,
        "rights",
        store
            .set_principal_rights(&ids.sa, &rights, &limit_ev)
            .await,
        show_principal,
    );
    note(
        log,
        "rights owner",
        store.set_principal_rights(o, &rights, &limit_ev).await,
        show_principal,
    );
    let rotate = ev(o, "principal.rotate", None, 0);
    let rotate_grants = [grant_on(&ids.vault, READ_ITEMS)];
    note(
        log,
        "rotate",
        store
            .rotate_principal(o, &ids.sa, 2, "s2", "e2", "c2", &rotate_grants, &rotate)
            .await,
        show_principal,
    );
    note(
        log,
        "rotate stale",
        store
            .rotate_principal(o, &ids.sa, 2, "s3", "e3", "c3", &rotate_grants, &rotate)
            .await,
        show_principal,
    );
    note(
        log,
        "rotate owner",
        store
            .rotate_principal(o, o, 2, "s3", "e3", "c3", &[], &rotate)
            .await,
        show_principal,
    );
    note(
        log,
        "rotate raising",
        store
            .rotate_principal(
                &ids.sa2,
                &ids.sa2,
                2,
                "s3",
                "e3",
                "c3",
                &[grant_on(&ids.vault, writer)],
                &rotate,
            )
            .await,
        show_principal,
    );
    note(
        log,
        "permissions after rotation",
        store.permissions(&ids.vault, &ids.sa).await,
        |p| format!("{p:?}"),
    );
    let revoke = ev(o, "principal.revoke", None, 0);
    note(
        log,
        "revoke",
        store.revoke_principal(&ids.sa, &revoke).await,
        |_| String::new(),
    );
    note(
        log,
        "revoke owner",
        store.revoke_principal(o, &revoke).await,
        |_| String::new(),
    );
    note(
        log,
        "rotate revoked",
        store
            .rotate_principal(o, &ids.sa, 3, "s", "e", "c", &[], &rotate)
            .await,
        show_principal,
    );
    note(
        log,
        "rights revoked",
        store
            .set_principal_rights(&ids.sa, &rights, &limit_ev)
            .await,
        show_principal,
    );
    note(
        log,
        "limits revoked",
        store.set_rate_limits(&ids.sa, &limits, &limit_ev).await,
        |_| String::new(),
    );
    note(
        log,
        "grant revoked",
        store
            .grant(
                &ids.vault,
                &ids.sa,
                READ_ITEMS,
                o,
                Some((&key, "sig")),
                &manage,
            )
            .await,
        |r| format!("{r:?}"),
    );
    let revoke_grant = ev(o, "vault.revoke", Some(&ids.vault), MANAGE_VAULT);
    note(
        log,
        "revoke grant",
        store
            .revoke_grant(&ids.vault, &ids.sa2, &revoke_grant)
            .await,
        |_| String::new(),
    );
    note(
        log,
        "revoke grant again",
        store
            .revoke_grant(&ids.vault, &ids.sa2, &revoke_grant)
            .await,
        |_| String::new(),
    );

    // Auth nonces, events, the head and checkpoints.
    let auth = ev(o, "auth", None, 0);
    for what in ["nonce", "nonce replay"] {
        note(
            log,
            what,
            store.use_auth_nonce(o, "n1", 100, 50, &auth).await,
            |b| format!("{b}"),
        );
    }
    note(
        log,
        "nonce after expiry",
        store.use_auth_nonce(o, "n1", 200, 150, &auth).await,
        |b| format!("{b}"),
    );
    note(
        log,
        "read event",
        store.append_event(&ev(o, "vault.list", None, 0)).await,
        |_| String::new(),
    );
    note(
        log,
        "failure event",
        store
            .append_event(&ev(o, "item.get", Some(&ids.vault), READ_ITEMS))
            .await,
        |_| String::new(),
    );
    let events = note(log, "events", store.events(0, 1000).await, |es| {
        format!(
            "{:?}",
            es.iter()
                .map(|e| (
                    e.seq,
                    e.action.clone(),
                    e.outcome.clone(),
                    e.principal_id,
                    e.vault_id,
                    e.item_id
                ))
                .collect::<Vec<_>>()
        )
    })
    .unwrap_or_default();
    note(log, "events page", store.events(3, 2).await, |es| {
        format!("{:?}", es.iter().map(|e| e.seq).collect::<Vec<_>>())
    });
    let third = events.get(2).cloned().unwrap();
    let checkpoint = |hash: &str| AuditCheckpoint {
        seq: third.seq,
        hash: hash.into(),
        signature: "sig".into(),
    };
    let cp = ev(o, "audit.checkpoint", None, 0);
    note(
        log,
        "checkpoint wrong",
        store.add_audit_checkpoint(&checkpoint("00"), &cp).await,
        |b| format!("{b}"),
    );
    note(
        log,
        "checkpoint",
        store
            .add_audit_checkpoint(&checkpoint(&third.hash), &cp)
            .await,
        |b| format!("{b}"),
    );
    note(
        log,
        "checkpoint again",
        store
            .add_audit_checkpoint(&checkpoint(&third.hash), &cp)
            .await,
        |b| format!("{b}"),
    );
    note(log, "head", store.audit_head().await, |h| {
        format!("{} {:?}", h.seq, h.checkpoint.as_ref().map(|c| c.seq))
    });

    // The vault goes; the key leaves the database.
    let drop_vault = ev(o, "vault.delete", Some(&ids.vault), MANAGE_VAULT);
    note(
        log,
        "delete vault",
        store.delete_vault(&ids.vault, &drop_vault).await,
        |_| String::new(),
    );
    note(
        log,
        "delete vault again",
        store.delete_vault(&ids.vault, &drop_vault).await,
        |_| String::new(),
    );
    note(log, "blob after vault", store.blob(&ids.file2).await, |b| {
        format!("{b:?}")
    });
    note(
        log,
        "garbage after vault",
        store.blob_garbage(now).await,
        |g| format!("{g:?}"),
    );
    note(
        log,
        "forget",
        store.forget_blob(&blob(&ids.file, &ids.item)).await,
        |b| format!("{b}"),
    );
    note(
        log,
        "share after vault",
        store.share(&ids.share2).await,
        |s| format!("{:?}", s.as_ref().map(share_line)),
    );
    note(
        log,
        "clear secret",
        store.clear_session_secret().await,
        |_| String::new(),
    );
    note(log, "account", store.account().await, |a| {
        format!(
            "{:?}",
            a.as_ref().map(|a| (a.id, a.session_secret.to_vec()))
        )
    });
    log.clone()
}

#[tokio::test]
async fn every_call_answers_as_on_sqlite() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let ids = Ids::new();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = crate::store::sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    // Whole milliseconds, as stored.
    let now = from_ms(now_ms());
    let expected = transcript(&sqlite, &ids, now).await;
    let pg = connect(&db.url, true).await.unwrap();
    let got = transcript(&pg, &ids, now).await;
    for (want, have) in expected.iter().zip(&got) {
        assert_eq!(want, have);
    }
    assert_eq!(expected.len(), got.len());
    // Both chains intact up to the checkpoint, whose made-up signature both refuse.
    let (want, have) = (
        crate::audit::verify(&sqlite).await.unwrap(),
        crate::audit::verify(&pg).await.unwrap(),
    );
    assert_eq!(want, have);
    assert!(
        have.first_broken
            .as_ref()
            .is_some_and(|(_, why)| why.contains("does not verify")),
        "{have:?}"
    );
    sqlite.close().await;
    pg.close().await;
    db.drop_db().await;
}

/// Replicas (stores with pools of their own) racing over the same rows: every call
/// answers as the contract says, none fails with a server error (a deadlock or a
/// unique violation surfacing), and the trail stays one chain.
#[tokio::test]
async fn replicas_racing_over_the_same_rows_never_fail() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(connect(&db.url, true).await.unwrap());
    }
    let store = &replicas[0];
    let (account, owner, sa, sa2) = (
        Id::generate(),
        Id::generate(),
        Id::generate(),
        Id::generate(),
    );
    let owner_event =
        move |action: &str, vault: Option<&Id>, requires| event(&owner, action, vault, requires);
    store
        .initialize(
            &account,
            b"k",
            &new_principal(owner, PrincipalKind::Owner),
            &owner_event("init", None, 0),
        )
        .await
        .unwrap();
    let all = MANAGE_VAULT | READ_ITEMS | CREATE_ITEMS | UPDATE_ITEMS | DELETE_ITEMS;
    let vault = Id::generate();
    let make_vault = |id: Id| VaultCreateRequest {
        id,
        attributes: Ciphertext(vec![1]),
        wrapped_key: wrapped(),
        signature: "sig".into(),
    };
    store
        .create_vault(
            &owner,
            &make_vault(vault),
            all,
            &owner_event("vault.create", None, 0),
        )
        .await
        .unwrap();
    for id in [sa, sa2] {
        store
            .create_principal(
                &owner,
                &new_principal(id, PrincipalKind::ServiceAccount),
                &[VaultGrant {
                    vault_id: vault,
                    permissions: all,
                    wrapped_key: wrapped(),
                    signature: "sig".into(),
                }],
                &owner_event("principal.create", None, 0),
            )
            .await
            .unwrap();
    }
    let hot = Id::generate();
    store
        .create_item(
            &vault,
            &create_request(hot),
            &event(&sa, "item.create", Some(&vault), CREATE_ITEMS),
        )
        .await
        .unwrap();
    let share = Id::generate();
    let now = OffsetDateTime::now_utc();
    store
        .create_share(
            &NewShare {
                id: share,
                vault,
                item: hot,
                created_by: sa,
                access_hash: [1; 32],
                created_at: now,
                expires_at: now + time::Duration::hours(1),
                max_views: Some(10),
                recipients: Vec::new(),
                item_ciphertext: vec![1],
                files_ciphertext: None,
            },
            &event(&sa, "share.create", Some(&vault), READ_ITEMS),
        )
        .await
        .unwrap();

    let mut workers = Vec::new();
    for worker in 0..16usize {
        let store = replicas[worker % replicas.len()].clone();
        workers.push(tokio::spawn(async move {
            let mut outcomes: Vec<(String, StoreResult<()>)> = Vec::new();
            let mut opened = 0;
            for round in 0..12usize {
                let who = if worker % 2 == 0 { sa } else { sa2 };
                let mine = Id::generate();
                let result = match (worker + round) % 8 {
                    0 | 1 => {
                        let version = store
                            .item(&vault, &hot)
                            .await
                            .unwrap()
                            .map_or(1, |i| i.version);
                        store
                            .put_item(
                                &vault,
                                &hot,
                                &update_request(version, round as u8),
                                false,
                                &event(&who, "item.update", Some(&vault), UPDATE_ITEMS),
                            )
                            .await
                            .map(drop)
                    }
                    2 => {
                        let create = event(&who, "item.create", Some(&vault), CREATE_ITEMS);
                        match store
                            .create_item(&vault, &create_request(mine), &create)
                            .await
                        {
                            Ok(_) => {
                                store
                                    .delete_item(
                                        &vault,
                                        &mine,
                                        &event(&who, "item.delete", Some(&vault), DELETE_ITEMS),
                                    )
                                    .await
                            }
                            Err(err) => Err(err),
                        }
                    }
                    3 => {
                        // The owner changes sa2's grant while sa2 writes.
                        let manage = event(&owner, "vault.grant", Some(&vault), MANAGE_VAULT);
                        if round % 2 == 0 {
                            store.revoke_grant(&vault, &sa2, &manage).await
                        } else {
                            store
                                .grant(
                                    &vault,
                                    &sa2,
                                    all,
                                    &owner,
                                    Some((&wrapped(), "sig")),
                                    &manage,
                                )
                                .await
                                .map(drop)
                        }
                    }
                    4 => match store
                        .open_share(
                            &share,
                            &[1; 32],
                            None,
                            OffsetDateTime::now_utc(),
                            &owner_event("share.open", None, 0),
                        )
                        .await
                    {
                        Ok(ShareOpening::Opened { .. }) => {
                            opened += 1;
                            Ok(())
                        }
                        Ok(_) => Ok(()),
                        Err(err) => Err(err),
                    },
                    5 => {
                        // A vault made and deleted while an item is written in it.
                        let temp = Id::generate();
                        store
                            .create_vault(
                                &owner,
                                &make_vault(temp),
                                all,
                                &owner_event("vault.create", None, 0),
                            )
                            .await
                            .unwrap();
                        let request = create_request(mine);
                        let create = event(&owner, "item.create", Some(&temp), CREATE_ITEMS);
                        let delete = event(&owner, "vault.delete", Some(&temp), MANAGE_VAULT);
                        let (a, b) = tokio::join!(
                            store.create_item(&temp, &request, &create),
                            store.delete_vault(&temp, &delete),
                        );
                        a.map(drop).and(b)
                    }
                    6 => store
                        .use_auth_nonce(
                            &who,
                            &format!("n{}", round % 3),
                            4_000_000_000,
                            1,
                            &event(&who, "auth", None, 0),
                        )
                        .await
                        .map(drop),
                    _ => {
                        store
                            .append_event(&event(&who, "item.list", Some(&vault), 0))
                            .await
                    }
                };
                outcomes.push((format!("worker {worker} round {round}"), result));
            }
            (outcomes, opened)
        }));
    }
    let mut opened = 0;
    for worker in workers {
        let (outcomes, views) = worker.await.unwrap();
        opened += views;
        for (what, result) in outcomes {
            if let Err(err) = result {
                assert_ne!(err.code().as_str(), "server", "{what}: {err}");
            }
        }
    }
    assert!(opened <= 10, "{opened} views of a share that allows 10");
    let report = crate::audit::verify(store).await.unwrap();
    assert!(report.intact(), "{report:?}");
    let changes = store.changes_since(&vault, 0, false).await.unwrap();
    let mut versions: Vec<u64> = changes
        .items
        .iter()
        .map(|i| i.content_version)
        .chain(changes.deleted.iter().map(|t| t.content_version))
        .collect();
    versions.sort_unstable();
    versions.dedup();
    assert_eq!(versions.len(), changes.items.len() + changes.deleted.len());
    assert!(versions
        .last()
        .is_some_and(|v| *v == changes.content_version));
    for replica in replicas {
        replica.close().await;
    }
    db.drop_db().await;
}

/// A connection lost in the middle of a write fails it as a server error (retryable)
/// and leaves nothing of it; the store goes on with fresh connections.
#[tokio::test]
async fn a_connection_lost_mid_write_fails_it_whole() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = connect(&db.url, true).await.unwrap();
    let (account, owner, vault, item) = (
        Id::generate(),
        Id::generate(),
        Id::generate(),
        Id::generate(),
    );
    let owner_event =
        |action: &str, vault: Option<&Id>, requires| event(&owner, action, vault, requires);
    store
        .initialize(
            &account,
            b"k",
            &new_principal(owner, PrincipalKind::Owner),
            &owner_event("init", None, 0),
        )
        .await
        .unwrap();
    let request = VaultCreateRequest {
        id: vault,
        attributes: Ciphertext(vec![1]),
        wrapped_key: wrapped(),
        signature: "sig".into(),
    };
    let all = READ_ITEMS | CREATE_ITEMS | UPDATE_ITEMS;
    store
        .create_vault(&owner, &request, all, &owner_event("vault.create", None, 0))
        .await
        .unwrap();
    let put = owner_event("item.update", Some(&vault), UPDATE_ITEMS);
    store
        .create_item(
            &vault,
            &create_request(item),
            &owner_event("item.create", Some(&vault), CREATE_ITEMS),
        )
        .await
        .unwrap();
    let events = store.audit_head().await.unwrap().seq;

    // Someone holds the audit head, so the write stops at its very end.
    let mut holder = PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT seq FROM audit_head FOR UPDATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let writer = {
        let (store, put) = (store.clone(), put.clone());
        tokio::spawn(async move {
            store
                .put_item(&vault, &item, &update_request(1, 9), false, &put)
                .await
        })
    };
    let mut admin = PgConnection::connect(&db.admin).await.unwrap();
    let mut killed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let pids: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        )
        .bind(&db.name)
        .fetch_all(&mut admin)
        .await
        .unwrap();
        if let Some(pid) = pids.first() {
            sqlx::query("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .execute(&mut admin)
                .await
                .unwrap();
            killed = true;
            break;
        }
    }
    assert!(killed, "the write never waited for the audit head");
    let err = writer.await.unwrap().unwrap_err();
    assert_eq!(err.code().as_str(), "server", "{err}");
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();

    // Nothing of it stayed, and the same request now succeeds.
    let current = store.item(&vault, &item).await.unwrap().unwrap();
    assert_eq!((current.version, current.content_version), (1, 1));
    assert_eq!(store.audit_head().await.unwrap().seq, events);
    let done = store
        .put_item(&vault, &item, &update_request(1, 9), false, &put)
        .await
        .unwrap();
    assert_eq!((done.version, done.content_version), (2, 2));
    assert!(crate::audit::verify(&store).await.unwrap().intact());
    store.close().await;
    db.drop_db().await;
}
