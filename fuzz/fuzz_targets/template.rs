//! The `sesame inject` template engine (`crates/cli/src/template.rs`, included as is):
//! never panics, and an error's line and column lie inside the template.
#![no_main]
#![allow(dead_code)]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/cli/src/template.rs"]
mod template;

/// Some variables are set (one to text that looks like template syntax), others not.
fn env(name: &str) -> Option<String> {
    match name.len() % 3 {
        0 => None,
        1 => Some("value".to_owned()),
        _ => Some("{{ op://$V/i/f }}".to_owned()),
    }
}

fuzz_target!(|text: &str| {
    match template::parse(text, &env) {
        Ok(pieces) => {
            let values: HashMap<String, String> = template::references(&pieces)
                .into_iter()
                .map(|r| (r.to_owned(), "secret".to_owned()))
                .collect();
            let _ = template::render(&pieces, &values);
        }
        Err(error) => {
            assert!(error.line >= 1 && error.line <= text.lines().count().max(1) + 1);
            assert!(error.column >= 1);
        }
    }
});
