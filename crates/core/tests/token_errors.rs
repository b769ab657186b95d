//! Service account token errors: each is distinct, helpful, and never leaks the token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use secrecy::ExposeSecret;
use serde_json::Value;
use sesame_core::id::Id;
use sesame_core::token::{ServiceAccountToken, TokenErrorKind, TokenSecret};
use sesame_core::{Error, ErrorCode};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/tokens.json"
);

fn good() -> String {
    ServiceAccountToken::generate("http://127.0.0.1:8787", Id::generate(), Id::generate())
        .unwrap()
        .to_secret_string()
        .expose_secret()
        .to_owned()
}

fn message(token: &str) -> (TokenErrorKind, String) {
    let err = ServiceAccountToken::parse(token).unwrap_err();
    (err.kind(), err.to_string())
}

/// Asserts that `text` quotes nothing of `token` past its first ten characters.
fn assert_no_leak(text: &str, token: &str) {
    let chars: Vec<char> = token.chars().collect();
    for window in chars.get(10..).unwrap_or_default().windows(8) {
        let window: String = window.iter().collect();
        assert!(
            !text.contains(&window),
            "{text:?} quotes {window:?} of the token"
        );
    }
}

#[test]
fn round_trip_generate_encode_parse() {
    for url in [
        "http://127.0.0.1:8787",
        "https://sesame.example.com",
        "https://[::1]:443/x",
    ] {
        let (account, principal) = (Id::generate(), Id::generate());
        let token = ServiceAccountToken::generate(url, account, principal).unwrap();
        let text = token.to_secret_string();
        assert!(text.expose_secret().starts_with("sesame_sa_"));
        let parsed: ServiceAccountToken = text.expose_secret().parse().unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.server_url(), url);
        assert_eq!(parsed.account_id(), &account);
        assert_eq!(parsed.principal_id(), &principal);
        assert_eq!(
            parsed.keys().encryption_public_key(),
            token.keys().encryption_public_key()
        );
    }
    let a = ServiceAccountToken::generate("http://h", Id::generate(), Id::generate()).unwrap();
    let b = ServiceAccountToken::generate("http://h", *a.account_id(), *a.principal_id()).unwrap();
    assert_ne!(a.secret(), b.secret(), "every token gets a fresh secret");
}

#[test]
fn debug_redacts_the_secret() {
    let token = ServiceAccountToken::from_parts(
        "http://127.0.0.1:8787",
        Id::generate(),
        Id::generate(),
        TokenSecret::from_bytes([0xab; 32]),
    )
    .unwrap();
    let text = token.to_secret_string();
    let debug = format!("{token:?} {:?} {:?} {text:?}", token.secret(), token.keys());
    assert!(debug.contains("[redacted]"), "{debug}");
    assert!(debug.contains(token.account_id().as_str()), "{debug}");
    assert!(!debug.contains("q6ur"), "{debug}"); // base64url of 0xab bytes
    assert!(!debug.contains("abab"), "{debug}");
    assert_no_leak(&debug, text.expose_secret());
}

#[test]
fn no_error_quotes_the_token() {
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    for entry in vectors["invalid"].as_array().unwrap() {
        let token = entry["token"].as_str().unwrap();
        let err = ServiceAccountToken::parse(token).unwrap_err();
        assert_no_leak(&err.to_string(), token);
        assert_no_leak(&format!("{err:?}"), token);
        let wrapped = Error::from(err);
        assert_eq!(wrapped.code(), ErrorCode::InvalidToken);
        assert_no_leak(&wrapped.to_string(), token);
    }
}

#[test]
fn empty_and_blank() {
    let (kind, text) = message("");
    assert_eq!(kind, TokenErrorKind::Empty);
    assert!(text.contains("empty"), "{text}");
    let (kind, text) = message(" \t\n");
    assert_eq!(kind, TokenErrorKind::Empty);
    assert!(text.contains("only whitespace"), "{text}");
}

#[test]
fn whitespace_says_where() {
    let token = good();
    let n = token.chars().count();
    let (kind, text) = message(&format!("{token}\n"));
    assert_eq!(kind, TokenErrorKind::Whitespace);
    assert!(text.contains("line break at the end"), "{text}");
    assert!(
        text.contains(&format!("character {} of {}", n + 1, n + 1)),
        "{text}"
    );
    assert!(text.contains("copied with a line break"), "{text}");
    let (_, text) = message(&format!("{token}\r\n"));
    assert!(text.contains("at the end"), "{text}");
    let (_, text) = message(&format!(" {token}"));
    assert!(text.contains("space at the start"), "{text}");
    let (_, text) = message(&format!("{}\n{}", &token[..30], &token[30..]));
    assert!(
        text.contains(&format!("inside it at character 31 of {}", n + 1)),
        "{text}"
    );
    let (_, text) = message(&format!("{}\t{}", &token[..12], &token[12..]));
    assert!(text.contains("a tab inside"), "{text}");
}

#[test]
fn wrong_prefix_names_the_vendor() {
    for (token, expected) in [
        ("ops_eyJlbWFpbCI6ImFAYi5jIn0", "1Password"),
        ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "GitHub"),
        ("AKIAIOSFODNN7EXAMPLE", "AWS"),
        ("hvs.CAESIJ", "HashiCorp Vault"),
    ] {
        let (kind, text) = message(token);
        assert_eq!(kind, TokenErrorKind::WrongPrefix);
        assert!(
            text.contains(expected) && text.contains("sesame_sa_"),
            "{text}"
        );
        assert_no_leak(&text, token);
    }
    let token = good();
    let (_, text) = message(&token.replacen("sesame_sa_", "Sesame_SA_", 1));
    assert!(text.contains("wrong case"), "{text}");
    let (_, text) = message(&token.replacen("sesame_sa_", "sesame-sa-", 1));
    assert!(text.contains("mistyped"), "{text}");
    let (_, text) = message("hello world");
    assert_eq!(message("hello").0, TokenErrorKind::WrongPrefix);
    assert!(
        text.contains("whitespace"),
        "whitespace is reported first: {text}"
    );
}

#[test]
fn truncation_is_reported_as_such() {
    let token = good();
    let (body, _) = token.split_once('.').unwrap();
    let (kind, text) = message(body);
    assert_eq!(kind, TokenErrorKind::Truncated);
    assert!(text.contains("cut off"), "{text}");
    // Cut anywhere inside the payload.
    for len in ("sesame_sa_".len() + 1..body.len()).step_by(7) {
        assert_eq!(
            message(&token[..len]).0,
            TokenErrorKind::Truncated,
            "cut at {len}"
        );
    }
    for missing in 1..8 {
        let (kind, text) = message(&token[..token.len() - missing]);
        assert_eq!(kind, TokenErrorKind::Truncated);
        assert!(
            text.contains(&format!("{} of its 8 characters", 8 - missing)),
            "{text}"
        );
    }
    let (kind, _) = message("sesame_sa_");
    assert_eq!(kind, TokenErrorKind::Truncated);
}

#[test]
fn every_single_character_typo_is_caught() {
    let token = good();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let dot = token.find('.').unwrap();
    for i in "sesame_sa_".len()..token.len() {
        if i == dot {
            continue;
        }
        let mut bytes = token.clone().into_bytes();
        let at = alphabet.iter().position(|&c| c == bytes[i]).unwrap();
        bytes[i] = alphabet[(at + 1) % alphabet.len()];
        let typo = String::from_utf8(bytes).unwrap();
        let (kind, text) = message(&typo);
        assert_eq!(kind, TokenErrorKind::ChecksumMismatch, "typo at {i}");
        assert!(text.contains("mistyped or altered"), "{text}");
    }
    // Two adjacent characters swapped.
    let mut bytes = token.clone().into_bytes();
    let i = (20..dot - 1).find(|&i| bytes[i] != bytes[i + 1]).unwrap();
    bytes.swap(i, i + 1);
    assert_eq!(
        message(&String::from_utf8(bytes).unwrap()).0,
        TokenErrorKind::ChecksumMismatch
    );
    let (kind, text) = message(&format!("{token}abc"));
    assert_eq!(kind, TokenErrorKind::ChecksumMismatch);
    assert!(text.contains("appended"), "{text}");
}

#[test]
fn bad_characters_give_their_position() {
    let token = good();
    let with = |i: usize, s: &str| format!("{}{s}{}", &token[..i], &token[i + 1..]);
    let (kind, text) = message(&with(15, "+"));
    assert_eq!(kind, TokenErrorKind::BadEncoding);
    assert!(
        text.contains("character 16") && text.contains("standard base64"),
        "{text}"
    );
    let (_, text) = message(&with(20, "\u{2013}"));
    assert!(
        text.contains("character 21") && text.contains("non-ASCII"),
        "{text}"
    );
    let (_, text) = message(&format!("\"{token}\"").replacen("\"", "", 1));
    assert!(text.contains("quote"), "{text}");
    let (_, text) = message(&with(12, "."));
    assert!(text.contains("character"), "{text}");
    let (kind, _) = message(&with(25, "\u{200b}"));
    assert_eq!(kind, TokenErrorKind::BadEncoding, "zero-width space");
}

#[test]
fn generate_rejects_bad_urls() {
    for (url, expected) in [
        ("127.0.0.1:8787", "http:// or https://"),
        ("ftp://host", "http:// or https://"),
        ("http://", "no host"),
        ("https://:8787/", "no host"),
        ("http://user:pw@host", "user name or password"),
        ("http://host:99999", "port"),
        ("http://host:0", "port"),
        ("http://ho st", "whitespace"),
        ("http://[::1", "closing"),
    ] {
        let err = ServiceAccountToken::generate(url, Id::generate(), Id::generate()).unwrap_err();
        assert_eq!(err.kind(), TokenErrorKind::InvalidField, "{url}");
        assert!(err.to_string().contains(expected), "{url}: {err}");
    }
    for url in [
        "HTTPS://Example.com",
        "http://localhost:8787/",
        "https://[::1]:8443",
        "http://a?b",
    ] {
        ServiceAccountToken::generate(url, Id::generate(), Id::generate()).unwrap();
    }
}

#[test]
fn every_kind_has_a_distinct_code() {
    let kinds = [
        TokenErrorKind::Empty,
        TokenErrorKind::Whitespace,
        TokenErrorKind::WrongPrefix,
        TokenErrorKind::Truncated,
        TokenErrorKind::ChecksumMismatch,
        TokenErrorKind::BadEncoding,
        TokenErrorKind::BadPayload,
        TokenErrorKind::MissingField,
        TokenErrorKind::UnsupportedVersion,
        TokenErrorKind::InvalidField,
    ];
    let codes: std::collections::HashSet<_> = kinds.iter().map(|k| k.code()).collect();
    assert_eq!(codes.len(), kinds.len());
}

#[test]
fn payload_errors_name_the_field() {
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let by_name = |name: &str| {
        let entry = vectors["invalid"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap();
        ServiceAccountToken::parse(entry["token"].as_str().unwrap())
            .unwrap_err()
            .to_string()
    };
    assert!(by_name("missing secret").contains("no secret field"));
    assert!(by_name("missing url").contains("no url field"));
    assert!(by_name("version 2").contains("version 2"));
    assert!(by_name("version 2").contains("upgrade"));
    assert!(by_name("bad account id").contains("field account"));
    assert!(by_name("short secret").contains("32 bytes, got 31"));
    assert!(by_name("secret not a string").contains("not a number"));
    assert!(by_name("payload not JSON").contains("not valid JSON"));
    assert!(by_name("payload a JSON array").contains("not a JSON object"));
}

proptest! {
    #[test]
    fn parsing_anything_never_panics_or_echoes(input in "\\PC{0,120}") {
        if let Err(err) = ServiceAccountToken::parse(&input) {
            assert_no_leak(&err.to_string(), &input);
        }
    }

    #[test]
    fn base64url_noise_after_the_prefix_is_rejected(body in "[A-Za-z0-9_-]{1,80}", sum in "[A-Za-z0-9_-]{8}") {
        let token = format!("sesame_sa_{body}.{sum}");
        let err = ServiceAccountToken::parse(&token).unwrap_err();
        prop_assert_eq!(err.kind(), TokenErrorKind::ChecksumMismatch);
    }
}
