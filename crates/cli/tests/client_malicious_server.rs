//! End to end against a malicious server: the tests edit the server's SQLite database
//! directly (a second connection while it runs) to forge what a hostile server would
//! serve, and check that the client refuses with `Integrity` instead of using the keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use secrecy::ExposeSecret;
use serde_json::json;
use sesame_core::crypto::{
    grant_message, principal_certificate_message, EnvelopeContext, PrincipalKeys, VaultKey,
};
use sesame_core::encoding::{base64url_decode, base64url_encode};
use sesame_core::id::Id;
use sesame_core::model::{
    permissions, ItemCategory, ItemField, ItemFieldType, ItemState, VaultCreateParams,
    VaultGetParams,
};
use sesame_core::token::{ServiceAccountToken, TokenSecret};
use sesame_core::ErrorCode;
use sqlx::{Row, SqlitePool};
use support::Fixture;

fn b64(bytes: &[u8]) -> String {
    base64url_encode(bytes)
}

fn account_of(token: &str) -> ServiceAccountToken {
    ServiceAccountToken::parse(token).unwrap()
}

async fn principal_key(db: &SqlitePool, id: &str, column: &str) -> [u8; 32] {
    let row = sqlx::query(&format!("SELECT {column} FROM principals WHERE id = ?"))
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap();
    let text: String = row.get(0);
    base64url_decode(column, &text).unwrap().try_into().unwrap()
}

/// (a) The server wraps a vault key of its own choosing to a service account's real key,
/// re-seals the vault's contents under it and signs the grant with a key of its own. If
/// the client used that key, the resolve would succeed with the attacker's value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_key_wrapped_and_signed_by_the_server_is_never_used() {
    let fx = Fixture::new().await;
    let db = fx.server.database().await;
    let sa_token = account_of(fx.sa_token.expose_secret());
    let account = *sa_token.account_id();
    let (vault, item, sa): (Id, Id, Id) = (
        fx.vault_id.parse().unwrap(),
        fx.postgres_id.parse().unwrap(),
        fx.sa_id.parse().unwrap(),
    );
    let owner_id = fx.owner.principal().unwrap().id;
    // Before the attack the service account reads the real value.
    let reference = format!("op://{}/Postgres/password", fx.vault_id);
    let sa_client = fx.service_account().await;
    assert_eq!(
        sa_client.secrets().resolve(&reference).await.unwrap(),
        "pg-top"
    );

    let attacker = PrincipalKeys::derive(&TokenSecret::generate());
    let attacker_id = Id::generate();
    // A principal row of the attacker's, "certified" by the attacker itself.
    let certificate = principal_certificate_message(
        &account,
        &attacker_id,
        1,
        &attacker.signing_public_key(),
        &attacker.encryption_public_key(),
    );
    sqlx::query(
        "INSERT INTO principals (id, account_id, name, kind, signing_public_key, \
         encryption_public_key, key_generation, created_at, certificate) \
         VALUES (?, ?, 'mallory', 'serviceAccount', ?, ?, 1, 0, ?)",
    )
    .bind(attacker_id.as_str())
    .bind(account.as_str())
    .bind(b64(&attacker.signing_public_key()))
    .bind(b64(&attacker.encryption_public_key()))
    .bind(b64(&attacker.sign(&certificate)))
    .execute(&db)
    .await
    .unwrap();

    let forged_key = VaultKey::generate();
    let sa_public = principal_key(&db, &fx.sa_id, "encryption_public_key").await;
    let wrapped = forged_key.wrap(&sa_public, &vault, &sa).unwrap();
    // Re-seal the vault's attributes and the item under the forged key, at their versions.
    let row = sqlx::query("SELECT attribute_version FROM vaults WHERE id = ?")
        .bind(vault.as_str())
        .fetch_one(&db)
        .await
        .unwrap();
    let attribute_version: i64 = row.get(0);
    let attributes = forged_key
        .seal(
            &EnvelopeContext::vault_attributes(account, vault, attribute_version as u64),
            json!({"title": "Infra", "description": ""})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    let row = sqlx::query("SELECT version FROM items WHERE vault_id = ? AND id = ?")
        .bind(vault.as_str())
        .bind(item.as_str())
        .fetch_one(&db)
        .await
        .unwrap();
    let version: i64 = row.get(0);
    let overview = forged_key
        .seal(
            &EnvelopeContext::item_overview(account, vault, item, version as u64),
            json!({"title": "Postgres", "category": ItemCategory::Database, "tags": [],
                   "websites": [], "createdAt": "2024-01-01T00:00:00Z",
                   "updatedAt": "2024-01-01T00:00:00Z", "state": ItemState::Active})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
    let details = forged_key
        .seal(
            &EnvelopeContext::item_details(account, vault, item, version as u64),
            json!({"fields": [ItemField::new("password", "password", ItemFieldType::Concealed,
                                             "attacker-chosen")]})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
    sqlx::query("UPDATE vaults SET attributes = ? WHERE id = ?")
        .bind(&attributes)
        .bind(vault.as_str())
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE items SET overview = ?, details = ? WHERE vault_id = ? AND id = ?")
        .bind(&overview)
        .bind(&details)
        .bind(vault.as_str())
        .bind(item.as_str())
        .execute(&db)
        .await
        .unwrap();

    // The attacker signs the grant, naming as granter the owner, then its own principal.
    for granter in [owner_id, attacker_id] {
        let signature = attacker.sign(&grant_message(&account, &vault, &sa, 1, &granter, &wrapped));
        sqlx::query(
            "UPDATE vault_access SET wrapped_key = ?, granted_by = ?, grant_signature = ? \
             WHERE vault_id = ? AND principal_id = ?",
        )
        .bind(serde_json::to_string(&wrapped).unwrap())
        .bind(granter.as_str())
        .bind(b64(&signature))
        .bind(vault.as_str())
        .bind(sa.as_str())
        .execute(&db)
        .await
        .unwrap();
        // A fresh client, so nothing cached from before the attack helps.
        let sa_client = fx.server.try_connect(&fx.sa_token).await.unwrap();
        let err = sa_client.secrets().resolve(&reference).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Integrity, "granter {granter}: {err}");
        assert!(err.to_string().contains(&fx.vault_id), "{err}");
        assert!(!err.to_string().contains("attacker-chosen"));
        // Listing leaves the vault out (it cannot be read) and reports it instead.
        let listed = sa_client.vaults().list().await.unwrap();
        assert!(listed.iter().all(|v| v.id != fx.vault_id), "{listed:?}");
        let unreadable = sa_client.unreadable_records();
        assert_eq!(unreadable.len(), 1, "{unreadable:?}");
        assert_eq!(unreadable[0].vault_id, fx.vault_id);
    }
}

/// (b) The server substitutes a service account's encryption key (with a certificate of
/// its own) before the owner grants it a vault: the owner refuses to wrap the key to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_substituted_public_key_gets_no_vault_key() {
    let fx = Fixture::new().await;
    let db = fx.server.database().await;
    let vault = fx
        .owner
        .vaults()
        .create(VaultCreateParams::new("Payments"))
        .await
        .unwrap();
    let sa_token = account_of(fx.sa_token.expose_secret());
    let account = *sa_token.account_id();
    let sa: Id = fx.sa_id.parse().unwrap();
    let sa_signing = principal_key(&db, &fx.sa_id, "signing_public_key").await;
    let attacker = PrincipalKeys::derive(&TokenSecret::generate());
    let forged_certificate = attacker.sign(&principal_certificate_message(
        &account,
        &sa,
        1,
        &sa_signing,
        &attacker.encryption_public_key(),
    ));
    for certificate in [None, Some(b64(&forged_certificate))] {
        sqlx::query(
            "UPDATE principals SET encryption_public_key = ?, \
             certificate = COALESCE(?, certificate) WHERE id = ?",
        )
        .bind(b64(&attacker.encryption_public_key()))
        .bind(certificate)
        .bind(sa.as_str())
        .execute(&db)
        .await
        .unwrap();
        let err = fx
            .owner
            .vaults()
            .grant(
                &vault.id,
                &fx.sa_id,
                permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD,
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Integrity, "{err}");
        assert!(
            err.to_string().contains(&fx.sa_id),
            "names the principal: {err}"
        );
        let stored = sqlx::query(
            "SELECT COUNT(*) FROM vault_access WHERE vault_id = ? AND principal_id = ?",
        )
        .bind(&vault.id)
        .bind(sa.as_str())
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(stored.get::<i64, _>(0), 0, "no grant was stored");
    }
    let members = fx
        .owner
        .vaults()
        .get(
            &vault.id,
            VaultGetParams {
                accessors: Some(true),
            },
        )
        .await
        .unwrap()
        .access
        .unwrap();
    assert_eq!(members.len(), 1, "only the owner");
}

/// (c) The server swaps the owner's public key: the account id (the owner key's
/// fingerprint) no longer matches, so every client refuses the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_owner_key_fails_authentication() {
    let fx = Fixture::new().await;
    let db = fx.server.database().await;
    let owner_id = fx.owner.principal().unwrap().id;
    let account = *account_of(fx.sa_token.expose_secret()).account_id();
    let attacker = PrincipalKeys::derive(&TokenSecret::generate());
    let row = sqlx::query(
        "SELECT signing_public_key, encryption_public_key, certificate FROM principals \
         WHERE id = ?",
    )
    .bind(owner_id.as_str())
    .fetch_one(&db)
    .await
    .unwrap();
    let original: (String, String, String) = (row.get(0), row.get(1), row.get(2));

    // The encryption key alone: the owner's self-signed certificate no longer verifies,
    // so the owner's own token refuses the server.
    sqlx::query("UPDATE principals SET encryption_public_key = ? WHERE id = ?")
        .bind(b64(&attacker.encryption_public_key()))
        .bind(owner_id.as_str())
        .execute(&db)
        .await
        .unwrap();
    let err = fx.server.try_owner().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");
    let err = fx.server.try_connect(&fx.sa_token).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");

    // The signing key too, with a certificate the attacker signs: the account id no longer
    // matches the owner key, so the service account refuses the server at authentication
    // (and the owner's token no longer even signs in).
    let certificate = attacker.sign(&principal_certificate_message(
        &account,
        &owner_id,
        1,
        &attacker.signing_public_key(),
        &attacker.encryption_public_key(),
    ));
    sqlx::query("UPDATE principals SET signing_public_key = ?, certificate = ? WHERE id = ?")
        .bind(b64(&attacker.signing_public_key()))
        .bind(b64(&certificate))
        .bind(owner_id.as_str())
        .execute(&db)
        .await
        .unwrap();
    let err = fx.server.try_connect(&fx.sa_token).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");
    assert!(err.to_string().contains("account id"), "{err}");
    assert!(fx.server.try_owner().await.is_err());

    // Restoring the real row makes the server usable again: the refusals were the check.
    sqlx::query(
        "UPDATE principals SET signing_public_key = ?, encryption_public_key = ?, \
         certificate = ? WHERE id = ?",
    )
    .bind(&original.0)
    .bind(&original.1)
    .bind(&original.2)
    .bind(owner_id.as_str())
    .execute(&db)
    .await
    .unwrap();
    fx.server.try_owner().await.unwrap();
    fx.server.try_connect(&fx.sa_token).await.unwrap();
}

/// A vault shared by a service account is trusted through that service account's owner
/// certificate, fetched by the reader; forging the certificate makes the reader refuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_by_a_service_account_is_trusted_through_its_certificate() {
    let fx = Fixture::new().await;
    let db = fx.server.database().await;
    let (manager_principal, manager_token) = fx
        .owner
        .service_accounts()
        .create_with_rights(
            "manager",
            &[],
            None,
            sesame_core::api::ServiceAccountRights {
                can_create_vaults: true,
            },
        )
        .await
        .unwrap();
    let (reader_principal, reader_token) = fx
        .owner
        .service_accounts()
        .create("reader", &[], None)
        .await
        .unwrap();
    let manager = fx.server.connect(&manager_token).await;
    let vault = manager
        .vaults()
        .create(VaultCreateParams::new("Shared"))
        .await
        .unwrap();
    manager
        .items()
        .create(support::login(&vault.id, "Deploy", "shared-secret"))
        .await
        .unwrap();
    manager
        .vaults()
        .grant(
            &vault.id,
            reader_principal.id.as_str(),
            permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD,
        )
        .await
        .unwrap();
    let reference = format!("op://{}/Deploy/password", vault.id);
    let reader = fx.server.connect(&reader_token).await;
    assert_eq!(
        reader.secrets().resolve(&reference).await.unwrap(),
        "shared-secret"
    );

    // The server replaces the manager's certificate with one it made itself.
    let attacker = PrincipalKeys::derive(&TokenSecret::generate());
    sqlx::query("UPDATE principals SET certificate = ? WHERE id = ?")
        .bind(b64(&attacker.sign(b"not the owner")))
        .bind(manager_principal.id.as_str())
        .execute(&db)
        .await
        .unwrap();
    let reader = fx.server.connect(&reader_token).await;
    let err = reader.secrets().resolve(&reference).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");
    let message = err.to_string();
    assert!(message.contains(&vault.id), "{message}");
    assert!(message.contains(manager_principal.id.as_str()), "{message}");
}
