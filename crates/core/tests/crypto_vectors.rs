//! Checks every entry of `tests/vectors/crypto.json` against this implementation.
//!
//! Regenerate the file (only when a format deliberately changes, which means a new format
//! version) with `cargo test -p sesame-core --test crypto_vectors -- --ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};

use data_encoding::HEXLOWER;
use serde_json::{json, Value};
use sesame_core::crypto::{
    account_id_for, audit_checkpoint_message, grant_message, principal_certificate_message,
    verify_signature, WrappedVaultKey,
};
use sesame_core::crypto::{kat, EnvelopeContext, FileDecryptor, PrincipalKeys, VaultKey};
use sesame_core::id::Id;
use sesame_core::token::TokenSecret;

mod support;

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/crypto.json"
);

const DESCRIPTION: &str = "Known-answer vectors for Sesame cryptography (format version 1). \
All byte strings are lowercase hex; ids are 26-character strings; integers are plain JSON \
numbers below 2^53. Byte formats are specified in crates/core/src/crypto/mod.rs. \
principal_keys[]: {secret, ed25519_public_key, x25519_public_key, message, signature}: \
HKDF-SHA256(salt 'sesame/v1', ikm secret) with info 'sesame/v1/ed25519-signing-key' gives the \
Ed25519 seed and info 'sesame/v1/x25519-encryption-key' the X25519 private key; signature is \
Ed25519(message). \
vault_key_wraps[]: {recipient_secret, recipient_x25519_public_key, vault_id, principal_id, \
info, ephemeral_ikm, encapsulated_key, ciphertext, vault_key}: HPKE base mode \
DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM with empty aad; the recipient key is derived \
from recipient_secret as in principal_keys; the sender's ephemeral key pair is \
DeriveKeyPair(ephemeral_ikm); unwrapping (encapsulated_key, ciphertext) must give vault_key. \
envelopes[]: {vault_key, account_id, vault_id, item_id (or null), file_id (or null), part, \
version, aad, nonce, plaintext, envelope}: envelope = 0x01 || nonce || AES-256-GCM(vault_key, \
nonce, aad, plaintext). \
file_streams[]: {name, file_key, file_id, chunk_size, nonce_prefix, plaintext, ciphertext}: \
the STREAM encryption (header || chunks) of plaintext; decrypting ciphertext must give \
plaintext. \
account_ids[]: {owner_ed25519_public_key, account_id}: account_id is the first 26 characters \
of lowercase unpadded RFC 4648 base32 of SHA-256('sesame/v1/account' || \
owner_ed25519_public_key). \
principal_certificates[]: {owner_secret, owner_ed25519_public_key, account_id, principal_id, \
key_generation, ed25519_public_key, x25519_public_key, message, signature}: message = \
'sesame/v1/principal' || account_id || principal_id || key_generation (u32 big-endian) || \
ed25519_public_key || x25519_public_key; signature is Ed25519(message) by the owner key \
derived from owner_secret. \
grants[]: {granter_secret, granter_ed25519_public_key, account_id, vault_id, grantee_id, \
grantee_key_generation, granter_id, encapsulated_key, ciphertext, message, signature}: message \
= 'sesame/v1/grant' || account_id || vault_id || grantee_id || grantee_key_generation (u32 \
big-endian) || granter_id || encapsulated_key || ciphertext; signature is Ed25519(message) by \
the granter key derived from granter_secret. \
audit_checkpoints[]: {owner_secret, owner_ed25519_public_key, account_id, seq, head_hash, \
message, signature}: message = 'sesame/v1/audit-checkpoint' || account_id || seq (u64 \
big-endian) || head_hash (32 bytes); signature is Ed25519(message) by the owner key derived \
from owner_secret.";

fn hex(bytes: &[u8]) -> String {
    HEXLOWER.encode(bytes)
}

fn unhex(value: &Value) -> Vec<u8> {
    HEXLOWER.decode(value.as_str().unwrap().as_bytes()).unwrap()
}

fn unhex32(value: &Value) -> [u8; 32] {
    unhex(value).try_into().unwrap()
}

fn id(value: &Value) -> Id {
    value.as_str().unwrap().parse().unwrap()
}

/// Deterministic filler bytes so vectors are easy to reproduce anywhere.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn seq32(start: u8) -> [u8; 32] {
    std::array::from_fn(|i| start.wrapping_add(i as u8))
}

const ACCOUNT: &str = "acc0unt2345abcdefghijklmno";
const VAULT: &str = "vau1t2345abcdefghijklmnopq";
const ITEM: &str = "item2345abcdefghijklmnopqr";
const FILE: &str = "fi1e2345abcdefghijklmnopqr";
const PRINCIPAL: &str = "pr1ncipal2345abcdefghijklm";
const OTHER_PRINCIPAL: &str = "0wner2345abcdefghijklmnopq";

fn principal_entry(secret: [u8; 32], message: &[u8]) -> Value {
    let keys = PrincipalKeys::derive(&TokenSecret::from_bytes(secret));
    json!({
        "secret": hex(&secret),
        "ed25519_public_key": hex(&keys.signing_public_key()),
        "x25519_public_key": hex(&keys.encryption_public_key()),
        "message": hex(message),
        "signature": hex(&keys.sign(message)),
    })
}

fn wrap_entry(
    recipient_secret: [u8; 32],
    vault: &str,
    principal: &str,
    ikm: [u8; 32],
    vault_key: [u8; 32],
) -> Value {
    let keys = PrincipalKeys::derive(&TokenSecret::from_bytes(recipient_secret));
    let (vault, principal) = (
        vault.parse::<Id>().unwrap(),
        principal.parse::<Id>().unwrap(),
    );
    let wrapped = kat::wrap_vault_key(
        &kat::vault_key_from_bytes(vault_key),
        &keys.encryption_public_key(),
        &vault,
        &principal,
        ikm,
    )
    .unwrap();
    json!({
        "recipient_secret": hex(&recipient_secret),
        "recipient_x25519_public_key": hex(&keys.encryption_public_key()),
        "vault_id": vault.as_str(),
        "principal_id": principal.as_str(),
        "info": hex(&kat::vault_key_info(&vault, &principal)),
        "ephemeral_ikm": hex(&ikm),
        "encapsulated_key": hex(&wrapped.encapsulated_key),
        "ciphertext": hex(&wrapped.ciphertext),
        "vault_key": hex(&vault_key),
    })
}

fn context_from(entry: &Value) -> EnvelopeContext {
    let (account, vault) = (id(&entry["account_id"]), id(&entry["vault_id"]));
    let version = entry["version"].as_u64().unwrap();
    match entry["part"].as_u64().unwrap() {
        1 => EnvelopeContext::vault_attributes(account, vault, version),
        2 => EnvelopeContext::item_overview(account, vault, id(&entry["item_id"]), version),
        3 => EnvelopeContext::item_details(account, vault, id(&entry["item_id"]), version),
        4 => {
            assert_eq!(version, 0);
            EnvelopeContext::file_key(account, vault, id(&entry["item_id"]), id(&entry["file_id"]))
        }
        other => unreachable!("unknown part {other}"),
    }
}

fn envelope_entry(vault_key: [u8; 32], context: Value, nonce: [u8; 12], plaintext: &[u8]) -> Value {
    let mut entry = context;
    let ctx = context_from(&entry);
    let envelope = kat::seal_with_nonce(
        &kat::vault_key_from_bytes(vault_key),
        &ctx,
        plaintext,
        nonce,
    )
    .unwrap();
    let map = entry.as_object_mut().unwrap();
    map.insert("vault_key".into(), hex(&vault_key).into());
    map.insert("aad".into(), hex(&ctx.aad()).into());
    map.insert("nonce".into(), hex(&nonce).into());
    map.insert("plaintext".into(), hex(plaintext).into());
    map.insert("envelope".into(), hex(&envelope).into());
    entry
}

fn encrypt_file(
    key: [u8; 32],
    file: &Id,
    chunk_size: u32,
    prefix: [u8; 7],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut encryptor = kat::file_encryptor(
        Vec::new(),
        &kat::file_key_from_bytes(key),
        file,
        chunk_size,
        prefix,
    )
    .unwrap();
    // Uneven writes, so chunking is the encryptor's job and not the caller's.
    for piece in plaintext.chunks(7) {
        encryptor.write_all(piece).unwrap();
    }
    encryptor.finish().unwrap()
}

fn file_entry(name: &str, chunk_size: u32, plaintext: &[u8]) -> Value {
    let key = seq32(0x40);
    let prefix = [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6];
    let file: Id = FILE.parse().unwrap();
    let ciphertext = encrypt_file(key, &file, chunk_size, prefix, plaintext);
    json!({
        "name": name,
        "file_key": hex(&key),
        "file_id": FILE,
        "chunk_size": chunk_size,
        "nonce_prefix": hex(&prefix),
        "plaintext": hex(plaintext),
        "ciphertext": hex(&ciphertext),
    })
}

fn account_entry(owner_secret: [u8; 32]) -> Value {
    let keys = PrincipalKeys::derive(&TokenSecret::from_bytes(owner_secret));
    json!({
        "owner_ed25519_public_key": hex(&keys.signing_public_key()),
        "account_id": account_id_for(&keys.signing_public_key()).as_str(),
    })
}

fn certificate_entry(
    owner_secret: [u8; 32],
    principal: &str,
    key_generation: u32,
    principal_secret: [u8; 32],
) -> Value {
    let owner = PrincipalKeys::derive(&TokenSecret::from_bytes(owner_secret));
    let keys = PrincipalKeys::derive(&TokenSecret::from_bytes(principal_secret));
    let account = account_id_for(&owner.signing_public_key());
    let message = principal_certificate_message(
        &account,
        &principal.parse().unwrap(),
        key_generation,
        &keys.signing_public_key(),
        &keys.encryption_public_key(),
    );
    json!({
        "owner_secret": hex(&owner_secret),
        "owner_ed25519_public_key": hex(&owner.signing_public_key()),
        "account_id": account.as_str(),
        "principal_id": principal,
        "key_generation": key_generation,
        "ed25519_public_key": hex(&keys.signing_public_key()),
        "x25519_public_key": hex(&keys.encryption_public_key()),
        "message": hex(&message),
        "signature": hex(&owner.sign(&message)),
    })
}

fn grant_entry(
    granter_secret: [u8; 32],
    granter: &str,
    grantee: &str,
    grantee_key_generation: u32,
    wrapped: &Value,
) -> Value {
    let keys = PrincipalKeys::derive(&TokenSecret::from_bytes(granter_secret));
    let wrapped = WrappedVaultKey {
        encapsulated_key: unhex32(&wrapped["encapsulated_key"]),
        ciphertext: unhex(&wrapped["ciphertext"]),
    };
    let (account, vault) = (ACCOUNT.parse().unwrap(), VAULT.parse().unwrap());
    let message = grant_message(
        &account,
        &vault,
        &grantee.parse().unwrap(),
        grantee_key_generation,
        &granter.parse().unwrap(),
        &wrapped,
    );
    json!({
        "granter_secret": hex(&granter_secret),
        "granter_ed25519_public_key": hex(&keys.signing_public_key()),
        "account_id": ACCOUNT,
        "vault_id": VAULT,
        "grantee_id": grantee,
        "grantee_key_generation": grantee_key_generation,
        "granter_id": granter,
        "encapsulated_key": hex(&wrapped.encapsulated_key),
        "ciphertext": hex(&wrapped.ciphertext),
        "message": hex(&message),
        "signature": hex(&keys.sign(&message)),
    })
}

fn checkpoint_entry(owner_secret: [u8; 32], seq: u64, head_hash: [u8; 32]) -> Value {
    let owner = PrincipalKeys::derive(&TokenSecret::from_bytes(owner_secret));
    let account = account_id_for(&owner.signing_public_key());
    let message = audit_checkpoint_message(&account, seq, &head_hash);
    json!({
        "owner_secret": hex(&owner_secret),
        "owner_ed25519_public_key": hex(&owner.signing_public_key()),
        "account_id": account.as_str(),
        "seq": seq,
        "head_hash": hex(&head_hash),
        "message": hex(&message),
        "signature": hex(&owner.sign(&message)),
    })
}

fn build_vectors() -> Value {
    let wraps = [
        wrap_entry(seq32(0), VAULT, PRINCIPAL, seq32(0x80), seq32(0x20)),
        wrap_entry([0xff; 32], VAULT, OTHER_PRINCIPAL, seq32(0x90), [0x5a; 32]),
    ];
    json!({
        "description": DESCRIPTION,
        "principal_keys": [
            principal_entry(seq32(0), b"sesame/v1 test message"),
            principal_entry([0xff; 32], b""),
        ],
        "account_ids": [account_entry(seq32(0)), account_entry([0xff; 32])],
        "principal_certificates": [
            certificate_entry([0xff; 32], PRINCIPAL, 1, seq32(0)),
            certificate_entry([0xff; 32], PRINCIPAL, 4_294_967_295, seq32(0x10)),
        ],
        "grants": [
            // The owner grants the principal the vault (first wrap).
            grant_entry([0xff; 32], OTHER_PRINCIPAL, PRINCIPAL, 1, &wraps[0]),
            // A principal wraps to itself (second wrap) at a later key generation.
            grant_entry(seq32(0), OTHER_PRINCIPAL, OTHER_PRINCIPAL, 258, &wraps[1]),
        ],
        "audit_checkpoints": [
            checkpoint_entry([0xff; 32], 1, seq32(0x30)),
            checkpoint_entry(seq32(0), 9_007_199_254_740_991, [0xee; 32]),
        ],
        "vault_key_wraps": wraps,
        "envelopes": [
            envelope_entry(
                seq32(0x20),
                json!({"account_id": ACCOUNT, "vault_id": VAULT, "item_id": null, "file_id": null, "part": 1, "version": 1}),
                [0x01; 12],
                br#"{"name":"Infra","description":"production"}"#,
            ),
            envelope_entry(
                seq32(0x20),
                json!({"account_id": ACCOUNT, "vault_id": VAULT, "item_id": ITEM, "file_id": null, "part": 2, "version": 42}),
                [0x02; 12],
                br#"{"title":"Postgres","category":"DATABASE"}"#,
            ),
            envelope_entry(
                seq32(0x20),
                json!({"account_id": ACCOUNT, "vault_id": VAULT, "item_id": ITEM, "file_id": null, "part": 3, "version": 9_007_199_254_740_991_u64}),
                [0x03; 12],
                b"",
            ),
            envelope_entry(
                seq32(0x20),
                json!({"account_id": ACCOUNT, "vault_id": VAULT, "item_id": ITEM, "file_id": FILE, "part": 4, "version": 0}),
                [0x04; 12],
                &seq32(0x40),
            ),
        ],
        "file_streams": [
            file_entry("empty", 16, b""),
            file_entry("one partial chunk", 16, &pattern(5, 1)),
            file_entry("exactly one chunk", 16, &pattern(16, 2)),
            file_entry("one chunk plus one byte", 16, &pattern(17, 3)),
            file_entry("several chunks", 16, &pattern(50, 4)),
            file_entry("default chunk size", 65_536, &pattern(3, 5)),
        ],
    })
}

fn load() -> Value {
    support::load(PATH)
}

#[test]
fn committed_file_matches_generator() {
    support::check_generated(PATH, &build_vectors());
}

#[test]
fn principal_keys_match() {
    let vectors = load();
    let entries = vectors["principal_keys"].as_array().unwrap();
    assert!(!entries.is_empty());
    for entry in entries {
        let keys = PrincipalKeys::derive(&TokenSecret::from_bytes(unhex32(&entry["secret"])));
        assert_eq!(hex(&keys.signing_public_key()), entry["ed25519_public_key"]);
        assert_eq!(
            hex(&keys.encryption_public_key()),
            entry["x25519_public_key"]
        );
        let message = unhex(&entry["message"]);
        let signature = unhex(&entry["signature"]);
        assert_eq!(hex(&keys.sign(&message)), entry["signature"]);
        verify_signature(&unhex(&entry["ed25519_public_key"]), &message, &signature).unwrap();
    }
}

#[test]
fn vault_key_wraps_match() {
    let vectors = load();
    let entries = vectors["vault_key_wraps"].as_array().unwrap();
    assert!(!entries.is_empty());
    for entry in entries {
        let keys = PrincipalKeys::derive(&TokenSecret::from_bytes(unhex32(
            &entry["recipient_secret"],
        )));
        assert_eq!(
            hex(&keys.encryption_public_key()),
            entry["recipient_x25519_public_key"]
        );
        let (vault, principal) = (id(&entry["vault_id"]), id(&entry["principal_id"]));
        assert_eq!(hex(&kat::vault_key_info(&vault, &principal)), entry["info"]);
        let wrapped = WrappedVaultKey {
            encapsulated_key: unhex32(&entry["encapsulated_key"]),
            ciphertext: unhex(&entry["ciphertext"]),
        };
        // Recipient direction: what every other implementation must reproduce.
        let key = VaultKey::unwrap(&wrapped, &keys, &vault, &principal).unwrap();
        assert_eq!(hex(&kat::vault_key_bytes(&key)), entry["vault_key"]);
        // Sender direction, with the pinned ephemeral key.
        let again = kat::wrap_vault_key(
            &key,
            &keys.encryption_public_key(),
            &vault,
            &principal,
            unhex32(&entry["ephemeral_ikm"]),
        )
        .unwrap();
        assert_eq!(again, wrapped);
    }
}

#[test]
fn envelopes_match() {
    let vectors = load();
    let entries = vectors["envelopes"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "one entry per part");
    for entry in entries {
        let context = context_from(entry);
        assert_eq!(hex(&context.aad()), entry["aad"]);
        let key = kat::vault_key_from_bytes(unhex32(&entry["vault_key"]));
        let plaintext = unhex(&entry["plaintext"]);
        let nonce: [u8; 12] = unhex(&entry["nonce"]).try_into().unwrap();
        let sealed = kat::seal_with_nonce(&key, &context, &plaintext, nonce).unwrap();
        assert_eq!(hex(&sealed), entry["envelope"]);
        let opened = key.open(&context, &unhex(&entry["envelope"])).unwrap();
        assert_eq!(&opened[..], &plaintext[..]);
    }
}

#[test]
fn file_streams_match() {
    let vectors = load();
    let entries = vectors["file_streams"].as_array().unwrap();
    assert!(entries.len() >= 5);
    for entry in entries {
        let name = entry["name"].as_str().unwrap();
        let key = unhex32(&entry["file_key"]);
        let file = id(&entry["file_id"]);
        let chunk_size = u32::try_from(entry["chunk_size"].as_u64().unwrap()).unwrap();
        let prefix: [u8; 7] = unhex(&entry["nonce_prefix"]).try_into().unwrap();
        let plaintext = unhex(&entry["plaintext"]);
        let ciphertext = unhex(&entry["ciphertext"]);
        assert_eq!(
            hex(&encrypt_file(key, &file, chunk_size, prefix, &plaintext)),
            entry["ciphertext"],
            "{name}"
        );
        assert_eq!(
            kat::ciphertext_len(plaintext.len() as u64, chunk_size),
            ciphertext.len() as u64,
            "{name}"
        );
        let mut decrypted = Vec::new();
        FileDecryptor::new(ciphertext.as_slice(), &kat::file_key_from_bytes(key), &file)
            .unwrap()
            .read_to_end(&mut decrypted)
            .unwrap();
        assert_eq!(decrypted, plaintext, "{name}");
    }
}

#[test]
fn account_ids_match() {
    let vectors = load();
    let entries = vectors["account_ids"].as_array().unwrap();
    assert!(!entries.is_empty());
    for entry in entries {
        let key = unhex32(&entry["owner_ed25519_public_key"]);
        assert_eq!(account_id_for(&key).as_str(), entry["account_id"]);
    }
}

#[test]
fn principal_certificates_match() {
    let vectors = load();
    let entries = vectors["principal_certificates"].as_array().unwrap();
    assert!(!entries.is_empty());
    for entry in entries {
        let owner = unhex32(&entry["owner_ed25519_public_key"]);
        let account = id(&entry["account_id"]);
        assert_eq!(account_id_for(&owner), account);
        let generation = u32::try_from(entry["key_generation"].as_u64().unwrap()).unwrap();
        let message = principal_certificate_message(
            &account,
            &id(&entry["principal_id"]),
            generation,
            &unhex32(&entry["ed25519_public_key"]),
            &unhex32(&entry["x25519_public_key"]),
        );
        assert_eq!(hex(&message), entry["message"]);
        let signature = unhex(&entry["signature"]);
        verify_signature(&owner, &message, &signature).unwrap();
        let mut forged = message.clone();
        *forged.last_mut().unwrap() ^= 1;
        assert!(verify_signature(&owner, &forged, &signature).is_err());
    }
}

#[test]
fn grants_match() {
    let vectors = load();
    let entries = vectors["grants"].as_array().unwrap();
    assert!(!entries.is_empty());
    for entry in entries {
        let wrapped = WrappedVaultKey {
            encapsulated_key: unhex32(&entry["encapsulated_key"]),
            ciphertext: unhex(&entry["ciphertext"]),
        };
        let generation = u32::try_from(entry["grantee_key_generation"].as_u64().unwrap()).unwrap();
        let message = grant_message(
            &id(&entry["account_id"]),
            &id(&entry["vault_id"]),
            &id(&entry["grantee_id"]),
            generation,
            &id(&entry["granter_id"]),
            &wrapped,
        );
        assert_eq!(hex(&message), entry["message"]);
        let granter = unhex(&entry["granter_ed25519_public_key"]);
        let signature = unhex(&entry["signature"]);
        verify_signature(&granter, &message, &signature).unwrap();
        let keys =
            PrincipalKeys::derive(&TokenSecret::from_bytes(unhex32(&entry["granter_secret"])));
        assert_eq!(hex(&keys.sign(&message)), entry["signature"]);
    }
}

#[test]
fn audit_checkpoints_match() {
    let vectors = load();
    let entries = vectors["audit_checkpoints"].as_array().unwrap();
    assert!(!entries.is_empty());
    for entry in entries {
        let owner = unhex32(&entry["owner_ed25519_public_key"]);
        let account = id(&entry["account_id"]);
        assert_eq!(account_id_for(&owner), account);
        let message = audit_checkpoint_message(
            &account,
            entry["seq"].as_u64().unwrap(),
            &unhex32(&entry["head_hash"]),
        );
        assert_eq!(hex(&message), entry["message"]);
        let signature = unhex(&entry["signature"]);
        verify_signature(&owner, &message, &signature).unwrap();
        let keys = PrincipalKeys::derive(&TokenSecret::from_bytes(unhex32(&entry["owner_secret"])));
        assert_eq!(hex(&keys.sign(&message)), entry["signature"]);
    }
}
