//! Vaults and grants over real HTTP, including the 404-versus-403 rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{b64, start};
use serde_json::json;
use sesame_core::crypto::VaultKey;
use sesame_core::id::Id;
use sesame_core::model::permissions::{CREATE_ITEMS, MANAGE_VAULT, READ_ITEMS};

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
        .service_account(&owner, &[(&vault, &key, READ_ITEMS)])
        .await;

    // The reader sees only its vault, with its permissions.
    let list = reader.get("/v1/vaults").await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["permissions"], READ_ITEMS);

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
    let reply = owner.put(&access, json!({"permissions": READ_ITEMS})).await;
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
            json!({"permissions": READ_ITEMS, "wrappedKey": wrapped, "signature": signature}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["permissions"], READ_ITEMS);

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
        .put(&access, json!({"permissions": READ_ITEMS | CREATE_ITEMS}))
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
            json!({"permissions": READ_ITEMS, "wrappedKey": wrapped, "signature": signature}),
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
                &[(&sa_vault, &sa_key, READ_ITEMS)],
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
                &[(&vault, &key, READ_ITEMS), (&vault, &key, READ_ITEMS)],
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
                &[(&vault, &key, READ_ITEMS)],
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
