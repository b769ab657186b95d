#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Checks every case of the shared `tests/vectors/references.json` against
//! `validate`, `SecretReference::parse` and `Display`.

use std::collections::HashSet;

use serde_json::Value;
use sesame_core::reference::{validate, ReferenceErrorKind, SecretReference};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/references.json"
));

fn cases() -> Vec<Value> {
    let doc: Value = serde_json::from_str(VECTORS).expect("vectors are JSON");
    assert!(doc["description"].is_string());
    doc["cases"].as_array().expect("cases").clone()
}

fn text<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key].as_str().expect(key)
}

#[test]
fn there_are_enough_cases_and_every_kind_is_covered() {
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let covered: HashSet<&str> = cases.iter().filter_map(|c| c["error"].as_str()).collect();
    for kind in ReferenceErrorKind::ALL {
        // The builder's own failure cannot come from parsing text.
        if kind != ReferenceErrorKind::InexpressibleName {
            assert!(covered.contains(kind.code()), "no vector for {kind}");
        }
    }
    for case in &cases {
        let origin = text(case, "origin");
        assert!(
            ["official", "extension", "degenerate"].contains(&origin),
            "{case}"
        );
    }
}

/// The compatibility rule: we differ from the official validator (whose verdict each case
/// records in `official`, checked against the real SDK by `make compat`) only where the
/// origin says why: an extension we accept, or a degenerate reference we reject.
#[test]
fn every_difference_from_the_official_validator_is_documented() {
    for case in cases() {
        let (valid, official) = (
            case["valid"] == true,
            case["official"].as_bool().expect("official"),
        );
        match text(&case, "origin") {
            "official" => assert_eq!(valid, official, "{case}"),
            // Accepted as an extension, or a malformed use of one: never officially valid.
            "extension" => assert!(!official, "{case}"),
            "degenerate" => {
                assert!(!valid && official, "{case}");
                assert!(
                    ["empty_segment", "surrounding_whitespace"].contains(&text(&case, "error")),
                    "{case}"
                );
            }
            other => panic!("unknown origin {other}"),
        }
    }
}

#[test]
fn valid_cases_parse_into_their_parts() {
    let mut failures = Vec::new();
    for case in cases().iter().filter(|c| c["valid"] == true) {
        let input = text(case, "input");
        if let Err(err) = validate(input) {
            failures.push(format!("{input:?}: validate failed: {err}"));
            continue;
        }
        let reference = match SecretReference::parse(input) {
            Ok(reference) => reference,
            Err(err) => {
                failures.push(format!("{input:?}: parse failed: {err}"));
                continue;
            }
        };
        let query = reference
            .query()
            .map(|q| serde_json::json!({"key": q.key(), "value": q.value()}));
        let got = serde_json::json!({
            "vault": reference.vault(),
            "item": reference.item(),
            "section": reference.section(),
            "field": reference.field(),
            "query": query,
            "canonical": reference.to_string(),
        });
        let want = serde_json::json!({
            "vault": case["vault"],
            "item": case["item"],
            "section": case["section"],
            "field": case["field"],
            "query": case["query"],
            "canonical": case["canonical"],
        });
        if got != want {
            failures.push(format!("{input:?}: got {got}, want {want}"));
        }
        // The canonical form is itself valid and parses to the same value.
        let again = SecretReference::parse(&reference.to_string()).unwrap();
        assert_eq!(again, reference, "{input:?}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_cases_fail_with_their_kind_offset_and_segment() {
    let mut failures = Vec::new();
    for case in cases().iter().filter(|c| c["valid"] == false) {
        let input = text(case, "input");
        let want = (
            text(case, "error"),
            case["offset"].as_u64().expect("offset") as usize,
            text(case, "segment"),
        );
        let err = match validate(input) {
            Ok(()) => {
                failures.push(format!("{input:?}: accepted, want {want:?}"));
                continue;
            }
            Err(err) => err,
        };
        let got = (err.kind().code(), err.offset(), err.segment().as_str());
        if got != want {
            failures.push(format!("{input:?}: got {got:?}, want {want:?} ({err})"));
        }
        assert_eq!(
            SecretReference::parse(input).unwrap_err(),
            err,
            "parse and validate disagree on {input:?}"
        );
        assert!(
            input.is_char_boundary(err.offset()),
            "{input:?}: offset {} is not a character boundary",
            err.offset()
        );
        let message = err.to_string();
        assert!(
            message.starts_with("invalid secret reference: ") && message.contains(err.hint()),
            "{message}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
