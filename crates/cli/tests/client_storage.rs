//! End to end: the server's database files never hold a plaintext title, value or note.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sesame_core::model::{
    ItemCategory, ItemCreateParams, ItemFieldType, ItemSection, VaultCreateParams,
};
use support::{field, Server};

/// Distinctive strings that would be found if anything were stored in the clear.
const VAULT_TITLE: &str = "VaultTitleCanary7d1f";
const VAULT_DESCRIPTION: &str = "VaultDescriptionCanary0be2";
const ITEM_TITLE: &str = "ItemTitleCanary42ac";
const FIELD_VALUE: &str = "FieldValueCanary9e31";
const FIELD_TITLE: &str = "FieldTitleCanary5c77";
const SECTION_TITLE: &str = "SectionTitleCanary11d0";
const NOTES: &str = "NotesCanary3f88";
const TAG: &str = "TagCanary6a02";
const URL: &str = "https://url-canary-8b19.example";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_files_hold_no_plaintext() {
    let server = Server::start();
    let owner = server.owner().await;
    let vault = owner
        .vaults()
        .create(VaultCreateParams {
            description: Some(VAULT_DESCRIPTION.into()),
            ..VaultCreateParams::new(VAULT_TITLE)
        })
        .await
        .unwrap();
    let params = ItemCreateParams {
        fields: Some(vec![
            field(
                "f1",
                FIELD_TITLE,
                None,
                ItemFieldType::Concealed,
                FIELD_VALUE,
            ),
            field(
                "f2",
                "in section",
                Some("s1"),
                ItemFieldType::Text,
                FIELD_VALUE,
            ),
        ]),
        sections: Some(vec![ItemSection {
            id: "s1".into(),
            title: SECTION_TITLE.into(),
        }]),
        notes: Some(NOTES.into()),
        tags: Some(vec![TAG.into()]),
        websites: Some(vec![sesame_core::model::Website {
            url: URL.into(),
            label: "website".into(),
            autofill_behavior: Default::default(),
        }]),
        ..ItemCreateParams::new(ItemCategory::Login, &vault.id, ITEM_TITLE)
    };
    let item = owner.items().create(params).await.unwrap();
    // A second version and a read make the server write and log more.
    let mut again = owner.items().get(&vault.id, &item.id).await.unwrap();
    again.notes = format!("{NOTES} v2");
    owner.items().put(&again).await.unwrap();
    let value = owner
        .secrets()
        .resolve(&format!("op://{VAULT_TITLE}/{ITEM_TITLE}/{FIELD_TITLE}"))
        .await
        .unwrap();
    assert_eq!(value, FIELD_VALUE);

    let files = server.db_files();
    assert!(
        !files.is_empty(),
        "no database files in {}",
        server.data_dir.display()
    );
    let mut scanned = 0;
    let mut control_found = false;
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        scanned += bytes.len();
        // Positive control: the audit trail stores the integration name in the clear, so
        // a scan that cannot see it is not reading what the server wrote.
        control_found |= contains(&bytes, b"sesame-tests");
        for canary in [
            VAULT_TITLE,
            VAULT_DESCRIPTION,
            ITEM_TITLE,
            FIELD_VALUE,
            FIELD_TITLE,
            SECTION_TITLE,
            NOTES,
            TAG,
            URL,
        ] {
            for needle in [canary.as_bytes().to_vec(), utf16le(canary)] {
                assert!(
                    !contains(&bytes, &needle),
                    "{canary} found in {}",
                    path.display()
                );
            }
        }
    }
    assert!(scanned > 0);
    assert!(
        control_found,
        "the positive control was not found: the scan is blind"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}
