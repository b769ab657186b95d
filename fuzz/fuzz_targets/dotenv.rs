//! The `.env` parser of `sesame run --env-file` (`crates/cli/src/dotenv.rs`, included as
//! is): never panics, and an error's line lies inside the file.
#![no_main]
#![allow(dead_code)]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/cli/src/dotenv.rs"]
mod dotenv;

fn env(name: &str) -> Option<String> {
    (name.len() % 2 == 0).then(|| "from the shell".to_owned())
}

fuzz_target!(|text: &str| {
    let mut defined = HashMap::new();
    if let Err(error) = dotenv::parse_into(text, &mut defined, &env) {
        assert!(error.line >= 1 && error.line <= text.lines().count().max(1) + 1);
    }
});
