//! Vaults and grants over real HTTP, including the 404-versus-403 rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{b64, start};
use serde_json::json;
use sesame_core::crypto::VaultKey;
use sesame_core::id::Id;
use sesame_core::model::permissions::{
    CREATE_ITEMS, MANAGE_VAULT, READ_ITEMS, REVEAL_ITEM_PASSWORD,
};

#[tokio::test]
async fn vault_create_list_get_update_delete() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, _key) = owner.create_vault(&server.owner).await;

    let list = owner.get("/v1/vaults").await;
    assert_eq!(list.status, 200);
    let record = &list.body[0];
    assert_eq!(record["id"], vault.as_str());
    assert_eq!(record["attributeVersion"], 1);
    assert_eq!(record["contentVersion"], 0);
    assert_eq!(record["activeItemCount"], 0);
    assert!(record["wrappedKey"]["encapsulatedKey"].is_string());
    assert_eq!(record["grantedBy"], server.owner.principal_id().as_str());
    assert!(record["grantSignature"].is_string());
    assert!(record["permissions"].as_u64().unwrap() & u64::from(MANAGE_VAULT) != 0);

    // Same id twice: conflict.
    let again = owner
        .post(
            "/v1/vaults",
            json!({"id": vault, "attributes": "AAAA", "wrappedKey": record["wrappedKey"], "signature": record["grantSignature"]}),
        )
        .await;
    assert_eq!(again.status, 409);

    let vault_path = format!("/v1/vaults/{vault}");
    let update = |expected: u64| {
        owner.put(
            &vault_path,
            json!({"expectedAttributeVersion": expected, "attributes": b64(b"renamed")}),
        )
    };
    let reply = update(1).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["attributeVersion"], 2);
    assert_eq!(reply.body["attributes"], b64(b"renamed"));
    let stale = update(1).await;
    assert_eq!((stale.status.as_u16(), stale.code()), (409, "conflict"));
    assert!(stale.message().contains("version 2"), "{}", stale.message());

    let got = owner.get(&format!("/v1/vaults/{vault}")).await;
    assert_eq!(got.body["attributeVersion"], 2);

    assert_eq!(
        owner.delete(&format!("/v1/vaults/{vault}")).await.status,
        204
    );
    assert_eq!(owner.get(&format!("/v1/vaults/{vault}")).await.status, 404);
    assert_eq!(owner.get("/v1/vaults").await.body, json!([]));
    server.shutdown().await;
}

#[tokio::test]
async fn no_grant_is_indistinguishable_from_no_vault_and_a_missing_bit_is_403() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let (other_vault, _) = owner.create_vault(&server.owner).await;
    let (_, reader) = server
        .service_account(
            &owner,
            &[(&vault, &key, (READ_ITEMS | REVEAL_ITEM_PASSWORD))],
        )
        .await;

    // The reader sees only its vault, with its permissions.
    let list = reader.get("/v1/vaults").await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(
        list.body[0]["permissions"],
        (READ_ITEMS | REVEAL_ITEM_PASSWORD)
    );

    // A vault it has no grant on answers exactly like one that does not exist.
    let missing = Id::generate();
    for (method_path, body) in [
        ("GET", None),
        (
            "PUT",
            Some(json!({"expectedAttributeVersion": 1, "attributes": "AAAA"})),
        ),
        ("DELETE", None),
    ] {
        let method = reqwest::Method::from_bytes(method_path.as_bytes()).unwrap();
        let hidden = reader
            .call(
                method.clone(),
                &format!("/v1/vaults/{other_vault}"),
                body.clone(),
            )
            .await;
        let absent = reader
            .call(method, &format!("/v1/vaults/{missing}"), body)
            .await;
        assert_eq!(hidden.status, 404, "{method_path}");
        assert_eq!(absent.status, 404, "{method_path}");
        let normalize = |text: &str, id: &Id| text.replace(id.as_str(), "<id>");
        assert_eq!(
            normalize(hidden.message(), &other_vault),
            normalize(absent.message(), &missing),
            "{method_path}"
        );
        assert_eq!(hidden.code(), absent.code());
    }
    let hidden_items = reader.get(&format!("/v1/vaults/{other_vault}/items")).await;
    assert_eq!(hidden_items.status, 404);

    // With a grant but not the bit: 403, naming the missing permission.
    let denied = reader
        .put(
            &format!("/v1/vaults/{vault}"),
            json!({"expectedAttributeVersion": 1, "attributes": "AAAA"}),
        )
        .await;
    assert_eq!(
        (denied.status.as_u16(), denied.code()),
        (403, "permission_denied")
    );
    assert!(
        denied.message().contains("MANAGE_VAULT"),
        "{}",
        denied.message()
    );
    let denied = reader.create_item(&vault, b"o", b"d").await;
    assert_eq!(denied.status, 403);
    assert!(denied.message().contains("CREATE_ITEMS"));
    assert_eq!(
        reader
            .get(&format!("/v1/vaults/{vault}/items"))
            .await
            .status,
        200
    );
    server.shutdown().await;
}

#[tokio::test]
async fn grant_update_and_revoke_access() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let (token, sa) = server.service_account(&owner, &[]).await;
    let sa_id = token.principal_id();
    assert_eq!(sa.get(&format!("/v1/vaults/{vault}")).await.status, 404);

    let access = format!("/v1/vaults/{vault}/access/{sa_id}");
    // A new member needs the wrapped key.
    let reply = owner
        .put(
            &access,
            json!({"permissions": (READ_ITEMS | REVEAL_ITEM_PASSWORD)}),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.message().contains("wrappedKey"),
        "{}",
        reply.message()
    );
    let (wrapped, signature) = common::signed_wrap(&server.owner, &key, &vault, &token, 1);
    let reply = owner
        .put(
            &access,
            json!({"permissions": (READ_ITEMS | REVEAL_ITEM_PASSWORD), "wrappedKey": wrapped, "signature": signature}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body["permissions"],
        (READ_ITEMS | REVEAL_ITEM_PASSWORD)
    );

    let seen = sa.get(&format!("/v1/vaults/{vault}")).await;
    assert_eq!(seen.status, 200);
    let unwrapped = VaultKey::unwrap(
        &serde_json::from_value(seen.body["wrappedKey"].clone()).unwrap(),
        &token.keys(),
        &vault,
        sa_id,
    );
    assert!(unwrapped.is_ok(), "the member can unwrap the vault key");

    // Change permissions without a new key.
    let reply = owner
        .put(
            &access,
            json!({"permissions": (READ_ITEMS | REVEAL_ITEM_PASSWORD) | CREATE_ITEMS}),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(sa.create_item(&vault, b"o", b"d").await.status, 200);
    assert_eq!(
        owner.put(&access, json!({"permissions": 0})).await.status,
        400
    );

    let members = owner.get(&format!("/v1/vaults/{vault}/access")).await;
    assert_eq!(members.body.as_array().unwrap().len(), 2);
    assert_eq!(
        sa.get(&format!("/v1/vaults/{vault}/access")).await.status,
        403
    );

    // Unknown principal: 404.
    let reply = owner
        .put(
            &format!("/v1/vaults/{vault}/access/{}", Id::generate()),
            json!({"permissions": (READ_ITEMS | REVEAL_ITEM_PASSWORD), "wrappedKey": wrapped, "signature": signature}),
        )
        .await;
    assert_eq!(reply.status, 404);

    assert_eq!(owner.delete(&access).await.status, 204);
    assert_eq!(owner.delete(&access).await.status, 404);
    assert_eq!(sa.get(&format!("/v1/vaults/{vault}")).await.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn service_account_grants_need_manage_vault() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    // A service account that made its own vault: the owner cannot grant it onwards.
    let (sa_token, sa) = server.service_account(&owner, &[]).await;
    allow_vault_creation(&owner, &sa_token).await;
    let (sa_vault, sa_key) = sa.create_vault(&sa_token).await;
    let token = sesame_core::token::ServiceAccountToken::generate(
        &server.base,
        server.account,
        Id::generate(),
    )
    .unwrap();
    let reply = owner
        .post(
            "/v1/principals",
            common::create_principal_body(
                &server.owner,
                &token,
                "x",
                &[(&sa_vault, &sa_key, (READ_ITEMS | REVEAL_ITEM_PASSWORD))],
            ),
        )
        .await;
    assert_eq!(reply.status, 404, "{:?}", reply.body);
    let reply = owner
        .post(
            "/v1/principals",
            common::create_principal_body(
                &server.owner,
                &token,
                "x",
                &[
                    (&vault, &key, (READ_ITEMS | REVEAL_ITEM_PASSWORD)),
                    (&vault, &key, (READ_ITEMS | REVEAL_ITEM_PASSWORD)),
                ],
            ),
        )
        .await;
    assert_eq!(reply.status, 400, "duplicate vault");
    let reply = owner
        .post(
            "/v1/principals",
            common::create_principal_body(
                &server.owner,
                &token,
                "x",
                &[(&vault, &key, (READ_ITEMS | REVEAL_ITEM_PASSWORD))],
            ),
        )
        .await;
    assert_eq!(reply.status, 200);
    let reply = owner
        .post(
            "/v1/principals",
            common::create_principal_body(&server.owner, &token, "x", &[]),
        )
        .await;
    assert_eq!(reply.status, 409, "same principal id twice");
    server.shutdown().await;
}

const READ: u32 = READ_ITEMS | REVEAL_ITEM_PASSWORD;

/// The owner gives `token`'s service account the right to create vaults.
async fn allow_vault_creation(
    owner: &common::Session,
    token: &sesame_core::token::ServiceAccountToken,
) {
    let reply = owner
        .put(
            &format!("/v1/principals/{}/rights", token.principal_id()),
            json!({"canCreateVaults": true}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["canCreateVaults"], true);
}

#[tokio::test]
async fn creating_vaults_is_a_right_the_owner_gives() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let me = owner.get("/v1/principals/me").await;
    assert_eq!(me.body["canCreateVaults"], true, "the owner always may");

    // A read-only service account may not create a vault.
    let (token, reader) = server
        .service_account(&owner, &[(&vault, &key, READ)])
        .await;
    let (denied_vault, _) = {
        let vault = Id::generate();
        let key = VaultKey::generate();
        (vault, key)
    };
    let denied = reader
        .post("/v1/vaults", vault_body(&token, &denied_vault))
        .await;
    assert_eq!(
        (denied.status.as_u16(), denied.code()),
        (403, "permission_denied"),
        "{:?}",
        denied.body
    );
    assert!(
        denied.message().contains("may not create vaults")
            && denied.message().contains("--can-create-vaults"),
        "{}",
        denied.message()
    );
    let all = owner.get("/v1/account/vaults").await;
    assert_eq!(all.body.as_array().unwrap().len(), 1, "nothing was created");

    // The owner gives the right: it applies to the next request of the same session.
    allow_vault_creation(&owner, &token).await;
    let created = reader
        .post("/v1/vaults", vault_body(&token, &denied_vault))
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);

    // ... and takes it back.
    let reply = owner
        .put(
            &format!("/v1/principals/{}/rights", token.principal_id()),
            json!({"canCreateVaults": false}),
        )
        .await;
    assert_eq!(reply.body["canCreateVaults"], false);
    let again = reader
        .post("/v1/vaults", vault_body(&token, &Id::generate()))
        .await;
    assert_eq!(again.status, 403);

    // Given at creation.
    let maker = sesame_core::token::ServiceAccountToken::generate(
        &server.base,
        server.account,
        Id::generate(),
    )
    .unwrap();
    let mut body = common::create_principal_body(&server.owner, &maker, "maker", &[]);
    body["canCreateVaults"] = json!(true);
    let reply = owner.post("/v1/principals", body).await;
    assert_eq!(reply.body["canCreateVaults"], true, "{:?}", reply.body);
    let maker_session = server.login(&maker).await;
    let made = maker_session
        .post("/v1/vaults", vault_body(&maker, &Id::generate()))
        .await;
    assert_eq!(made.status, 200, "{:?}", made.body);

    // Only the owner sets rights, and not its own.
    let by_sa = reader
        .put(
            &format!("/v1/principals/{}/rights", token.principal_id()),
            json!({"canCreateVaults": true}),
        )
        .await;
    assert_eq!(by_sa.status, 403);
    let on_owner = owner
        .put(
            &format!("/v1/principals/{}/rights", server.owner.principal_id()),
            json!({"canCreateVaults": false}),
        )
        .await;
    assert_eq!(on_owner.status, 400, "{:?}", on_owner.body);
    server.shutdown().await;
}

/// A `POST /v1/vaults` body for `vault`, made and signed by `token`.
fn vault_body(token: &sesame_core::token::ServiceAccountToken, vault: &Id) -> serde_json::Value {
    let key = VaultKey::generate();
    let attributes = key
        .seal(
            &sesame_core::crypto::EnvelopeContext::vault_attributes(*token.account_id(), *vault, 1),
            b"{}",
        )
        .unwrap();
    let (wrapped, signature) = common::signed_wrap(token, &key, vault, token, 1);
    json!({"id": vault, "attributes": b64(&attributes), "wrappedKey": wrapped, "signature": signature})
}

#[tokio::test]
async fn the_owner_lists_and_deletes_vaults_it_has_no_key_for_even_after_revoke() {
    let server = start().await;
    let owner = server.owner().await;
    let (mine, _) = owner.create_vault(&server.owner).await;
    let (token, sa) = server.service_account(&owner, &[]).await;
    allow_vault_creation(&owner, &token).await;
    let (theirs, _) = sa.create_vault(&token).await;
    let (kept, _) = sa.create_vault(&token).await;

    // The owner's own listing is unchanged: only vaults it has a key for.
    let own = owner.get("/v1/vaults").await;
    assert_eq!(own.body.as_array().unwrap().len(), 1);
    // Every vault of the account, with its creator and whether the owner is a member.
    let all = owner.get("/v1/account/vaults").await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    let rows = all.body.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let row = |id: &Id| {
        rows.iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(row(&mine)["member"], true);
    assert_eq!(row(&theirs)["member"], false);
    assert_eq!(row(&theirs)["createdBy"], token.principal_id().as_str());
    assert_eq!(sa.get("/v1/account/vaults").await.status, 403);

    // The owner deletes a vault it has no grant on.
    assert_eq!(
        owner.delete(&format!("/v1/vaults/{theirs}")).await.status,
        204
    );
    assert_eq!(sa.get(&format!("/v1/vaults/{theirs}")).await.status, 404);

    // Revoking the creator removes its grants; its vault stays listed and deletable.
    assert_eq!(
        owner
            .delete(&format!("/v1/principals/{}", token.principal_id()))
            .await
            .status,
        204
    );
    let all = owner.get("/v1/account/vaults").await;
    let rows = all.body.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let orphan = rows.iter().find(|r| r["id"] == kept.as_str()).unwrap();
    assert_eq!(orphan["createdBy"], token.principal_id().as_str());
    assert_eq!(orphan["member"], false);
    assert_eq!(
        owner.delete(&format!("/v1/vaults/{kept}")).await.status,
        204
    );
    let all = owner.get("/v1/account/vaults").await;
    assert_eq!(all.body.as_array().unwrap().len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn a_vault_manager_cannot_lower_replace_or_remove_the_owners_grant() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let (token, manager) = server
        .service_account(&owner, &[(&vault, &key, READ | MANAGE_VAULT)])
        .await;
    let owner_id = server.owner.principal_id();
    let owner_access = format!("/v1/vaults/{vault}/access/{owner_id}");
    let before = owner.get(&format!("/v1/vaults/{vault}")).await.body["permissions"].clone();

    let lowered = manager
        .put(&owner_access, json!({"permissions": READ}))
        .await;
    assert_eq!(
        (lowered.status.as_u16(), lowered.code()),
        (403, "permission_denied"),
        "{:?}",
        lowered.body
    );
    assert!(
        lowered.message().contains("account owner") && lowered.message().contains("MANAGE_VAULT"),
        "{}",
        lowered.message()
    );
    // Replacing the owner's wrapped key (with one that may not open the vault) is refused.
    let other = VaultKey::generate();
    let (wrapped, signature) = common::signed_wrap(&token, &other, &vault, &server.owner, 1);
    let replaced = manager
        .put(
            &owner_access,
            json!({"permissions": before, "wrappedKey": wrapped, "signature": signature}),
        )
        .await;
    assert_eq!(replaced.status, 403, "{:?}", replaced.body);
    assert!(
        replaced.message().contains("wrapped key"),
        "{}",
        replaced.message()
    );
    let removed = manager.delete(&owner_access).await;
    assert_eq!(
        (removed.status.as_u16(), removed.code()),
        (403, "permission_denied"),
        "{:?}",
        removed.body
    );
    assert!(
        removed.message().contains("account owner"),
        "{}",
        removed.message()
    );

    // Nothing changed: the owner still has every permission and its own key.
    let after = owner.get(&format!("/v1/vaults/{vault}")).await;
    assert_eq!(after.body["permissions"], before);
    assert_eq!(after.body["grantedBy"], owner_id.as_str());
    // The manager still manages other members, and the owner its own grant.
    let sa_access = format!("/v1/vaults/{vault}/access/{}", token.principal_id());
    assert_eq!(
        manager
            .put(&sa_access, json!({"permissions": READ | MANAGE_VAULT}))
            .await
            .status,
        200
    );
    assert_eq!(
        owner
            .put(&owner_access, json!({"permissions": READ | MANAGE_VAULT}))
            .await
            .status,
        200
    );
    server.shutdown().await;
}

#[tokio::test]
async fn grants_without_reveal_item_password_are_refused_over_raw_http() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let (token, _) = server.service_account(&owner, &[]).await;
    let access = format!("/v1/vaults/{vault}/access/{}", token.principal_id());
    let (wrapped, signature) = common::signed_wrap(&server.owner, &key, &vault, &token, 1);
    for bits in [READ_ITEMS, READ_ITEMS | CREATE_ITEMS, REVEAL_ITEM_PASSWORD] {
        let reply = owner
            .put(
                &access,
                json!({"permissions": bits, "wrappedKey": wrapped, "signature": signature}),
            )
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, "invalid_input"),
            "{bits}: {:?}",
            reply.body
        );
        assert!(
            reply.message().contains("REVEAL_ITEM_PASSWORD"),
            "{}",
            reply.message()
        );
    }
    let refused = owner
        .put(
            &access,
            json!({"permissions": READ_ITEMS, "wrappedKey": wrapped, "signature": signature}),
        )
        .await;
    assert!(
        refused
            .message()
            .contains("does not support withholding concealed values")
            && refused
                .message()
                .contains("REVEAL_ITEM_PASSWORD must be included with READ_ITEMS"),
        "{}",
        refused.message()
    );
    assert_eq!(
        owner
            .get(&format!("/v1/vaults/{vault}/access"))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The same rule for the grants of a new service account.
    let other = sesame_core::token::ServiceAccountToken::generate(
        &server.base,
        server.account,
        Id::generate(),
    )
    .unwrap();
    let reply = owner
        .post(
            "/v1/principals",
            common::create_principal_body(
                &server.owner,
                &other,
                "x",
                &[(&vault, &key, READ_ITEMS)],
            ),
        )
        .await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert!(
        reply.message().contains("grants[0]") && reply.message().contains("REVEAL_ITEM_PASSWORD")
    );
    // With both bits it is granted.
    let ok = owner
        .put(
            &access,
            json!({"permissions": READ, "wrappedKey": wrapped, "signature": signature}),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    server.shutdown().await;
}

/// An account made before migration 0007 (a service account, a vault it created and a
/// READ_ITEMS-only grant) migrates to: the owner may create vaults, the service account
/// may not, the vault's creator is recorded and the grant states REVEAL_ITEM_PASSWORD.
#[tokio::test]
async fn accounts_from_before_vault_rights_migrate_cleanly() {
    use sesame_server::store::sqlite::MIGRATOR;
    use sqlx::Row as _;
    if common::on_postgres() {
        eprintln!("SKIPPED accounts_from_before_vault_rights…: SQLite's migration 0007; PostgreSQL's schema starts with every SQLite migration applied");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let before: Vec<_> = MIGRATOR
        .migrations
        .iter()
        .filter(|m| m.version < 7)
        .cloned()
        .collect();
    assert_eq!(before.len(), 6);
    let old = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(before),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    old.run(&pool).await.unwrap();
    for statement in [
        "INSERT INTO account VALUES ('acct', x'00', 0)",
        "INSERT INTO principals (id, account_id, name, kind, signing_public_key, \
         encryption_public_key, key_generation, created_at) VALUES \
         ('own', 'acct', 'owner', 'owner', 's', 'e', 1, 0), \
         ('sa', 'acct', 'ci', 'serviceAccount', 's', 'e', 1, 0)",
        "INSERT INTO vaults VALUES ('v', x'00', 1, 0, 0, 0)",
        "INSERT INTO vault_access VALUES ('v', 'sa', 1023, '{}', 'sa', 'sig'), \
         ('v', 'own', 32, '{}', 'sa', 'sig')",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    MIGRATOR.run(&pool).await.unwrap();
    let rights: Vec<(String, i64)> =
        sqlx::query("SELECT id, can_create_vaults FROM principals ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(rights, [("own".to_owned(), 1), ("sa".to_owned(), 0)]);
    let creator: Option<String> = sqlx::query("SELECT created_by FROM vaults")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(creator.as_deref(), Some("sa"));
    let owner_bits: i64 =
        sqlx::query("SELECT permissions FROM vault_access WHERE principal_id = 'own'")
            .fetch_one(&pool)
            .await
            .unwrap()
            .get(0);
    assert_eq!(owner_bits as u32, READ);
    let sa_bits: i64 =
        sqlx::query("SELECT permissions FROM vault_access WHERE principal_id = 'sa'")
            .fetch_one(&pool)
            .await
            .unwrap()
            .get(0);
    assert_eq!(sa_bits, 1023, "a grant with both bits is unchanged");
}
