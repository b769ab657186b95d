//! The secret reference parser (`op://vault/item/[section/]field[?query]`): never panics,
//! agrees with `validate`, and what it accepts prints back to a reference that parses to
//! the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_core::reference::{validate, SecretReference};

fuzz_target!(|text: &str| {
    let parsed = SecretReference::parse(text);
    assert_eq!(parsed.is_ok(), validate(text).is_ok());
    if let Ok(reference) = parsed {
        let printed = reference.to_string();
        let again = SecretReference::parse(&printed).expect("a printed reference parses");
        assert_eq!(again.to_string(), printed);
        let _ = (
            reference.vault(),
            reference.item(),
            reference.section(),
            reference.field(),
        );
    }
});
