//! End to end: secret resolution rules, errors, delta sync and round-trip counts against
//! the real server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use sesame_core::model::VaultCreateParams;
use sesame_core::totp::Totp;
use sesame_core::{Client, ClientConfig, Error, ErrorCode};
use support::{login, Fixture, OPENSSH_KEY, TOTP_SECRET};

fn not_found_what(err: &Error) -> &str {
    match err {
        Error::NotFound { what, .. } => what.as_str(),
        other => panic!("expected not found, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_resolves_by_every_rule() {
    let fx = Fixture::new().await;
    let sa = fx.service_account().await;
    let secrets = sa.secrets();
    let r = |s: &'static str| secrets.resolve(s);

    assert_eq!(r("op://Infra/Postgres/password").await.unwrap(), "pg-top");
    // Names match case-insensitively; the unnamed section wins for three segments.
    assert_eq!(r("op://infra/POSTGRES/Password").await.unwrap(), "pg-top");
    assert_eq!(
        r("op://Infra/Postgres/Admin/password").await.unwrap(),
        "pg-admin"
    );
    // A field only in a named section is still found with three segments.
    assert_eq!(r("op://Infra/Postgres/host").await.unwrap(), "db.internal");
    // Ids match exactly.
    let by_id = format!("op://{}/{}/adminpw", fx.vault_id, fx.postgres_id);
    assert_eq!(secrets.resolve(&by_id).await.unwrap(), "pg-admin");
    // Attributes.
    let totp = Totp::parse(TOTP_SECRET).unwrap();
    let before = totp.now().unwrap().code().to_owned();
    let code = r("op://Infra/Postgres/Security/one-time password?attribute=totp")
        .await
        .unwrap();
    let after = totp.now().unwrap().code().to_owned();
    assert!(
        code == before || code == after,
        "{code} is not the current TOTP"
    );
    assert_eq!(code.len(), 6);
    assert_eq!(
        r("op://Infra/Postgres/password?attribute=type")
            .await
            .unwrap(),
        "Concealed"
    );
    assert_eq!(
        r("op://Infra/Postgres/password?attribute=purpose")
            .await
            .unwrap(),
        "PASSWORD"
    );
    assert_eq!(
        r("op://Infra/Postgres/username?attribute=purpose")
            .await
            .unwrap(),
        "USERNAME"
    );
    assert_eq!(
        r("op://Infra/Postgres/Admin/password?attr=id")
            .await
            .unwrap(),
        "adminpw"
    );
    assert_eq!(
        r("op://Infra/Postgres/private key?ssh-format=openssh")
            .await
            .unwrap(),
        OPENSSH_KEY
    );
    assert_eq!(r("op://Infra/Postgres/notes").await.unwrap(), "pg notes");

    // Errors name the segment that failed.
    let err = r("op://Nope/Postgres/password").await.unwrap_err();
    assert_eq!(not_found_what(&err), "vault");
    let err = r("op://Infra/Nope/password").await.unwrap_err();
    assert_eq!(not_found_what(&err), "item");
    let err = r("op://Infra/Postgres/Nope/password").await.unwrap_err();
    assert_eq!(not_found_what(&err), "section");
    let err = r("op://Infra/Postgres/nope").await.unwrap_err();
    assert_eq!(not_found_what(&err), "field");
    let err = r("op://Infra/Postgres/cert.pem?attribute=content")
        .await
        .unwrap_err();
    assert_eq!(not_found_what(&err), "file");
    let err = r("op://Infra/Postgres/password?attribute=otp")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let err = r("op://Infra/Postgres/password?ssh-format=openssh")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let rounds = sa.round_trips();
    let err = r("op:/Infra/Postgres").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidReference);
    assert_eq!(
        sa.round_trips(),
        rounds,
        "a malformed reference costs no round trip"
    );

    // A vault the service account was not granted looks exactly like a missing one.
    fx.owner
        .vaults()
        .create(VaultCreateParams::new("Payroll"))
        .await
        .unwrap();
    let err = r("op://Payroll/anything/password").await.unwrap_err();
    assert_eq!(not_found_what(&err), "vault");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguity_lists_ids_and_archived_items_never_resolve() {
    let fx = Fixture::new().await;
    let items = fx.owner.items();
    let a = items
        .create(login(&fx.vault_id, "Shared", "one"))
        .await
        .unwrap();
    let b = items
        .create(login(&fx.vault_id, "shared", "two"))
        .await
        .unwrap();
    let sa = fx.service_account().await;
    let err = sa
        .secrets()
        .resolve("op://Infra/Shared/password")
        .await
        .unwrap_err();
    match &err {
        Error::Ambiguous {
            what, candidates, ..
        } => {
            assert_eq!(what, "item");
            let mut got = candidates.clone();
            got.sort();
            let mut want = vec![a.id.clone(), b.id.clone()];
            want.sort();
            assert_eq!(got, want);
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert!(err.to_string().contains(&a.id) && err.to_string().contains(&b.id));

    // Archiving one removes it from matching: the name is no longer ambiguous.
    items.archive(&fx.vault_id, &a.id).await.unwrap();
    assert_eq!(
        sa.secrets()
            .resolve("op://Infra/Shared/password")
            .await
            .unwrap(),
        "two"
    );
    // An archived item does not resolve, even by id.
    let err = sa
        .secrets()
        .resolve(&format!("op://Infra/{}/password", a.id))
        .await
        .unwrap_err();
    assert_eq!(not_found_what(&err), "item");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_sync_shows_one_clients_change_to_another() {
    let fx = Fixture::new().await;
    let sa = fx.service_account().await;
    assert_eq!(
        sa.secrets()
            .resolve("op://Infra/Postgres/password")
            .await
            .unwrap(),
        "pg-top"
    );

    fx.set_postgres_password("rotated").await;
    assert_eq!(
        sa.secrets()
            .resolve("op://Infra/Postgres/password")
            .await
            .unwrap(),
        "rotated"
    );

    let new = fx
        .owner
        .items()
        .create(login(&fx.vault_id, "Redis", "r3d1s"))
        .await
        .unwrap();
    assert_eq!(
        sa.secrets()
            .resolve("op://Infra/Redis/password")
            .await
            .unwrap(),
        "r3d1s"
    );

    fx.owner
        .items()
        .delete(&fx.vault_id, &new.id)
        .await
        .unwrap();
    let err = sa
        .secrets()
        .resolve("op://Infra/Redis/password")
        .await
        .unwrap_err();
    assert_eq!(not_found_what(&err), "item");

    // Renaming the vault is seen too.
    fx.owner
        .vaults()
        .update(
            &fx.vault_id,
            sesame_core::model::VaultUpdateParams {
                title: Some("Platform".into()),
                description: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        sa.secrets()
            .resolve("op://Platform/Postgres/password")
            .await
            .unwrap(),
        "rotated"
    );
    let err = sa
        .secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap_err();
    assert_eq!(not_found_what(&err), "vault");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_warm_resolve_ttl_and_resolve_all() {
    let fx = Fixture::new().await;
    let mut refs = Vec::new();
    for batch in 0..2 {
        let params = (0..50)
            .map(|i| {
                login(
                    &fx.vault_id,
                    &format!("svc-{batch}-{i}"),
                    &format!("pw-{batch}-{i}"),
                )
            })
            .collect();
        let created = fx
            .owner
            .items()
            .create_all(&fx.vault_id, params)
            .await
            .unwrap();
        assert!(created.individual_responses.iter().all(Result::is_ok));
    }
    for batch in 0..2 {
        for i in 0..50 {
            refs.push(format!("op://Infra/svc-{batch}-{i}/password"));
        }
    }
    let sa = fx.service_account().await;
    // Cold: authentication + one sync.
    assert_eq!(sa.round_trips(), 1, "authenticate is one round trip");
    sa.secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap();
    assert_eq!(sa.round_trips(), 2, "a cold resolve is one sync");

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
        1,
        "a warm resolve is exactly one round trip"
    );

    let before = sa.round_trips();
    let all = sa.secrets().resolve_all(&refs).await.unwrap();
    assert!(
        sa.round_trips() - before <= 2,
        "resolve_all of 100 took {}",
        sa.round_trips() - before
    );
    assert_eq!(all.individual_responses.len(), 100);
    assert_eq!(
        all.get("op://Infra/svc-1-49/password")
            .unwrap()
            .as_ref()
            .unwrap()
            .secret,
        "pw-1-49"
    );
    assert!(all.individual_responses.values().all(Result::is_ok));

    // cache_ttl: fresh means zero round trips; zero means always sync.
    let cached = cached_client(&fx, &fx.sa_token, Duration::from_secs(60)).await;
    cached
        .secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap();
    let before = cached.round_trips();
    for _ in 0..5 {
        cached
            .secrets()
            .resolve("op://Infra/Postgres/password")
            .await
            .unwrap();
    }
    cached.secrets().resolve_all(&refs).await.unwrap();
    assert_eq!(
        cached.round_trips(),
        before,
        "a fresh cache_ttl costs no round trip"
    );

    let zero = cached_client(&fx, &fx.sa_token, Duration::ZERO).await;
    zero.secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap();
    let before = zero.round_trips();
    zero.secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap();
    assert_eq!(
        zero.round_trips() - before,
        1,
        "cache_ttl = 0 syncs every time"
    );
}

/// A client of `token` whose reads skip the sync while the last is younger than `ttl`.
async fn cached_client(fx: &Fixture, token: &secrecy::SecretString, ttl: Duration) -> Client {
    Client::authenticate(
        secrecy::ExposeSecret::expose_secret(token),
        ClientConfig {
            cache_ttl: Some(ttl),
            ..fx.server.config()
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_client_reads_its_own_writes() {
    let fx = Fixture::new().await;
    let cached = cached_client(&fx, fx.server.owner_token(), Duration::from_secs(60)).await;
    cached
        .secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap();
    cached
        .items()
        .create(login(&fx.vault_id, "Fresh", "fresh-pw"))
        .await
        .unwrap();
    // The write made the cache stale: the next read syncs and sees it.
    assert_eq!(
        cached
            .secrets()
            .resolve("op://Infra/Fresh/password")
            .await
            .unwrap(),
        "fresh-pw"
    );
    // Then it is fresh again for cache_ttl.
    let before = cached.round_trips();
    cached
        .secrets()
        .resolve("op://Infra/Fresh/password")
        .await
        .unwrap();
    assert_eq!(cached.round_trips(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_is_correct_under_many_concurrent_tasks() {
    let fx = Fixture::new().await;
    for i in 0..8 {
        fx.owner
            .items()
            .create(login(
                &fx.vault_id,
                &format!("task-{i}"),
                &format!("secret-{i}"),
            ))
            .await
            .unwrap();
    }
    let sa = fx.service_account().await;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..32 {
        let client = sa.clone();
        tasks.spawn(async move {
            for round in 0..5 {
                let i = (t + round) % 8;
                let value = client
                    .secrets()
                    .resolve(&format!("op://Infra/task-{i}/password"))
                    .await
                    .unwrap();
                assert_eq!(value, format!("secret-{i}"));
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_resolves_share_syncs_and_still_read_every_earlier_write() {
    let fx = Fixture::new().await;
    let sa = fx.service_account().await;
    sa.secrets()
        .resolve("op://Infra/Postgres/password")
        .await
        .unwrap();

    // 64 resolves at once: those that arrive while a sync is in flight share the next
    // one, instead of queueing one round trip each.
    let before = sa.round_trips();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let client = sa.clone();
        tasks.spawn(async move {
            client
                .secrets()
                .resolve("op://Infra/Postgres/password")
                .await
                .unwrap()
        });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.unwrap(), "pg-top");
    }
    let trips = sa.round_trips() - before;
    assert!(
        trips < 16,
        "64 concurrent resolves took {trips} round trips"
    );

    // Sharing never serves a sync that started before a read did: while reads keep
    // running, every value written before a resolve starts is what it returns.
    let background = {
        let client = sa.clone();
        tokio::spawn(async move {
            loop {
                let _ = client
                    .secrets()
                    .resolve("op://Infra/Postgres/password")
                    .await;
            }
        })
    };
    for round in 0..5 {
        fx.set_postgres_password(&format!("rotated-{round}")).await;
        assert_eq!(
            sa.secrets()
                .resolve("op://Infra/Postgres/password")
                .await
                .unwrap(),
            format!("rotated-{round}")
        );
    }
    background.abort();
}
