//! End to end: items and vaults through the client against the real server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sesame_core::model::ItemListFilters;
use sesame_core::model::{
    permissions, AutofillBehavior, ItemCategory, ItemCreateParams, ItemFieldDetails, ItemFieldType,
    ItemListFilter, ItemListFilterByStateInner, VaultCreateParams, VaultGetParams,
    VaultUpdateParams, Website,
};
use sesame_core::{Error, ErrorCode};
use support::{field, login, Fixture, Server, TOTP_SECRET};

const CATEGORIES: [ItemCategory; 23] = [
    ItemCategory::Login,
    ItemCategory::SecureNote,
    ItemCategory::CreditCard,
    ItemCategory::CryptoWallet,
    ItemCategory::Identity,
    ItemCategory::Password,
    ItemCategory::Document,
    ItemCategory::ApiCredentials,
    ItemCategory::BankAccount,
    ItemCategory::Database,
    ItemCategory::DriverLicense,
    ItemCategory::Email,
    ItemCategory::MedicalRecord,
    ItemCategory::Membership,
    ItemCategory::OutdoorLicense,
    ItemCategory::Passport,
    ItemCategory::Rewards,
    ItemCategory::Router,
    ItemCategory::Server,
    ItemCategory::SshKey,
    ItemCategory::SocialSecurityNumber,
    ItemCategory::SoftwareLicense,
    ItemCategory::Person,
];

fn every_field_type() -> Vec<sesame_core::model::ItemField> {
    use ItemFieldType::*;
    vec![
        field("text", "text", None, Text, "plain"),
        field("concealed", "concealed", None, Concealed, "hidden"),
        field("cctype", "card type", None, CreditCardType, "visa"),
        field(
            "ccnum",
            "card number",
            None,
            CreditCardNumber,
            "4111111111111111",
        ),
        field("phone", "phone", None, Phone, "+1 555 0100"),
        field("url", "url", None, Url, "https://example.com"),
        field("totp", "one-time password", None, Totp, TOTP_SECRET),
        field("email", "email", None, Email, "a@example.com"),
        field(
            "ref",
            "reference",
            None,
            Reference,
            "abcdefghijklmnopqrstuvwxyz",
        ),
        field("ssh", "ssh key", None, SshKey, support::OPENSSH_KEY),
        field("menu", "menu", None, Menu, "option b"),
        field("monthyear", "expiry", None, MonthYear, "203012"),
        field("address", "address", None, Address, "1 Main St"),
        field("date", "date", None, Date, "2030-01-31"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_with_every_field_type_and_category() {
    let server = Server::start();
    let owner = server.owner().await;
    let vault = owner
        .vaults()
        .create(VaultCreateParams::new("Everything"))
        .await
        .unwrap();
    let items = owner.items();
    for category in CATEGORIES {
        let params = ItemCreateParams {
            fields: Some(every_field_type()),
            notes: Some(format!("notes of {category:?}")),
            tags: Some(vec!["all".into()]),
            websites: Some(vec![Website {
                url: "https://example.com".into(),
                label: "website".into(),
                autofill_behavior: AutofillBehavior::ExactDomain,
            }]),
            ..ItemCreateParams::new(category, &vault.id, format!("{category:?} item"))
        };
        let created = items.create(params).await.unwrap();
        assert_eq!(created.version, 1);
        let got = items.get(&vault.id, &created.id).await.unwrap();
        assert_eq!(got.category, category);
        assert_eq!(got.title, format!("{category:?} item"));
        assert_eq!(got.notes, format!("notes of {category:?}"));
        assert_eq!(got.websites, created.websites);
        assert_eq!(got.fields.len(), 14);
        for (want, have) in every_field_type().iter().zip(&got.fields) {
            assert_eq!(
                (&want.id, &want.value, want.field_type),
                (&have.id, &have.value, have.field_type)
            );
        }
        let otp = got.fields.iter().find(|f| f.id == "totp").unwrap();
        assert!(
            matches!(&otp.details, Some(ItemFieldDetails::Otp(d)) if d.code.as_ref().is_some_and(|c| c.len() == 6))
        );
    }
    let listed = items
        .list(&vault.id, &ItemListFilters::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), CATEGORIES.len());

    // Update, then delete.
    let first = &listed[0];
    let mut item = items.get(&vault.id, &first.id).await.unwrap();
    item.title = "Renamed".into();
    item.fields.retain(|f| f.id != "menu");
    item.tags.push("renamed".into());
    let saved = items.put(&item).await.unwrap();
    assert_eq!(saved.version, 2);
    let again = items.get(&vault.id, &first.id).await.unwrap();
    assert_eq!(
        (again.title.as_str(), again.version, again.fields.len()),
        ("Renamed", 2, 13)
    );
    assert_eq!(again.created_at, item.created_at);
    items.delete(&vault.id, &first.id).await.unwrap();
    let err = items.get(&vault.id, &first.id).await.unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { what, .. } if what == "item"),
        "{err}"
    );
    assert_eq!(
        items
            .list(&vault.id, &ItemListFilters::default())
            .await
            .unwrap()
            .len(),
        CATEGORIES.len() - 1
    );

    // Invalid input is refused before the server sees it.
    let mut bad = login(&vault.id, "bad", "x");
    bad.fields
        .as_mut()
        .unwrap()
        .push(field("password", "dup", None, ItemFieldType::Text, "y"));
    assert_eq!(
        items.create(bad).await.unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        items.get("Everything", &first.id).await.unwrap_err().code(),
        ErrorCode::InvalidInput
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_conflicting_puts_have_exactly_one_winner() {
    let fx = Fixture::new().await;
    let base = fx
        .owner
        .items()
        .get(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let client = fx.owner.clone();
        let mut item = base.clone();
        tasks.spawn(async move {
            item.notes = format!("writer {i}");
            (i, client.items().put(&item).await)
        });
    }
    let mut winners = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, result) = done.unwrap();
        match result {
            Ok(saved) => {
                assert_eq!(saved.version, base.version + 1);
                winners.push(i);
            }
            Err(e) => assert_eq!(e.code(), ErrorCode::Conflict, "{e}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let now = fx
        .owner
        .items()
        .get(&fx.vault_id, &fx.postgres_id)
        .await
        .unwrap();
    assert_eq!(now.notes, format!("writer {}", winners[0]));
    assert_eq!(now.version, base.version + 1);
    // A stale write after the race is a conflict too.
    assert_eq!(
        fx.owner.items().put(&base).await.unwrap_err().code(),
        ErrorCode::Conflict
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_batches_and_list_filters() {
    let fx = Fixture::new().await;
    let items = fx.owner.items();
    let mut params = vec![
        ItemCreateParams {
            tags: Some(vec!["Web".into()]),
            ..login(&fx.vault_id, "GitHub work", "a")
        },
        ItemCreateParams {
            tags: Some(vec!["web".into()]),
            ..login(&fx.vault_id, "GitLab", "b")
        },
        ItemCreateParams::new(ItemCategory::SecureNote, &fx.vault_id, "Runbook"),
    ];
    params.push(login("aaaaaaaaaaaaaaaaaaaaaaaaaa", "elsewhere", "c"));
    let created = items.create_all(&fx.vault_id, params).await.unwrap();
    let results = &created.individual_responses;
    assert!(results[..3].iter().all(Result::is_ok));
    assert_eq!(
        results[3].as_ref().unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    let ids: Vec<String> = results[..3]
        .iter()
        .map(|r| r.as_ref().unwrap().id.clone())
        .collect();

    let by_tag = items
        .list(
            &fx.vault_id,
            &ItemListFilters {
                tag: Some("WEB".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        by_tag.iter().map(|o| o.title.as_str()).collect::<Vec<_>>(),
        ["GitHub work", "GitLab"]
    );
    let notes = items
        .list(
            &fx.vault_id,
            &ItemListFilters {
                category: Some(ItemCategory::SecureNote),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(notes.len(), 1);
    let titled = items
        .list(
            &fx.vault_id,
            &ItemListFilters {
                title_contains: Some("hub".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(titled.len(), 1);

    items.archive(&fx.vault_id, &ids[0]).await.unwrap();
    items.archive(&fx.vault_id, &ids[0]).await.unwrap(); // idempotent
    let active = items
        .list(&fx.vault_id, &ItemListFilters::default())
        .await
        .unwrap();
    assert!(active.iter().all(|o| o.id != ids[0]));
    let archived = items
        .list(
            &fx.vault_id,
            &ItemListFilters {
                state: Some(ItemListFilter::ByState(ItemListFilterByStateInner {
                    active: false,
                    archived: true,
                })),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].id, ids[0]);
    // The archived item can still be read by id.
    assert_eq!(
        items.get(&fx.vault_id, &ids[0]).await.unwrap().title,
        "GitHub work"
    );

    let missing = "zzzzzzzzzzzzzzzzzzzzzzzzzz";
    let got = items
        .get_all(&fx.vault_id, &[&ids[1], missing, "not an id", &ids[2]])
        .await
        .unwrap();
    let r = &got.individual_responses;
    assert_eq!(r.len(), 4);
    assert_eq!(r[0].as_ref().unwrap().title, "GitLab");
    assert_eq!(r[1].as_ref().unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(r[2].as_ref().unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(r[3].as_ref().unwrap().title, "Runbook");

    let too_many: Vec<&str> = vec![missing; 51];
    assert_eq!(
        items
            .get_all(&fx.vault_id, &too_many)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );

    let deleted = items
        .delete_all(&fx.vault_id, &[&ids[1], &ids[2]])
        .await
        .unwrap();
    assert!(deleted.individual_responses.values().all(Result::is_ok));
    assert_eq!(
        items
            .list(&fx.vault_id, &ItemListFilters::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vaults_create_update_share_and_delete() {
    let fx = Fixture::new().await;
    let vaults = fx.owner.vaults();
    let ops = vaults
        .create(VaultCreateParams {
            description: Some("operations".into()),
            ..VaultCreateParams::new("Ops")
        })
        .await
        .unwrap();
    assert_eq!(
        (ops.title.as_str(), ops.description.as_str()),
        ("Ops", "operations")
    );
    let listed = vaults.list().await.unwrap();
    assert_eq!(
        listed.iter().map(|v| v.title.as_str()).collect::<Vec<_>>(),
        ["Infra", "Ops"]
    );
    let overview = vaults.get_overview(&fx.vault_id).await.unwrap();
    assert_eq!(
        (overview.title.as_str(), overview.active_item_count),
        ("Infra", 1)
    );

    let updated = vaults
        .update(
            &ops.id,
            VaultUpdateParams {
                title: Some("Operations".into()),
                description: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            updated.title.as_str(),
            updated.description.as_str(),
            updated.attribute_version
        ),
        ("Operations", "operations", 2)
    );

    // Share Ops with the service account, change, then revoke its access.
    let sa = fx.service_account().await;
    fx.owner
        .items()
        .create(login(&ops.id, "Pager", "p4g3r"))
        .await
        .unwrap();
    vaults
        .grant(
            &ops.id,
            &fx.sa_id,
            permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD,
        )
        .await
        .unwrap();
    assert_eq!(
        sa.secrets()
            .resolve("op://Operations/Pager/password")
            .await
            .unwrap(),
        "p4g3r"
    );
    let access = vaults
        .get(
            &ops.id,
            VaultGetParams {
                accessors: Some(true),
            },
        )
        .await
        .unwrap()
        .access
        .unwrap();
    assert!(access.iter().any(|a| a.accessor_uuid == fx.sa_id
        && a.permissions == (permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD)));
    vaults
        .update_permissions(
            &ops.id,
            &fx.sa_id,
            (permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD)
                | permissions::CREATE_ITEMS,
        )
        .await
        .unwrap();
    sa.items()
        .create(login(&ops.id, "By SA", "x"))
        .await
        .unwrap();
    vaults.revoke(&ops.id, &fx.sa_id).await.unwrap();
    let err = sa
        .secrets()
        .resolve("op://Operations/Pager/password")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { what, .. } if what == "vault"),
        "lost access drops the cache: {err}"
    );
    assert!(sa
        .vaults()
        .list()
        .await
        .unwrap()
        .iter()
        .all(|v| v.id != ops.id));

    vaults.delete(&ops.id).await.unwrap();
    assert_eq!(
        vaults.get_overview(&ops.id).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
}
