//! Issue 9, point 1: a record the client cannot open (an item overview, vault attributes,
//! a grant) fails only the calls that need it, is reported by
//! `Client::unreadable_records`, and can be removed by the principals it concerns.
//!
//! The hostile records are written through a second connection to the server's database:
//! that is the stored state a principal with write or manage rights (or the server) can
//! reach, without a raw-HTTP client of its own in every test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use secrecy::{ExposeSecret, SecretString};
use sesame_core::crypto::{grant_message, PrincipalKeys, VaultKey};
use sesame_core::encoding::base64url_encode;
use sesame_core::id::Id;
use sesame_core::model::{
    permissions, UnreadableKind, UnreadableRecord, VaultCreateParams, VaultUpdateParams,
};
use sesame_core::token::{ServiceAccountToken, TokenSecret};
use sesame_core::{Client, ErrorCode};
use sqlx::{Row, SqlitePool};
use support::Fixture;

fn token_of(token: &SecretString) -> ServiceAccountToken {
    ServiceAccountToken::parse(token.expose_secret()).unwrap()
}

async fn titles(client: &Client, vault: &str) -> Vec<String> {
    client
        .items()
        .list(vault, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.title)
        .collect()
}

async fn vault_ids(client: &Client) -> Vec<String> {
    client
        .vaults()
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect()
}

fn assert_integrity(err: &sesame_core::Error, names: &[&str]) {
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");
    for name in names {
        assert!(err.to_string().contains(name), "names {name}: {err}");
    }
}

async fn rows(db: &SqlitePool, sql: &str, id: &str) -> i64 {
    sqlx::query(sql)
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
        .get::<i64, _>(0)
}

/// (a) A service account with write access stores an item of random bytes: every
/// principal that can see the vault keeps working, and the item can be deleted by id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_of_random_bytes_fails_only_itself_and_can_be_deleted_by_id() {
    let fx = Fixture::new().await;
    let db = fx.server.database().await;
    let write = permissions::READ_ITEMS
        | permissions::REVEAL_ITEM_PASSWORD
        | permissions::CREATE_ITEMS
        | permissions::UPDATE_ITEMS
        | permissions::DELETE_ITEMS;
    let (_, writer_token) = fx
        .owner
        .service_accounts()
        .create("ci-writer", &[(&fx.vault_id, write)], None)
        .await
        .unwrap();
    let writer = fx.server.connect(&writer_token).await;
    let planted = writer
        .items()
        .create(support::login(&fx.vault_id, "Planted", "x"))
        .await
        .unwrap();
    sqlx::query(
        "UPDATE items SET overview = randomblob(80), details = randomblob(80) \
         WHERE vault_id = ? AND id = ?",
    )
    .bind(&fx.vault_id)
    .bind(&planted.id)
    .execute(&db)
    .await
    .unwrap();

    let good = format!("op://{}/Postgres/password", fx.vault_id);
    let bad = format!("op://{}/{}/password", fx.vault_id, planted.id);
    for token in [fx.server.owner_token(), &fx.sa_token, &writer_token] {
        let client = fx.server.connect(token).await;
        assert_eq!(client.secrets().resolve(&good).await.unwrap(), "pg-top");
        assert_eq!(titles(&client, &fx.vault_id).await, ["Postgres"]);
        assert_eq!(vault_ids(&client).await, [fx.vault_id.as_str()]);
        let unreadable = client.unreadable_records();
        assert_eq!(unreadable.len(), 1, "{unreadable:?}");
        let record = &unreadable[0];
        assert_eq!(
            (&record.vault_id, record.item_id.as_deref(), record.kind),
            (
                &fx.vault_id,
                Some(planted.id.as_str()),
                UnreadableKind::ItemOverview
            )
        );
        assert!(record.message.contains("item overview"), "{record:?}");
        let json = serde_json::to_value(record).unwrap();
        assert_eq!(json["vaultId"], fx.vault_id.as_str());
        assert_eq!(json["itemId"], planted.id.as_str());
        assert_eq!(json["kind"], "itemOverview");
        let err = client
            .items()
            .get(&fx.vault_id, &planted.id)
            .await
            .unwrap_err();
        assert_integrity(&err, &[&fx.vault_id, &planted.id, "sesame item delete"]);
        let err = client.secrets().resolve(&bad).await.unwrap_err();
        assert_integrity(&err, &[&fx.vault_id, &planted.id]);
        // Items that do not need the bad one still work, writes included.
        client
            .items()
            .get(&fx.vault_id, &fx.postgres_id)
            .await
            .unwrap();
    }

    // The client deleted nothing by itself; the owner deletes it by id, undecrypted.
    let stored = "SELECT COUNT(*) FROM items WHERE id = ? AND overview IS NOT NULL";
    assert_eq!(rows(&db, stored, &planted.id).await, 1);
    let owner = fx.server.owner().await;
    assert_eq!(owner.unreadable_records().len(), 0);
    titles(&owner, &fx.vault_id).await;
    assert_eq!(owner.unreadable_records().len(), 1);
    owner
        .items()
        .delete(&fx.vault_id, &planted.id)
        .await
        .unwrap();
    assert_eq!(titles(&owner, &fx.vault_id).await, ["Postgres"]);
    assert_eq!(owner.unreadable_records(), Vec::<UnreadableRecord>::new());
}

/// (b) A vault whose sealed attributes are garbage: it is left out of the vault list and
/// reported, its items stay usable by vault id, and setting new attributes repairs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_with_garbage_attributes_keeps_its_items_usable_until_renamed() {
    let fx = Fixture::new().await;
    let db = fx.server.database().await;
    let scratch = fx
        .owner
        .vaults()
        .create(VaultCreateParams::new("Scratch"))
        .await
        .unwrap();
    fx.owner
        .items()
        .create(support::login(&scratch.id, "Deploy", "scratch-secret"))
        .await
        .unwrap();
    sqlx::query("UPDATE vaults SET attributes = randomblob(60) WHERE id = ?")
        .bind(&scratch.id)
        .execute(&db)
        .await
        .unwrap();

    let owner = fx.server.owner().await;
    assert_eq!(vault_ids(&owner).await, [fx.vault_id.as_str()]);
    let unreadable = owner.unreadable_records();
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    assert_eq!(
        (
            &unreadable[0].vault_id,
            &unreadable[0].item_id,
            unreadable[0].kind
        ),
        (&scratch.id, &None, UnreadableKind::VaultAttributes)
    );
    let err = owner.vaults().get_overview(&scratch.id).await.unwrap_err();
    assert_integrity(&err, &[&scratch.id, "attributes"]);
    assert_eq!(titles(&owner, &scratch.id).await, ["Deploy"]);
    let by_id = format!("op://{}/Deploy/password", scratch.id);
    assert_eq!(
        owner.secrets().resolve(&by_id).await.unwrap(),
        "scratch-secret"
    );
    let infra = format!("op://{}/Postgres/password", fx.vault_id);
    assert_eq!(owner.secrets().resolve(&infra).await.unwrap(), "pg-top");

    // Giving both title and description needs nothing of the unreadable attributes.
    owner
        .vaults()
        .update(
            &scratch.id,
            VaultUpdateParams {
                title: Some("Scratch".into()),
                description: Some(String::new()),
            },
        )
        .await
        .unwrap();
    assert_eq!(vault_ids(&owner).await.len(), 2);
    assert_eq!(owner.unreadable_records(), Vec::<UnreadableRecord>::new());
}

/// (c) The owner's grant of a vault carries a key it cannot use: one that does not
/// unwrap (signed by a certified service account), a signature that does not verify,
/// or a granter the client cannot find. Only that vault fails; the owner leaves one such
/// vault and deletes another, and the other members keep theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_the_owner_cannot_use_fails_only_its_vault_and_can_be_left_or_deleted() {
    let fx = Fixture::new().await;
    let db = fx.server.database().await;
    let owner_token = token_of(fx.server.owner_token());
    let account = *owner_token.account_id();
    let owner_id = *owner_token.principal_id();
    let owner_generation = fx.owner.principal().unwrap().key_generation;
    let sa_keys = token_of(&fx.sa_token).keys();
    let sa: Id = fx.sa_id.parse().unwrap();
    let mut traps = Vec::new();
    for title in ["Trap", "Trap 2"] {
        let vault = fx
            .owner
            .vaults()
            .create(VaultCreateParams::new(title))
            .await
            .unwrap();
        fx.owner
            .items()
            .create(support::login(&vault.id, "Deploy", "trap-secret"))
            .await
            .unwrap();
        fx.owner
            .vaults()
            .grant(
                &vault.id,
                &fx.sa_id,
                permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD,
            )
            .await
            .unwrap();
        traps.push(vault.id);
    }
    let set_grant = |vault: String, granter: Id, wrapped: String, signature: String| {
        let db = db.clone();
        async move {
            sqlx::query(
                "UPDATE vault_access SET wrapped_key = ?, granted_by = ?, grant_signature = ? \
                 WHERE vault_id = ? AND principal_id = ?",
            )
            .bind(wrapped)
            .bind(granter.as_str())
            .bind(signature)
            .bind(vault)
            .bind(owner_id.as_str())
            .execute(&db)
            .await
            .unwrap();
        }
    };
    let unwrappable = |vault: &Id| {
        // A real key wrapped to the owner, but for another vault: it never unwraps here.
        let wrapped = VaultKey::generate()
            .wrap(
                &owner_token.keys().encryption_public_key(),
                &Id::generate(),
                &owner_id,
            )
            .unwrap();
        let signature = sa_keys.sign(&grant_message(
            &account,
            vault,
            &owner_id,
            owner_generation,
            &sa,
            &wrapped,
        ));
        (
            serde_json::to_string(&wrapped).unwrap(),
            base64url_encode(signature),
        )
    };
    let trap: Id = traps[0].parse().unwrap();
    let (wrapped, signature) = unwrappable(&trap);
    // A principal the server holds whose keys the owner never certified.
    let stranger = Id::generate();
    let stranger_keys = PrincipalKeys::derive(&TokenSecret::generate());
    sqlx::query(
        "INSERT INTO principals (id, account_id, name, kind, signing_public_key, \
         encryption_public_key, key_generation, created_at, certificate) \
         VALUES (?, ?, 'mallory', 'serviceAccount', ?, ?, 1, 0, ?)",
    )
    .bind(stranger.as_str())
    .bind(account.as_str())
    .bind(base64url_encode(stranger_keys.signing_public_key()))
    .bind(base64url_encode(stranger_keys.encryption_public_key()))
    .bind(base64url_encode(stranger_keys.sign(b"self-certified")))
    .execute(&db)
    .await
    .unwrap();
    let variants = [
        (
            sa,
            wrapped.clone(),
            signature,
            "failed to decrypt".to_owned(),
        ),
        (
            sa,
            wrapped.clone(),
            base64url_encode([7u8; 64]),
            "does not verify".to_owned(),
        ),
        (
            stranger,
            wrapped,
            base64url_encode([7u8; 64]),
            stranger.to_string(),
        ),
    ];
    let infra = format!("op://{}/Postgres/password", fx.vault_id);
    for (granter, wrapped, signature, why) in variants {
        set_grant(traps[0].clone(), granter, wrapped, signature).await;
        let owner = fx.server.owner().await;
        let mut listed = vault_ids(&owner).await;
        listed.sort();
        let mut expected = vec![fx.vault_id.clone(), traps[1].clone()];
        expected.sort();
        assert_eq!(listed, expected, "granter {granter}");
        let unreadable = owner.unreadable_records();
        assert_eq!(unreadable.len(), 1, "{unreadable:?}");
        assert_eq!(
            (
                &unreadable[0].vault_id,
                &unreadable[0].item_id,
                unreadable[0].kind
            ),
            (&traps[0], &None, UnreadableKind::VaultKey)
        );
        assert!(unreadable[0].message.contains(&why), "{unreadable:?}");
        assert_eq!(owner.secrets().resolve(&infra).await.unwrap(), "pg-top");
        let err = owner
            .items()
            .list(&traps[0], &Default::default())
            .await
            .unwrap_err();
        assert_integrity(&err, &[&traps[0], &why, "leave"]);
        let err = owner.vaults().get_overview(&traps[0]).await.unwrap_err();
        assert_integrity(&err, &[&traps[0]]);
        let err = owner
            .items()
            .create(support::login(&traps[0], "More", "x"))
            .await
            .unwrap_err();
        assert_integrity(&err, &[&traps[0]]);
        let err = owner
            .secrets()
            .resolve(&format!("op://{}/Deploy/password", traps[0]))
            .await
            .unwrap_err();
        assert_integrity(&err, &[&traps[0]]);
    }

    // The owner leaves the first trap: the vault and the service account's grant stay.
    let owner = fx.server.owner().await;
    vault_ids(&owner).await;
    owner.vaults().leave(&traps[0]).await.unwrap();
    vault_ids(&owner).await;
    assert_eq!(owner.unreadable_records(), Vec::<UnreadableRecord>::new());
    let members = "SELECT COUNT(*) FROM vault_access WHERE vault_id = ?";
    assert_eq!(rows(&db, members, &traps[0]).await, 1);
    let reader = fx.service_account().await;
    let kept = format!("op://{}/Deploy/password", traps[0]);
    assert_eq!(
        reader.secrets().resolve(&kept).await.unwrap(),
        "trap-secret"
    );

    // The owner deletes the second one by id, without its key.
    let trap2: Id = traps[1].parse().unwrap();
    let (wrapped, signature) = unwrappable(&trap2);
    set_grant(traps[1].clone(), sa, wrapped, signature).await;
    let owner = fx.server.owner().await;
    // The vault the owner left is still listed, as one of the account's vaults it has no
    // key for (point 2); the one with the bad grant is left out and reported.
    let listed = owner.vaults().list().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|v| v.id.as_str()).collect();
    assert!(
        ids.contains(&fx.vault_id.as_str()) && !ids.contains(&traps[1].as_str()),
        "{ids:?}"
    );
    let left = listed.iter().find(|v| v.id == traps[0]).unwrap();
    assert!(left.unreadable.is_some(), "{ids:?}");
    assert_eq!(owner.unreadable_records().len(), 1);
    owner.vaults().delete(&traps[1]).await.unwrap();
    vault_ids(&owner).await;
    assert_eq!(owner.unreadable_records(), Vec::<UnreadableRecord>::new());
}

/// Leaving needs no permission on the vault, only a grant of one's own; removing someone
/// else's grant still needs `MANAGE_VAULT`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_member_can_leave_a_vault_but_not_remove_others() {
    let fx = Fixture::new().await;
    let reader = fx.service_account().await;
    let owner_id = fx.owner.principal().unwrap().id.to_string();
    let err = reader
        .vaults()
        .revoke(&fx.vault_id, &owner_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied, "{err}");
    reader.vaults().leave(&fx.vault_id).await.unwrap();
    assert_eq!(vault_ids(&reader).await, Vec::<String>::new());
    let err = reader.vaults().leave(&fx.vault_id).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
    assert_eq!(
        fx.owner
            .secrets()
            .resolve(&format!("op://{}/Postgres/password", fx.vault_id))
            .await
            .unwrap(),
        "pg-top"
    );
    // The last member cannot leave: that would strand the vault.
    let err = fx.owner.vaults().leave(&fx.vault_id).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(err.to_string().contains("delete the vault"), "{err}");
}
