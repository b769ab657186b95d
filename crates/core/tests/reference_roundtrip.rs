#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Property tests: every reference the canonical builder makes parses back to the same
//! value, and parsing arbitrary text is total and agrees with `validate`.

use proptest::prelude::*;
use sesame_core::reference::{
    validate, Attribute, ReferenceErrorKind, ReferencePart, ReferenceQuery, SecretReference,
    SshFormat,
};

/// The specification of a name that can be written in a reference, stated independently
/// of the parser: non-empty, no leading or trailing space, letters, digits, ` -_.`.
fn expressible(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(' ')
        && !name.ends_with(' ')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        // Mostly writable names, including non-ASCII letters and digits and inner spaces.
        4 => "[a-zA-Z0-9._\\-éÜßΩж名前パ٣Ⅻ]{1,6}( [a-zA-Z0-9é名]{1,6}){0,2}",
        // Names that need the id: delimiters, query syntax, padding, symbols, emptiness.
        2 => "[a-z /?=&%#$é\\t]{0,10}",
        1 => Just(String::new()),
        1 => any::<String>(),
    ]
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z0-9]{26}",
        1 => "[a-z0-9/?]{0,4}",
    ]
}

fn query() -> impl Strategy<Value = Option<ReferenceQuery>> {
    prop_oneof![
        Just(None),
        prop::sample::select(Attribute::ALL.to_vec())
            .prop_map(|a| Some(ReferenceQuery::Attribute(a))),
        Just(Some(ReferenceQuery::SshFormat(SshFormat::OpenSsh))),
    ]
}

fn part((id, name): &(String, String)) -> ReferencePart<'_> {
    ReferencePart::new(id, name)
}

fn pick<'a>(id: &'a str, name: &'a str) -> Option<&'a str> {
    if expressible(name) {
        Some(name)
    } else if expressible(id) {
        Some(id)
    } else {
        None
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn canonical_references_parse_back_to_the_same_value(
        vault in (id(), name()),
        item in (id(), name()),
        section in prop::option::of((id(), name())),
        field in (id(), name()),
        query in query(),
    ) {
        let built = SecretReference::canonical(
            part(&vault),
            part(&item),
            section.as_ref().map(part),
            part(&field),
            query,
        );
        let chosen = [
            pick(&vault.0, &vault.1),
            pick(&item.0, &item.1),
            section.as_ref().map_or(Some(""), |s| pick(&s.0, &s.1)),
            pick(&field.0, &field.1),
        ];
        match built {
            Ok(reference) => {
                prop_assert!(chosen.iter().all(Option::is_some));
                prop_assert_eq!(Some(reference.vault()), chosen[0]);
                prop_assert_eq!(Some(reference.item()), chosen[1]);
                prop_assert_eq!(reference.section(), section.as_ref().and(chosen[2]));
                prop_assert_eq!(Some(reference.field()), chosen[3]);
                prop_assert_eq!(reference.query(), query.as_ref());
                let text = reference.to_string();
                prop_assert!(validate(&text).is_ok(), "{}", text);
                prop_assert_eq!(SecretReference::parse(&text).unwrap(), reference);
            }
            Err(err) => {
                prop_assert_eq!(err.kind(), ReferenceErrorKind::InexpressibleName);
                prop_assert!(chosen.iter().any(Option::is_none));
            }
        }
    }

    #[test]
    fn parsing_is_total_and_agrees_with_validate(
        input in prop_oneof![
            any::<String>(),
            "op://[a-z ?/=&.]{0,6}/[a-zé ]{0,6}(/[a-z]{0,4}){0,3}(\\?[a-z=&\\-]{0,16})?",
        ]
    ) {
        let parsed = SecretReference::parse(&input);
        prop_assert_eq!(parsed.is_ok(), validate(&input).is_ok());
        match parsed {
            Ok(reference) => {
                let again = SecretReference::parse(&reference.to_string()).unwrap();
                prop_assert_eq!(again, reference);
            }
            Err(err) => {
                prop_assert!(err.offset() <= input.len());
                prop_assert!(input.is_char_boundary(err.offset()));
            }
        }
    }
}
