//! Validates secret references read from standard input, one JSON string per line, and
//! prints one JSON verdict per line: `{"valid":true}` or
//! `{"valid":false,"error":"<kind>","offset":<byte>,"segment":"<segment>"}`.
//!
//! JSON lines let a reference hold any character, newlines included. The differential
//! test against the official 1Password SDK (`make compat`) drives this program.
//!
//! ```sh
//! echo '"op://Infra/Postgres/password"' | cargo run -q --example validate_references
//! ```

use std::io::{self, BufRead, BufWriter, Write};

use serde_json::json;
use sesame_core::reference;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for line in io::stdin().lock().lines() {
        let input: String = serde_json::from_str(&line?)?;
        let verdict = match reference::validate(&input) {
            Ok(()) => json!({ "valid": true }),
            Err(e) => json!({
                "valid": false,
                "error": e.kind().code(),
                "offset": e.offset(),
                "segment": e.segment().as_str(),
            }),
        };
        writeln!(out, "{verdict}")?;
    }
    out.flush()?;
    Ok(())
}
