//! Resolves one secret reference with a service account token and prints the secret.
//!
//! ```text
//! SESAME_SERVICE_ACCOUNT_TOKEN=sesame_sa_… [SESAME_URL=http://127.0.0.1:8787] \
//!     cargo run -p sesame-core --example resolve_secret -- "op://Infra/Postgres/password"
//! ```
//!
//! `SESAME_URL` overrides the server URL inside the token. This is what `make demo` runs.

use std::process::ExitCode;

use sesame_core::{Client, ClientConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(reference) = std::env::args().nth(1) else {
        eprintln!("usage: resolve_secret <op://vault/item/[section/]field>");
        return ExitCode::from(2);
    };
    let Ok(token) = std::env::var("SESAME_SERVICE_ACCOUNT_TOKEN") else {
        eprintln!("set SESAME_SERVICE_ACCOUNT_TOKEN to a service account token");
        return ExitCode::from(2);
    };
    let config = ClientConfig {
        server_url: std::env::var("SESAME_URL").ok().filter(|u| !u.is_empty()),
        ..ClientConfig::new("sesame-example", env!("CARGO_PKG_VERSION"))
    };
    let client = match Client::authenticate(token, config).await {
        Ok(client) => client,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            return ExitCode::FAILURE;
        }
    };
    match client.secrets().resolve(&reference).await {
        Ok(secret) => {
            println!("{secret}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}
