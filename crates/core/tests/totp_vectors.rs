#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Checks `tests/vectors/totp.json`: RFC 4226 / RFC 6238 tables and otpauth:// parsing.

use serde_json::Value;
use sesame_core::totp::{Algorithm, Hotp, Totp};
use sesame_core::{Error, ErrorCode};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/totp.json"
));

fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn cases<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    let cases = v[key].as_array().unwrap();
    assert!(!cases.is_empty(), "{key} is empty");
    cases
}

fn str_of<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {case}"))
}

fn u64_of(case: &Value, key: &str) -> u64 {
    case[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {case}"))
}

fn base32(hex: &str) -> String {
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>();
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// Builds an otpauth URI for a raw vector (the RFC tables give only the secret).
fn uri(kind: &str, case: &Value) -> String {
    let mut uri = format!(
        "otpauth://{kind}/RFC:test?secret={}&algorithm={}&digits={}",
        base32(str_of(case, "secret_hex")),
        str_of(case, "algorithm"),
        u64_of(case, "digits"),
    );
    if kind == "totp" {
        uri += &format!("&period={}", u64_of(case, "period"));
    } else {
        uri += &format!("&counter={}", u64_of(case, "counter"));
    }
    uri
}

#[test]
fn rfc4226_hotp_table() {
    let v = vectors();
    let table = cases(&v, "hotp");
    assert_eq!(table.len(), 10);
    for case in table {
        let hotp = Hotp::from_uri(&uri("hotp", case)).unwrap();
        let counter = u64_of(case, "counter");
        assert_eq!(hotp.counter(), counter);
        assert_eq!(hotp.code(counter), str_of(case, "code"), "{case}");
    }
}

#[test]
fn rfc6238_totp_table() {
    let v = vectors();
    let table = cases(&v, "totp");
    assert_eq!(table.len(), 18);
    for case in table {
        let totp = Totp::parse(&uri("totp", case)).unwrap();
        assert_eq!(totp.algorithm().as_str(), str_of(case, "algorithm"));
        let time = u64_of(case, "time");
        let code = totp.code_at(time);
        assert_eq!(code.code(), str_of(case, "code"), "{case}");
        let period = u64_of(case, "period");
        assert_eq!(code.valid_from(), time / period * period);
        assert_eq!(code.valid_until(), code.valid_from() + period);
        assert_eq!(code.expires_in_seconds(), code.valid_until() - time);
    }
}

fn opt_str(case: &Value, key: &str) -> Option<String> {
    match &case[key] {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => panic!("{key} must be a string or null, got {other}"),
    }
}

#[test]
fn valid_inputs_parse_to_the_expected_parameters_and_codes() {
    let v = vectors();
    for case in cases(&v, "parse_valid") {
        let input = str_of(case, "input");
        let algorithm: Algorithm = str_of(case, "algorithm").parse().unwrap();
        let digits = u64_of(case, "digits");
        let expected_secret = base32(str_of(case, "secret_hex"));
        match str_of(case, "kind") {
            "totp" => {
                let totp = Totp::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
                assert_eq!(
                    totp.issuer().map(str::to_owned),
                    opt_str(case, "issuer"),
                    "{input}"
                );
                assert_eq!(
                    totp.account_name().map(str::to_owned),
                    opt_str(case, "account_name"),
                    "{input}"
                );
                assert_eq!(totp.algorithm(), algorithm, "{input}");
                assert_eq!(u64::from(totp.digits()), digits, "{input}");
                assert_eq!(totp.period(), u64_of(case, "period"), "{input}");
                assert!(case["counter"].is_null());
                let code = totp.code_at(u64_of(case, "time"));
                assert_eq!(code.code(), str_of(case, "code"), "{input}");
                // The same secret given bare yields the same code when the shape is default.
                if algorithm == Algorithm::Sha1 && digits == 6 && totp.period() == 30 {
                    let bare = Totp::from_base32_secret(&expected_secret).unwrap();
                    assert_eq!(bare.code_at(u64_of(case, "time")), code, "{input}");
                }
            }
            "hotp" => {
                let hotp = Hotp::from_uri(input).unwrap_or_else(|e| panic!("{input}: {e}"));
                assert_eq!(hotp.issuer().map(str::to_owned), opt_str(case, "issuer"));
                assert_eq!(
                    hotp.account_name().map(str::to_owned),
                    opt_str(case, "account_name")
                );
                assert_eq!(hotp.algorithm(), algorithm);
                assert_eq!(u64::from(hotp.digits()), digits);
                assert!(case["period"].is_null() && case["time"].is_null());
                let counter = u64_of(case, "counter");
                assert_eq!(hotp.counter(), counter);
                assert_eq!(hotp.code(counter), str_of(case, "code"), "{input}");
            }
            other => panic!("unknown kind {other}"),
        }
    }
}

/// The secret a test input carries, to check that no error message repeats it.
fn secret_in(input: &str) -> Option<String> {
    let secret = match input.split_once("secret=") {
        Some((_, rest)) => rest.split('&').next().unwrap_or_default(),
        None if !input.contains("://") => input.trim(),
        None => return None,
    };
    Some(secret.to_owned()).filter(|s| s.len() >= 8)
}

#[test]
fn invalid_inputs_fail_with_the_expected_argument_and_message() {
    let v = vectors();
    for case in cases(&v, "parse_invalid") {
        let input = str_of(case, "input");
        let err: Error = match str_of(case, "kind") {
            "totp" => Totp::parse(input).map(|_| ()).unwrap_err(),
            "hotp" => Hotp::from_uri(input).map(|_| ()).unwrap_err(),
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{input}");
        let Error::InvalidInput { what, message } = &err else {
            panic!("{input}: {err:?}");
        };
        assert_eq!(what, str_of(case, "what"), "{input}: {message}");
        assert!(
            message.contains(str_of(case, "message_contains")),
            "{input}: {message}"
        );
        if let Some(secret) = secret_in(input) {
            assert!(!message.contains(&secret), "{input}: {message}");
        }
    }
}
