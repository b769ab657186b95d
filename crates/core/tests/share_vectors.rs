//! Checks `tests/vectors/share.json`, the known answers of share links, against this
//! implementation; the share page's script checks the same file (tests/share_page).
//!
//! Regenerate it (only for a deliberate format change) with
//! `SESAME_REGENERATE_VECTORS=1 cargo test -p sesame-core --test share_vectors`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use data_encoding::HEXLOWER;
use serde_json::{json, Value};
use sesame_core::crypto::{access_hash, SharePart, ShareSecret};
use sesame_core::id::Id;

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/share.json"
);

const DESCRIPTION: &str = "Known answers for share links (format version 1; see \
crates/core/src/crypto/mod.rs, 'Share links'). A link is {server}/s/{share_id}#{fragment}; \
fragment = unpadded base64url of the 32-byte secret. access_token = HKDF-SHA256(ikm secret, \
salt empty, info 'sesame/v1/share/access/' || share_id, 32 bytes); access_hash = \
SHA-256(access_token), what the server stores; key = HKDF-SHA256(ikm secret, salt empty, info \
'sesame/v1/share/key/' || share_id). sealed_* are unpadded base64url of nonce (12) || \
AES-256-GCM(key, nonce, aad, plaintext) with aad 'sesame/v1/share/item/' || share_id or \
'sesame/v1/share/files/' || share_id. Hex is lowercase. item_plaintext and files_plaintext \
are the UTF-8 JSON the page renders.";

fn generate() -> Value {
    let secret = ShareSecret::generate();
    let share = Id::generate();
    let item = json!({
        "v": 1, "title": "Postgres", "category": "Database", "sharedAt": "2026-11-30T22:00:00Z",
        "fields": [
            {"id": "username", "title": "username", "fieldType": "Text", "value": "app"},
            {"id": "password", "title": "password", "fieldType": "Concealed", "value": "s3cr3t"},
        ],
        "sections": [], "notes": "", "websites": [], "tags": ["prod"],
    })
    .to_string();
    let files = json!({"files": [
        {"id": "f1", "name": "hello.txt", "size": 5, "content": URL_SAFE_NO_PAD.encode("hello")},
    ]})
    .to_string();
    let seal = |part, text: &str| {
        URL_SAFE_NO_PAD.encode(secret.seal(&share, part, text.as_bytes()).unwrap())
    };
    json!({
        "description": DESCRIPTION,
        "links": [{
            "share_id": share.as_str(),
            "fragment": secret.fragment().as_str(),
            "access_token": HEXLOWER.encode(secret.access_token(&share).as_ref()),
            "access_hash": HEXLOWER.encode(&secret.access_hash(&share)),
            "item_plaintext": item,
            "sealed_item": seal(SharePart::Item, &item),
            "files_plaintext": files,
            "sealed_files": seal(SharePart::Files, &files),
        }],
    })
}

#[test]
fn every_link_opens_and_derives_its_known_answers() {
    if std::env::var_os("SESAME_REGENERATE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&generate()).unwrap();
        std::fs::write(PATH, format!("{text}\n")).unwrap();
    }
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let links = vectors["links"].as_array().unwrap();
    assert!(!links.is_empty());
    for link in links {
        let text = |key: &str| link[key].as_str().unwrap().to_owned();
        let share: Id = text("share_id").parse().unwrap();
        let secret = ShareSecret::from_fragment(&text("fragment")).unwrap();
        let token = secret.access_token(&share);
        assert_eq!(HEXLOWER.encode(token.as_ref()), text("access_token"));
        assert_eq!(
            HEXLOWER.encode(&access_hash(token.as_ref())),
            text("access_hash")
        );
        for (part, sealed, plain) in [
            (SharePart::Item, "sealed_item", "item_plaintext"),
            (SharePart::Files, "sealed_files", "files_plaintext"),
        ] {
            let bytes = URL_SAFE_NO_PAD.decode(text(sealed)).unwrap();
            let opened = secret.open(&share, part, &bytes).unwrap();
            assert_eq!(String::from_utf8(opened.to_vec()).unwrap(), text(plain));
            let other = if part == SharePart::Item {
                SharePart::Files
            } else {
                SharePart::Item
            };
            assert!(
                secret.open(&share, other, &bytes).is_err(),
                "parts are bound"
            );
            assert!(
                secret.open(&Id::generate(), part, &bytes).is_err(),
                "ids are bound"
            );
        }
    }
}
