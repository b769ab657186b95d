//! Checks `tests/vectors/tokens.json`: valid tokens and one malformed token per error kind.
//!
//! Regenerate with `cargo test -p sesame-core --test token_vectors -- --ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use data_encoding::HEXLOWER;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sesame_core::token::{ServiceAccountToken, TokenSecret};
use sha2::{Digest, Sha256};

mod support;

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/tokens.json"
);

const DESCRIPTION: &str = "Service account token vectors (format version 1). token = \
'sesame_sa_' + base64url_nopad(payload JSON) + '.' + base64url_nopad(SHA-256('sesame_sa_' + \
base64url payload)[0:6]); payload = {\"v\":1,\"url\":...,\"account\":<id>,\"principal\":<id>,\
\"secret\":base64url_nopad(32 bytes)}. valid[]: {token, url, account_id, principal_id, secret \
(hex), ed25519_public_key (hex), x25519_public_key (hex)}: parsing token gives these fields, \
and encoding them gives token exactly. invalid[]: {name, token, code}: parsing must fail with \
this error code (empty, whitespace, wrong_prefix, truncated, checksum_mismatch, bad_encoding, \
bad_payload, missing_field, unsupported_version, invalid_field).";

const ACCOUNT: &str = "acc0unt2345abcdefghijklmno";
const PRINCIPAL: &str = "pr1ncipal2345abcdefghijklm";

fn seq32(start: u8) -> [u8; 32] {
    std::array::from_fn(|i| start.wrapping_add(i as u8))
}

fn token_for(url: &str, secret: [u8; 32]) -> ServiceAccountToken {
    ServiceAccountToken::from_parts(
        url,
        ACCOUNT.parse().unwrap(),
        PRINCIPAL.parse().unwrap(),
        TokenSecret::from_bytes(secret),
    )
    .unwrap()
}

/// A token with any payload part and a correct checksum.
fn checksummed(body: &str) -> String {
    let digest = Sha256::digest(format!("sesame_sa_{body}").as_bytes());
    format!("sesame_sa_{body}.{}", URL_SAFE_NO_PAD.encode(&digest[..6]))
}

/// Encodes any payload bytes as a token with a correct checksum.
fn encode_raw(payload: &[u8]) -> String {
    checksummed(&URL_SAFE_NO_PAD.encode(payload))
}

fn encode_json(payload: Value) -> String {
    encode_raw(payload.to_string().as_bytes())
}

fn valid_entry(url: &str, secret: [u8; 32]) -> Value {
    let token = token_for(url, secret);
    let keys = token.keys();
    json!({
        "token": token.to_secret_string().expose_secret(),
        "url": url,
        "account_id": ACCOUNT,
        "principal_id": PRINCIPAL,
        "secret": HEXLOWER.encode(&secret),
        "ed25519_public_key": HEXLOWER.encode(&keys.signing_public_key()),
        "x25519_public_key": HEXLOWER.encode(&keys.encryption_public_key()),
    })
}

fn invalid(name: &str, token: &str, code: &str) -> Value {
    json!({"name": name, "token": token, "code": code})
}

fn build_vectors() -> Value {
    let good = token_for("http://127.0.0.1:8787", seq32(0))
        .to_secret_string()
        .expose_secret()
        .to_owned();
    let (body, checksum) = good["sesame_sa_".len()..].split_once('.').unwrap();
    let secret = URL_SAFE_NO_PAD.encode(seq32(0));
    let payload = |v: Value, url: Value, account: Value, principal: Value, secret: Value| {
        let mut map = serde_json::Map::new();
        for (key, value) in [
            ("v", v),
            ("url", url),
            ("account", account),
            ("principal", principal),
            ("secret", secret),
        ] {
            if !value.is_null() {
                map.insert(key.into(), value);
            }
        }
        encode_json(Value::Object(map))
    };
    let (url, account, principal) = (
        json!("https://sesame.example"),
        json!(ACCOUNT),
        json!(PRINCIPAL),
    );
    let typo = {
        let mut chars: Vec<char> = good.chars().collect();
        chars[20] = if chars[20] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    json!({
        "description": DESCRIPTION,
        "valid": [
            valid_entry("http://127.0.0.1:8787", seq32(0)),
            valid_entry("https://sesame.example.com/base", [0xff; 32]),
            valid_entry("https://[::1]:8443", seq32(0x80)),
        ],
        "invalid": [
            invalid("empty string", "", "empty"),
            invalid("only whitespace", " \n", "empty"),
            invalid("trailing line break", &format!("{good}\n"), "whitespace"),
            invalid("leading space", &format!(" {good}"), "whitespace"),
            invalid("line break inside", &format!("{}\r\n{}", &good[..40], &good[40..]), "whitespace"),
            invalid("1Password token", "ops_eyJzaWduSW5BZGRyZXNzIjoibXkuMXBhc3N3b3JkLmNvbSJ9", "wrong_prefix"),
            invalid("upper-case prefix", &good.replacen("sesame_sa_", "SESAME_SA_", 1), "wrong_prefix"),
            invalid("prefix missing underscore", &good.replacen("sesame_sa_", "sesame_sa", 1), "wrong_prefix"),
            invalid("checksum cut off", &format!("sesame_sa_{body}"), "truncated"),
            invalid("checksum shortened", &good[..good.len() - 3], "truncated"),
            invalid("payload missing", &format!("sesame_sa_.{checksum}"), "truncated"),
            invalid("one character mistyped", &typo, "checksum_mismatch"),
            invalid("characters appended", &format!("{good}xy"), "checksum_mismatch"),
            invalid("standard base64 character", &format!("sesame_sa_{}+{}.{checksum}", &body[..10], &body[11..]), "bad_encoding"),
            invalid("padding", &format!("sesame_sa_{body}==.{checksum}"), "bad_encoding"),
            invalid("non-canonical base64url (trailing bits)", &checksummed("e31"), "bad_encoding"),
            invalid("impossible base64url length", &checksummed("e30AA"), "bad_encoding"),
            invalid("payload not JSON", &encode_raw(b"sesame"), "bad_payload"),
            invalid("payload a JSON array", &encode_json(json!([1, 2])), "bad_payload"),
            invalid("missing secret", &payload(json!(1), url.clone(), account.clone(), principal.clone(), Value::Null), "missing_field"),
            invalid("missing url", &payload(json!(1), Value::Null, account.clone(), principal.clone(), json!(secret)), "missing_field"),
            invalid("version 2", &payload(json!(2), url.clone(), account.clone(), principal.clone(), json!(secret)), "unsupported_version"),
            invalid("ftp url", &payload(json!(1), json!("ftp://sesame.example"), account.clone(), principal.clone(), json!(secret)), "invalid_field"),
            invalid("url without host", &payload(json!(1), json!("https:///v1"), account.clone(), principal.clone(), json!(secret)), "invalid_field"),
            invalid("bad account id", &payload(json!(1), url.clone(), json!("ACCOUNT"), principal.clone(), json!(secret)), "invalid_field"),
            invalid("short secret", &payload(json!(1), url.clone(), account.clone(), principal.clone(), json!(URL_SAFE_NO_PAD.encode([1u8; 31]))), "invalid_field"),
            invalid("secret not a string", &payload(json!(1), url, account, principal, json!(42)), "invalid_field"),
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
fn valid_tokens_parse_and_encode_exactly() {
    let vectors = load();
    let entries = vectors["valid"].as_array().unwrap();
    assert!(!entries.is_empty());
    for entry in entries {
        let text = entry["token"].as_str().unwrap();
        let token = ServiceAccountToken::parse(text).unwrap();
        assert_eq!(token.server_url(), entry["url"]);
        assert_eq!(token.account_id().as_str(), entry["account_id"]);
        assert_eq!(token.principal_id().as_str(), entry["principal_id"]);
        let secret: [u8; 32] = HEXLOWER
            .decode(entry["secret"].as_str().unwrap().as_bytes())
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(token.secret(), &TokenSecret::from_bytes(secret));
        let keys = token.keys();
        assert_eq!(
            HEXLOWER.encode(&keys.signing_public_key()),
            entry["ed25519_public_key"]
        );
        assert_eq!(
            HEXLOWER.encode(&keys.encryption_public_key()),
            entry["x25519_public_key"]
        );
        assert_eq!(token.to_secret_string().expose_secret(), text);
    }
}

#[test]
fn invalid_tokens_fail_with_their_code() {
    let vectors = load();
    let entries = vectors["invalid"].as_array().unwrap();
    let mut codes = std::collections::BTreeSet::new();
    for entry in entries {
        let name = entry["name"].as_str().unwrap();
        let err = ServiceAccountToken::parse(entry["token"].as_str().unwrap()).expect_err(name);
        assert_eq!(err.kind().code(), entry["code"], "{name}: {err}");
        codes.insert(err.kind().code());
    }
    assert_eq!(codes.len(), 10, "every error kind has a vector: {codes:?}");
}
