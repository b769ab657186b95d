//! Share links through `sesame-core` against the real `sesame` server binary: the link
//! opens to the item exactly as shared, the server never holds it in plaintext, and every
//! share option, policy rule, permission, revocation and tampering is honoured.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../server/tests/common/smtp_sink.rs"]
mod smtp_sink;
mod support;

use std::time::Duration;

use sesame_core::client::{open_share_link, open_share_link_with_code, request_share_code};
use sesame_core::crypto::ShareSecret;
use sesame_core::model::{
    AllowedRecipientType, AllowedType, DocumentCreateParams, FileCreateParams, Item, ItemCategory,
    ItemCreateParams, ItemSection, ItemShareAccountPolicy, ItemShareDuration, ItemShareParams,
    ValidRecipient,
};
use sesame_core::ErrorCode;
use smtp_sink::SmtpSink;
use support::{Fixture, Server};

const TIMEOUT: Duration = Duration::from_secs(10);

async fn postgres(fx: &Fixture) -> Item {
    fx.owner
        .items()
        .get(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_link_opens_to_the_item_as_shared_and_the_server_never_sees_it() {
    let fx = Fixture::new().await;
    let item = postgres(&fx).await;
    let shares = fx.owner.items().shares();
    let policy = shares
        .get_account_policy(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap();
    assert_eq!(policy, ItemShareAccountPolicy::default());
    let link = shares
        .create(&item, &policy, support::one_time_share())
        .await
        .unwrap();
    assert!(link.starts_with(&format!("{}/s/", fx.server.url)), "{link}");

    let shared = open_share_link(&link, TIMEOUT).await.unwrap();
    assert_eq!(shared.title, "Postgres");
    assert_eq!(shared.category, ItemCategory::Database);
    assert_eq!(shared.fields, item.fields);
    assert_eq!(shared.sections, item.sections);
    assert_eq!(
        (shared.notes.as_str(), &shared.tags),
        ("pg notes", &item.tags)
    );
    assert!(shared.files.is_empty());
    assert_eq!(shared.views_left, Some(0));
    let debug = format!("{shared:?}");
    assert!(
        !debug.contains("pg-top") && !debug.contains("pg notes"),
        "{debug}"
    );

    let again = open_share_link(&link, TIMEOUT).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::NotFound);
    assert!(again.to_string().contains("already viewed"), "{again}");

    let listed = shares.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].views, listed[0].max_views), (1, Some(1)));
    assert_eq!(listed[0].item_id.as_str(), fx.postgres_id);

    // Neither the values nor the link's secret ever reached the database.
    let fragment = link.split_once('#').unwrap().1.to_owned();
    let mut scanned = 0;
    for path in fx.server.db_files() {
        let bytes = std::fs::read(&path).unwrap();
        scanned += bytes.len();
        for needle in ["pg-top", "pg-admin", "pg notes", "db.internal", &fragment] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle:?} found in {}",
                path.display()
            );
        }
    }
    assert!(scanned > 0);
    let (intact, report) = fx.server.audit_verify();
    assert!(intact, "{report}");
}

#[tokio::test]
async fn every_option_is_honoured_and_the_policy_and_permissions_are_enforced() {
    let fx = Fixture::new().await;
    let item = postgres(&fx).await;
    let shares = fx.owner.items().shares();
    let policy = ItemShareAccountPolicy::default();

    // Every duration, and the default when none is given.
    for duration in ItemShareDuration::ALL {
        let params = ItemShareParams {
            expire_after: Some(duration),
            ..ItemShareParams::default()
        };
        shares.create(&item, &policy, params).await.unwrap();
    }
    let link = shares
        .create(&item, &policy, ItemShareParams::default())
        .await
        .unwrap();
    let listed = shares.list().await.unwrap();
    let mut lifetimes: Vec<i64> = listed
        .iter()
        .map(|s| (s.expires_at - s.created_at).whole_seconds())
        .collect();
    lifetimes.sort_unstable();
    let mut expected: Vec<i64> = ItemShareDuration::ALL
        .iter()
        .map(|d| d.seconds() as i64)
        .chain([ItemShareDuration::SevenDays.seconds() as i64])
        .collect();
    expected.sort_unstable();
    assert_eq!(lifetimes, expected);
    assert!(listed.iter().all(|s| s.max_views.is_none()));
    // An unlimited link opens again and again.
    for _ in 0..3 {
        assert_eq!(
            open_share_link(&link, TIMEOUT).await.unwrap().views_left,
            None
        );
    }

    // A tighter policy, set by the owner, binds the next shares.
    let tight = ItemShareAccountPolicy {
        max_expiry: ItemShareDuration::OneDay,
        default_expiry: ItemShareDuration::OneHour,
        max_views: Some(2),
        ..ItemShareAccountPolicy::default()
    };
    assert_eq!(shares.set_account_policy(&tight).await.unwrap(), tight);
    let policy = shares
        .get_account_policy(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap();
    assert_eq!(policy, tight);
    let too_long = ItemShareParams {
        expire_after: Some(ItemShareDuration::SevenDays),
        ..ItemShareParams::default()
    };
    let err = shares.create(&item, &policy, too_long).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("OneDay"), "{err}");
    // The server enforces it too, whatever policy a client believes in.
    let err = shares
        .create(
            &item,
            &ItemShareAccountPolicy::default(),
            ItemShareParams {
                expire_after: Some(ItemShareDuration::ThirtyDays),
                ..ItemShareParams::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(
        err.to_string().contains("longer than the share policy"),
        "{err}"
    );
    let link = shares
        .create(&item, &policy, ItemShareParams::default())
        .await
        .unwrap();
    assert_eq!(
        open_share_link(&link, TIMEOUT).await.unwrap().views_left,
        Some(1)
    );
    assert_eq!(
        open_share_link(&link, TIMEOUT).await.unwrap().views_left,
        Some(0)
    );
    assert!(open_share_link(&link, TIMEOUT).await.is_err());
    let newest = &shares.list().await.unwrap()[0];
    assert_eq!(
        (newest.expires_at - newest.created_at).whole_seconds(),
        3600,
        "the policy's default expiry"
    );

    // Recipients: validated precisely, and refused when the policy allows public links
    // only (this server has no SMTP, so it could not allow anything else).
    let err = shares
        .validate_recipients(&policy, &["bob@example.com"])
        .unwrap_err();
    assert!(err.to_string().contains("only public links"), "{err}");
    let err = shares
        .validate_recipients(&policy, &["bob@@example.com"])
        .unwrap_err();
    assert!(err.to_string().contains("recipient 1"), "{err}");
    let with_recipients = ItemShareParams {
        recipients: Some(vec![ValidRecipient::Email {
            email: "bob@example.com".into(),
        }]),
        ..ItemShareParams::default()
    };
    let err = shares
        .create(&item, &policy, with_recipients.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("only public links"), "{err}");
    // The server refuses them whatever policy a client believes in.
    let mut believed = policy.clone();
    believed.allowed_types.push(AllowedType::Authenticated);
    believed
        .allowed_recipient_types
        .push(AllowedRecipientType::Email);
    let err = shares
        .create(&item, &believed, with_recipients)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not supported"), "{err}");
    let err = shares.set_account_policy(&believed).await.unwrap_err();
    assert!(err.to_string().contains("smtp_url"), "{err}");

    // A read-only service account may read the policy but neither share nor set it.
    let reader = fx.service_account().await;
    let reader_shares = reader.items().shares();
    let policy = reader_shares
        .get_account_policy(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap();
    let err = reader_shares
        .create(&item, &policy, ItemShareParams::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    assert!(err.to_string().contains("SEND_ITEMS"), "{err}");
    let err = reader_shares.set_account_policy(&policy).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    assert!(reader_shares.list().await.unwrap().is_empty());
    let someone_elses = shares.list().await.unwrap()[0].id;
    let err = reader_shares
        .revoke(someone_elses.as_str())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn files_go_along_only_when_the_policy_allows_them() {
    let fx = Fixture::new().await;
    let shares = fx.owner.items().shares();
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let item = fx
        .owner
        .items()
        .create(ItemCreateParams {
            sections: Some(vec![ItemSection {
                id: "files".into(),
                title: "Files".into(),
            }]),
            files: Some(vec![FileCreateParams {
                name: "key.bin".into(),
                content: bytes.clone(),
                section_id: "files".into(),
                field_id: "key".into(),
            }]),
            ..ItemCreateParams::new(ItemCategory::SecureNote, &fx.vault_id, "With a file")
        })
        .await
        .unwrap();

    // Files not allowed (the default): the fields are shared, the file is not.
    let policy = ItemShareAccountPolicy::default();
    let link = shares
        .create(&item, &policy, ItemShareParams::default())
        .await
        .unwrap();
    let shared = open_share_link(&link, TIMEOUT).await.unwrap();
    assert_eq!(shared.title, "With a file");
    assert!(shared.files.is_empty());
    assert!(!shares.list().await.unwrap()[0].has_files);

    let mut policy = ItemShareAccountPolicy::default();
    policy.files.allowed = true;
    policy.files.max_size = 64 * 1024;
    shares.set_account_policy(&policy).await.unwrap();
    let link = shares
        .create(&item, &policy, support::one_time_share())
        .await
        .unwrap();
    let shared = open_share_link(&link, TIMEOUT).await.unwrap();
    assert_eq!(shared.files.len(), 1);
    assert_eq!(shared.files[0].name, "key.bin");
    assert_eq!(shared.files[0].content, bytes);
    assert!(!format!("{:?}", shared.files[0]).contains("251"));
    assert!(shares.list().await.unwrap()[0].has_files);

    // Too large for the policy: refused before anything is downloaded or stored.
    policy.files.max_size = 1000;
    shares.set_account_policy(&policy).await.unwrap();
    let before = shares.list().await.unwrap().len();
    let err = shares
        .create(&item, &policy, ItemShareParams::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("files.maxSize"), "{err}");
    assert_eq!(shares.list().await.unwrap().len(), before);

    // A document is its file: without files it cannot be shared.
    let document = fx
        .owner
        .items()
        .create(ItemCreateParams {
            document: Some(DocumentCreateParams {
                name: "doc.txt".into(),
                content: b"document body".to_vec(),
            }),
            ..ItemCreateParams::new(ItemCategory::Document, &fx.vault_id, "Doc")
        })
        .await
        .unwrap();
    let err = shares
        .create(
            &document,
            &ItemShareAccountPolicy::default(),
            ItemShareParams::default(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Document"), "{err}");
    policy.files.max_size = 64 * 1024;
    shares.set_account_policy(&policy).await.unwrap();
    let link = shares
        .create(&document, &policy, ItemShareParams::default())
        .await
        .unwrap();
    let shared = open_share_link(&link, TIMEOUT).await.unwrap();
    assert_eq!(shared.files[0].content, b"document body");
}

#[tokio::test]
async fn revoked_deleted_wrong_and_tampered_links_show_nothing() {
    let fx = Fixture::new().await;
    let item = postgres(&fx).await;
    let shares = fx.owner.items().shares();
    let policy = ItemShareAccountPolicy::default();
    let params = ItemShareParams::default;

    let link = shares.create(&item, &policy, params()).await.unwrap();
    open_share_link(&link, TIMEOUT).await.unwrap();
    let id = shares.list().await.unwrap()[0].id;
    shares.revoke(id.as_str()).await.unwrap();
    let err = open_share_link(&link, TIMEOUT).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert!(err.to_string().contains("revoked"), "{err}");
    assert!(shares.list().await.unwrap()[0].revoked_at.is_some());

    // A wrong secret is indistinguishable from an unknown share, and consumes nothing.
    let link = shares
        .create(&item, &policy, support::one_time_share())
        .await
        .unwrap();
    let (base, _) = link.split_once('#').unwrap();
    let wrong = format!("{base}#{}", ShareSecret::generate().fragment().as_str());
    let err = open_share_link(&wrong, TIMEOUT).await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let err = open_share_link(&format!("{base}#abc"), TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("instead of 32"), "{err}");
    assert!(open_share_link(base, TIMEOUT).await.is_err());

    // A server that alters the ciphertext is caught by the browser's (and our) AEAD.
    let id = shares.list().await.unwrap()[0].id;
    let pool = fx.server.database().await;
    sqlx::query(
        "UPDATE shares SET item = substr(item, 1, length(item) - 1) || \
         (CASE WHEN substr(item, -1) = x'00' THEN x'01' ELSE x'00' END) WHERE id = ?",
    )
    .bind(id.as_str())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let err = open_share_link(&link, TIMEOUT).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity, "{err}");

    // Deleting the item revokes its links.
    let link = shares.create(&item, &policy, params()).await.unwrap();
    fx.owner
        .items()
        .delete(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap();
    let err = open_share_link(&link, TIMEOUT).await.unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
}

#[tokio::test]
async fn recipients_open_a_restricted_link_with_a_code_mailed_by_the_server_binary() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let fx = Fixture::with_server(Server::start_with_env(&[
        ("SESAME_SMTP_URL", url.as_str()),
        ("SESAME_SMTP_FROM", "Sesame <sesame@example.net>"),
    ]))
    .await;
    let item = postgres(&fx).await;
    let shares = fx.owner.items().shares();
    let policy = ItemShareAccountPolicy {
        allowed_types: vec![AllowedType::Public, AllowedType::Authenticated],
        allowed_recipient_types: vec![AllowedRecipientType::Email, AllowedRecipientType::Domain],
        ..ItemShareAccountPolicy::default()
    };
    assert_eq!(shares.set_account_policy(&policy).await.unwrap(), policy);
    let recipients = shares
        .validate_recipients(&policy, &["Bob@Example.com", "example.org"])
        .unwrap();
    let link = shares
        .create(
            &item,
            &policy,
            ItemShareParams {
                recipients: Some(recipients),
                one_time_only: true,
                ..ItemShareParams::default()
            },
        )
        .await
        .unwrap();

    // The link alone does not open it.
    let err = open_share_link(&link, TIMEOUT).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthenticated, "{err}");
    assert!(err.to_string().contains("recipients"), "{err}");

    // A stranger is answered as a recipient is, and gets no mail.
    let lifetime = request_share_code(&link, "eve@example.net", TIMEOUT)
        .await
        .unwrap();
    assert_eq!(lifetime, Duration::from_secs(600));
    let err = open_share_link_with_code(&link, "eve@example.net", "123456", TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied, "{err}");
    assert!(err.to_string().contains("4 tries left"), "{err}");

    request_share_code(&link, "bob@example.com", TIMEOUT)
        .await
        .unwrap();
    let mail = sink.wait_for("bob@example.com", 1).await;
    let code = mail.code();
    let shared = open_share_link_with_code(&link, " BOB@example.com", &code, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(shared.title, "Postgres");
    assert_eq!(shared.fields, item.fields);
    assert_eq!(shared.views_left, Some(0));
    // One view in all for a one-time link, whoever opens it.
    request_share_code(&link, "ann@example.org", TIMEOUT)
        .await
        .unwrap_err();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.mails().len(), 1, "{:?}", sink.mails());

    // Malformed addresses fail before any request; recipients must fit the policy.
    let err = request_share_code(&link, "example.org", TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let email_only = ItemShareAccountPolicy {
        allowed_recipient_types: vec![AllowedRecipientType::Email],
        ..policy.clone()
    };
    shares.set_account_policy(&email_only).await.unwrap();
    let err = shares
        .create(
            &item,
            &policy,
            ItemShareParams {
                recipients: Some(vec![ValidRecipient::Domain {
                    domain: "example.org".into(),
                }]),
                ..ItemShareParams::default()
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Domain"), "{err}");
    let (intact, report) = fx.server.audit_verify();
    assert!(intact, "{report}");
}
