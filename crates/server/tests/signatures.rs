//! The server checks principal certificates and grant signatures, rejecting bad ones with
//! `400` and storing nothing (clients verify them again; this keeps junk out).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{b64, certificate, create_principal_body, signed_wrap, start};
use serde_json::json;
use sesame_core::crypto::{account_id_for, EnvelopeContext, VaultKey};
use sesame_core::id::Id;
use sesame_core::model::permissions::{READ_ITEMS, REVEAL_ITEM_PASSWORD};
use sesame_core::token::ServiceAccountToken;

#[tokio::test]
async fn the_account_id_is_the_owner_key_fingerprint_and_auth_returns_the_owner() {
    let server = start().await;
    assert_eq!(
        account_id_for(&server.owner.keys().signing_public_key()),
        server.account
    );
    let (vault, key) = server.owner().await.create_vault(&server.owner).await;
    let owner = server.owner().await;
    let (sa_token, _) = server
        .service_account(
            &owner,
            &[(&vault, &key, (READ_ITEMS | REVEAL_ITEM_PASSWORD))],
        )
        .await;
    let reply = common::send(
        &server.http,
        reqwest::Method::POST,
        &server.url("/v1/auth"),
        None,
        Some(serde_json::to_value(common::auth_request(&sa_token, common::now())).unwrap()),
    )
    .await;
    assert_eq!(reply.status, 200);
    let anchor = &reply.body["owner"];
    assert_eq!(anchor["id"], server.owner.principal_id().as_str());
    assert_eq!(
        anchor["signingPublicKey"],
        b64(&server.owner.keys().signing_public_key())
    );
    assert_eq!(
        anchor["certificate"],
        certificate(&server.owner, &server.owner, 1)
    );
    assert_eq!(
        reply.body["principal"]["certificate"],
        certificate(&server.owner, &sa_token, 1)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_bad_certificate_or_grant_signature_creates_no_service_account() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let token =
        ServiceAccountToken::generate(&server.base, server.account, Id::generate()).unwrap();
    let good = create_principal_body(
        &server.owner,
        &token,
        "ci",
        &[(&vault, &key, (READ_ITEMS | REVEAL_ITEM_PASSWORD))],
    );

    let mut bodies = Vec::new();
    // Certified by the new principal itself instead of the owner.
    let mut body = good.clone();
    body["certificate"] = certificate(&token, &token, 1).into();
    bodies.push((body, "certificate"));
    // Certified for the wrong key generation.
    let mut body = good.clone();
    body["certificate"] = certificate(&server.owner, &token, 2).into();
    bodies.push((body, "certificate"));
    // Missing certificate.
    let mut body = good.clone();
    body.as_object_mut().unwrap().remove("certificate");
    bodies.push((body, "certificate"));
    // The grant signed by someone other than the caller (the attacker-ish new principal).
    let mut body = good.clone();
    let (_, foreign) = signed_wrap(&token, &key, &vault, &token, 1);
    body["grants"][0]["signature"] = foreign.into();
    bodies.push((body, "grants[0].signature"));
    // A wrapped key swapped under a valid signature of another one.
    let mut body = good.clone();
    let (other_wrap, _) = signed_wrap(&server.owner, &key, &vault, &token, 1);
    body["grants"][0]["wrappedKey"] = other_wrap;
    bodies.push((body, "grants[0].signature"));
    // Garbage.
    let mut body = good.clone();
    body["grants"][0]["signature"] = "AAAA".into();
    bodies.push((body, "grants[0].signature"));

    for (body, field) in bodies {
        let reply = owner.post("/v1/principals", body).await;
        assert_eq!(reply.status, 400, "{field}: {:?}", reply.body);
        assert!(
            reply.message().contains(field),
            "{field}: {}",
            reply.message()
        );
        let stored = owner
            .get(&format!("/v1/principals/{}", token.principal_id()))
            .await;
        assert_eq!(stored.status, 404, "nothing was stored");
    }
    let members = owner.get(&format!("/v1/vaults/{vault}/access")).await;
    assert_eq!(members.body.as_array().unwrap().len(), 1);

    // The good body still works.
    let reply = owner.post("/v1/principals", good).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body["certificate"],
        certificate(&server.owner, &token, 1)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_vault_needs_its_creators_grant_signature() {
    let server = start().await;
    let owner = server.owner().await;
    let vault = Id::generate();
    let key = VaultKey::generate();
    let attributes = b64(&key
        .seal(
            &EnvelopeContext::vault_attributes(server.account, vault, 1),
            b"{}",
        )
        .unwrap());
    let (wrapped, signature) = signed_wrap(&server.owner, &key, &vault, &server.owner, 1);
    let (_, other_vault_signature) =
        signed_wrap(&server.owner, &key, &Id::generate(), &server.owner, 1);
    for bad in [
        json!({"id": vault, "attributes": attributes, "wrappedKey": wrapped}),
        json!({"id": vault, "attributes": attributes, "wrappedKey": wrapped, "signature": other_vault_signature}),
        json!({"id": vault, "attributes": attributes, "wrappedKey": wrapped, "signature": b64(&[0; 64])}),
    ] {
        let reply = owner.post("/v1/vaults", bad).await;
        assert_eq!(reply.status, 400, "{:?}", reply.body);
        assert!(reply.message().contains("signature"), "{}", reply.message());
        assert_eq!(owner.get(&format!("/v1/vaults/{vault}")).await.status, 404);
    }
    let reply = owner
        .post(
            "/v1/vaults",
            json!({"id": vault, "attributes": attributes, "wrappedKey": wrapped, "signature": signature}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["grantSignature"], signature);
    server.shutdown().await;
}

#[tokio::test]
async fn an_access_grant_needs_a_signature_for_the_members_current_keys() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let (token, _) = server.service_account(&owner, &[]).await;
    let access = format!("/v1/vaults/{vault}/access/{}", token.principal_id());
    let (wrapped, signature) = signed_wrap(&server.owner, &key, &vault, &token, 1);
    let (_, wrong_generation) = signed_wrap(&server.owner, &key, &vault, &token, 2);
    let (_, by_member) = signed_wrap(&token, &key, &vault, &token, 1);
    for (bad, why) in [
        (
            json!({"permissions": (READ_ITEMS | REVEAL_ITEM_PASSWORD), "wrappedKey": wrapped}),
            "needs signature",
        ),
        (
            json!({"permissions": (READ_ITEMS | REVEAL_ITEM_PASSWORD), "signature": signature}),
            "without wrappedKey",
        ),
        (
            json!({"permissions": (READ_ITEMS | REVEAL_ITEM_PASSWORD), "wrappedKey": wrapped, "signature": wrong_generation}),
            "key generation 1",
        ),
        (
            json!({"permissions": (READ_ITEMS | REVEAL_ITEM_PASSWORD), "wrappedKey": wrapped, "signature": by_member}),
            "caller's signature",
        ),
    ] {
        let reply = owner.put(&access, bad).await;
        assert_eq!(reply.status, 400, "{why}: {:?}", reply.body);
        assert!(reply.message().contains(why), "{why}: {}", reply.message());
        let members = owner.get(&format!("/v1/vaults/{vault}/access")).await;
        assert_eq!(
            members.body.as_array().unwrap().len(),
            1,
            "{why}: nothing stored"
        );
    }
    let reply = owner
        .put(
            &access,
            json!({"permissions": (READ_ITEMS | REVEAL_ITEM_PASSWORD), "wrappedKey": wrapped, "signature": signature}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let member = server.login(&token).await;
    let record = member.get(&format!("/v1/vaults/{vault}")).await;
    assert_eq!(
        record.body["grantedBy"],
        server.owner.principal_id().as_str()
    );
    assert_eq!(record.body["grantSignature"], signature);
    server.shutdown().await;
}

#[tokio::test]
async fn rotation_needs_a_certificate_of_the_next_generation_and_never_rotates_the_owner() {
    let server = start().await;
    let owner = server.owner().await;
    let (token, _) = server.service_account(&owner, &[]).await;
    let id = *token.principal_id();
    let new_token = ServiceAccountToken::generate(&server.base, server.account, id).unwrap();
    let keys = new_token.keys();
    let body = |certificate: String| {
        json!({
            "signingPublicKey": b64(&keys.signing_public_key()),
            "encryptionPublicKey": b64(&keys.encryption_public_key()),
            "certificate": certificate,
            "grants": [],
        })
    };
    for bad in [
        certificate(&server.owner, &new_token, 1),
        certificate(&server.owner, &token, 2),
        certificate(&new_token, &new_token, 2),
    ] {
        let reply = owner
            .post(&format!("/v1/principals/{id}/rotate"), body(bad))
            .await;
        assert_eq!(reply.status, 400, "{:?}", reply.body);
        assert!(
            reply.message().contains("certificate"),
            "{}",
            reply.message()
        );
        let stored = owner.get(&format!("/v1/principals/{id}")).await;
        assert_eq!(stored.body["keyGeneration"], 1, "nothing was stored");
    }
    let reply = owner
        .post(
            &format!("/v1/principals/{id}/rotate"),
            body(certificate(&server.owner, &new_token, 2)),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["keyGeneration"], 2);

    let owner_id = server.owner.principal_id();
    let reply = owner
        .post(
            &format!("/v1/principals/{owner_id}/rotate"),
            body(certificate(&server.owner, &server.owner, 2)),
        )
        .await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert!(
        reply.message().contains("account owner"),
        "{}",
        reply.message()
    );
    server.shutdown().await;
}
