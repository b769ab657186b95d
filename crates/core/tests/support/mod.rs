#![allow(clippy::unwrap_used, clippy::panic)] // test support: a panic is a failed test
//! Helpers shared by the integration tests that own a generated vector file.

use serde_json::Value;

/// Reads the vector file at `path` (absolute).
pub fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// Checks that the committed file at `path` is exactly what its generator builds now.
/// With `SESAME_REGENERATE_VECTORS` set (`make vectors`), rewrites the file instead: for
/// a deliberate format change, reviewed in the diff.
pub fn check_generated(path: &str, built: &Value) {
    if std::env::var_os("SESAME_REGENERATE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(built).unwrap();
        std::fs::write(path, text + "\n").unwrap();
        return;
    }
    assert!(
        &load(path) == built,
        "{path} differs from its generator; if the format changed on purpose, run `make vectors`"
    );
}
