//! End to end: authentication, permissions, revocation, rotation and rate limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use secrecy::ExposeSecret;
use sesame_core::model::{permissions, VaultCreateParams, VaultUpdateParams};
use sesame_core::{Client, ClientConfig, Error, ErrorCode};
use support::{login, Fixture, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_fails_locally_or_clearly() {
    let fx = Fixture::new().await;
    let token = fx.sa_token.expose_secret();
    // Malformed tokens fail before any network call (the URL points nowhere).
    let nowhere = ClientConfig {
        server_url: Some("http://127.0.0.1:9".into()),
        ..fx.server.config()
    };
    let truncated = &token[..token.len() - 3];
    let err = Client::authenticate(truncated, nowhere.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidToken);
    assert!(!err.to_string().contains(truncated));
    let err = Client::authenticate(
        token,
        ClientConfig {
            integration_name: String::new(),
            ..nowhere.clone()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("integration_name"));
    let err = Client::authenticate(
        token,
        ClientConfig {
            retries: 0,
            ..nowhere
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Network);

    let sa = fx.service_account().await;
    let debug = format!("{sa:?}");
    assert!(!debug.contains(token), "Debug leaks the token");
    assert!(debug.contains("[redacted]"));
    assert_eq!(sa.principal().unwrap().name, "ci-reader");
    sa.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_service_account_is_denied_everything_else() {
    let fx = Fixture::new().await;
    let sa = fx.service_account().await;
    let denied = |e: Error| assert_eq!(e.code(), ErrorCode::PermissionDenied, "{e}");
    denied(
        sa.items()
            .create(login(&fx.vault_id, "new", "x"))
            .await
            .unwrap_err(),
    );
    let item = sa.items().get(&fx.vault_id, &fx.postgres_id).await.unwrap();
    denied(sa.items().put(&item).await.unwrap_err());
    denied(
        sa.items()
            .archive(&fx.vault_id, &fx.postgres_id)
            .await
            .unwrap_err(),
    );
    denied(
        sa.items()
            .delete(&fx.vault_id, &fx.postgres_id)
            .await
            .unwrap_err(),
    );
    denied(
        sa.vaults()
            .update(
                &fx.vault_id,
                VaultUpdateParams {
                    title: Some("mine".into()),
                    description: None,
                },
            )
            .await
            .unwrap_err(),
    );
    denied(
        sa.vaults()
            .grant(&fx.vault_id, &fx.sa_id, permissions::MANAGE_VAULT)
            .await
            .unwrap_err(),
    );
    denied(sa.vaults().delete(&fx.vault_id).await.unwrap_err());
    denied(
        sa.service_accounts()
            .create("escalate", &[], None)
            .await
            .unwrap_err(),
    );
    denied(sa.service_accounts().list().await.map(|_| ()).unwrap_err());
    // A vault it was never granted is indistinguishable from one that does not exist.
    let hidden = fx
        .owner
        .vaults()
        .create(VaultCreateParams::new("Hidden"))
        .await
        .unwrap();
    let err = sa
        .items()
        .create(login(&hidden.id, "x", "y"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    // Nothing changed.
    assert_eq!(
        fx.owner
            .items()
            .get(&fx.vault_id, &fx.postgres_id)
            .await
            .unwrap()
            .version,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_and_rotated_tokens_stop_working() {
    let fx = Fixture::new().await;
    let sa = fx.service_account().await;
    assert_eq!(
        sa.secrets()
            .resolve("op://Infra/Postgres/password")
            .await
            .unwrap(),
        "pg-top"
    );

    let new_token = fx.owner.service_accounts().rotate(&fx.sa_id).await.unwrap();
    let err = sa
        .secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthenticated, "{err}");
    let rotated = fx.server.connect(&new_token).await;
    assert_eq!(
        rotated
            .secrets()
            .resolve("op://Infra/Postgres/password")
            .await
            .unwrap(),
        "pg-top"
    );

    let listed = fx.owner.service_accounts().list().await.unwrap();
    assert!(listed
        .iter()
        .any(|p| p.id.as_str() == fx.sa_id && p.key_generation > 1));

    fx.owner.service_accounts().revoke(&fx.sa_id).await.unwrap();
    let err = rotated
        .secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthenticated, "{err}");
    let err = Client::authenticate(new_token.expose_secret(), fx.server.config())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthenticated, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_surface_as_errors_and_state() {
    let server = Server::start_with_env(&[("SESAME_RATE_LIMIT_READS", "12")]);
    let fx = Fixture::with_server(server).await;
    let sa = fx.service_account().await;
    let mut last = None;
    let mut resolved = 0;
    for _ in 0..30 {
        match sa.secrets().resolve("op://Infra/Postgres/password").await {
            Ok(_) => {
                resolved += 1;
                last = sa.rate_limit();
            }
            Err(e) => {
                last = sa.rate_limit();
                match e {
                    Error::RateLimited { retry_after } => {
                        assert!(retry_after.is_some_and(|d| d.as_secs() > 0));
                        break;
                    }
                    other => panic!("expected rate limiting, got {other:?}"),
                }
            }
        }
    }
    assert!(
        (1..=12).contains(&resolved),
        "resolved {resolved} times under a budget of 12"
    );
    let state = last.expect("rate-limit headers");
    assert_eq!(state.limit, 12);
    assert_eq!(state.remaining, 0);
    assert!(state.reset.as_secs() > 0);
    // Another principal has its own budget.
    fx.owner
        .secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_are_renewed_transparently() {
    let server = Server::start_with_env(&[("SESAME_SESSION_TTL", "2")]);
    let fx = Fixture::with_server(server).await;
    let sa = fx.service_account().await;
    assert_eq!(
        sa.secrets()
            .resolve("op://Infra/Postgres/password")
            .await
            .unwrap(),
        "pg-top"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let before = sa.round_trips();
    assert_eq!(
        sa.secrets()
            .resolve("op://Infra/Postgres/password")
            .await
            .unwrap(),
        "pg-top"
    );
    assert_eq!(
        sa.round_trips() - before,
        2,
        "one authentication, then the sync"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_chain_of_client_activity_verifies() {
    let fx = Fixture::new().await;
    let sa = fx.service_account().await;
    sa.secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap();
    let _ = sa
        .items()
        .create(login(&fx.vault_id, "denied", "x"))
        .await
        .unwrap_err();
    fx.owner
        .items()
        .archive(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap();
    let (ok, out) = fx.server.audit_verify();
    assert!(ok, "audit verify failed: {out}");
    assert!(out.contains("intact"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_rights_creation_unreadable_vaults_and_reveal() {
    use sesame_core::api::ServiceAccountRights;
    let fx = Fixture::new().await;
    let reader = fx.service_account().await;
    // A read-only service account may not create a vault.
    let err = reader
        .vaults()
        .create(VaultCreateParams::new("Mine"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied, "{err}");
    assert!(err.to_string().contains("may not create vaults"), "{err}");

    // One given the right can; the owner lists its vault though it has no key for it.
    let (maker, maker_token) = fx
        .owner
        .service_accounts()
        .create_with_rights(
            "maker",
            &[],
            None,
            ServiceAccountRights {
                can_create_vaults: true,
            },
        )
        .await
        .unwrap();
    assert!(maker.can_create_vaults);
    let maker_client = fx.server.connect(&maker_token).await;
    let theirs = maker_client
        .vaults()
        .create(VaultCreateParams::new("Theirs"))
        .await
        .unwrap();
    let kept = maker_client
        .vaults()
        .create(VaultCreateParams::new("Kept"))
        .await
        .unwrap();
    let listed = fx.owner.vaults().list().await.unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    let unreadable = listed.iter().find(|v| v.id == theirs.id).unwrap();
    assert_eq!(unreadable.title, "");
    let reason = unreadable.unreadable.as_deref().unwrap();
    assert_eq!(
        reason,
        format!(
            "no key for this vault: it was created by {} and not shared with you",
            maker.id
        )
    );
    let json = serde_json::to_value(unreadable).unwrap();
    assert_eq!(json["unreadable"], reason);
    let infra = listed.iter().find(|v| v.id == fx.vault_id).unwrap();
    assert_eq!(
        (infra.title.as_str(), infra.unreadable.as_ref()),
        ("Infra", None)
    );
    // The owner deletes it.
    fx.owner.vaults().delete(&theirs.id).await.unwrap();
    assert!(fx
        .owner
        .vaults()
        .list()
        .await
        .unwrap()
        .iter()
        .all(|v| v.id != theirs.id));

    // The owner takes the right back.
    let changed = fx
        .owner
        .service_accounts()
        .set_rights(
            maker.id.as_str(),
            ServiceAccountRights {
                can_create_vaults: false,
            },
        )
        .await
        .unwrap();
    assert!(!changed.can_create_vaults);
    let err = maker_client
        .vaults()
        .create(VaultCreateParams::new("Again"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);

    // A revoked creator's vault is still listed to the owner, and deletable.
    fx.owner
        .service_accounts()
        .revoke(maker.id.as_str())
        .await
        .unwrap();
    let listed = fx.owner.vaults().list().await.unwrap();
    let orphan = listed.iter().find(|v| v.id == kept.id).unwrap();
    assert!(orphan
        .unreadable
        .as_deref()
        .unwrap()
        .contains(maker.id.as_str()));
    fx.owner.vaults().delete(&kept.id).await.unwrap();

    // READ_ITEMS without REVEAL_ITEM_PASSWORD is refused before any request.
    let before = fx.owner.round_trips();
    for result in [
        fx.owner
            .vaults()
            .grant(&fx.vault_id, &fx.sa_id, permissions::READ_ITEMS)
            .await
            .map(|_| ()),
        fx.owner
            .vaults()
            .update_permissions(&fx.vault_id, &fx.sa_id, permissions::READ_ITEMS)
            .await
            .map(|_| ()),
        fx.owner
            .service_accounts()
            .create("x", &[(&fx.vault_id, permissions::READ_ITEMS)], None)
            .await
            .map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
        assert!(
            err.to_string()
                .contains("REVEAL_ITEM_PASSWORD must be included with READ_ITEMS"),
            "{err}"
        );
    }
    assert_eq!(fx.owner.round_trips(), before, "refused before any request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_manager_cannot_lower_or_remove_the_owners_grant() {
    let fx = Fixture::new().await;
    let read = permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD;
    fx.owner
        .vaults()
        .update_permissions(&fx.vault_id, &fx.sa_id, read | permissions::MANAGE_VAULT)
        .await
        .unwrap();
    let manager = fx.service_account().await;
    let owner_id = fx.owner.principal().unwrap().id.to_string();
    let err = manager
        .vaults()
        .update_permissions(&fx.vault_id, &owner_id, read)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied, "{err}");
    assert!(err.to_string().contains("account owner"), "{err}");
    let err = manager
        .vaults()
        .revoke(&fx.vault_id, &owner_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied, "{err}");
    assert!(err.to_string().contains("account owner"), "{err}");
    // The owner still reads and manages the vault.
    fx.owner
        .items()
        .get(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap();
    fx.owner
        .vaults()
        .update_permissions(&fx.vault_id, &fx.sa_id, read)
        .await
        .unwrap();
}
