//! `sesame events`: the account's audit trail (the owner only).
//!
//! `sesame_core::Client` has no call for `GET /v1/events` yet, so this module makes the two
//! requests itself: `POST /v1/auth` (signed exactly as the client signs it) and the page of
//! events. It only reads metadata that the server holds in plaintext anyway (the audit
//! trail carries no secrets); when the core client gains `events()`, this should call it.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use clap::Args;
use secrecy::ExposeSecret as _;
use serde::de::DeserializeOwned;
use sesame_core::api::{self, AuthRequest, AuthResponse, ErrorBody, EventsPage};
use sesame_core::token::ServiceAccountToken;
use sesame_core::ErrorCode;
use time::format_description::well_known::Rfc3339;

use crate::exit::{kind_of, CliResult, Failure, Kind};
use crate::output::{self, Format};
use crate::Ctx;

/// `sesame events`.
#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    /// Start after this event number (the `nextCursor` of the previous page).
    #[arg(long, default_value_t = 0)]
    after: u64,
    /// How many events (1 to 1000).
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

async fn send<T: DeserializeOwned>(request: reqwest::RequestBuilder) -> CliResult<T> {
    let response = request
        .send()
        .await
        .map_err(|e| Failure::new(Kind::Network, format!("network error: {e}")))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| Failure::new(Kind::Network, format!("network error: {e}")))?;
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map_err(|e| Failure::other(format!("the server's answer is not readable: {e}")));
    }
    Err(match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(error) => Failure::new(
            ErrorCode::from_wire(&error.code).map_or(Kind::Other, kind_of),
            format!("{}: {}", error.code, error.message),
        ),
        Err(_) => Failure::other(format!("the server answered {status}")),
    })
}

pub(crate) async fn events(args: EventsArgs, ctx: &mut Ctx) -> CliResult<ExitCode> {
    let token = crate::credential::find(ctx.token_file())?;
    let token = ServiceAccountToken::parse(token.expose_secret().trim())
        .map_err(sesame_core::Error::from)?;
    let base = std::env::var("SESAME_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| token.server_url().to_owned());
    let base = base.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Failure::other(format!("cannot make an HTTP client: {e}")))?;
    let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (name, version) = ("sesame-cli", env!("CARGO_PKG_VERSION"));
    let message = api::auth_message(
        token.account_id(),
        token.principal_id(),
        timestamp,
        &nonce,
        name,
        version,
    );
    let request = AuthRequest {
        account_id: *token.account_id(),
        principal_id: *token.principal_id(),
        timestamp,
        nonce,
        integration_name: name.to_owned(),
        integration_version: version.to_owned(),
        signature: URL_SAFE_NO_PAD.encode(token.keys().sign(&message)),
    };
    let auth: AuthResponse = send(http.post(format!("{base}/v1/auth")).json(&request)).await?;
    let page: EventsPage = send(
        http.get(format!("{base}/v1/events"))
            .query(&[("after", args.after), ("limit", u64::from(args.limit))])
            .bearer_auth(&auth.session),
    )
    .await?;
    match ctx.format {
        Format::Json => output::json(&page)?,
        Format::Table => {
            let id =
                |id: &Option<sesame_core::id::Id>| id.map(|i| i.to_string()).unwrap_or_default();
            output::table(
                &[
                    "SEQ",
                    "TIME",
                    "PRINCIPAL",
                    "ACTION",
                    "VAULT",
                    "ITEM",
                    "OUTCOME",
                ],
                &page
                    .events
                    .iter()
                    .map(|e| {
                        vec![
                            e.seq.to_string(),
                            e.time.format(&Rfc3339).unwrap_or_default(),
                            id(&e.principal_id),
                            e.action.clone(),
                            id(&e.vault_id),
                            id(&e.item_id),
                            e.outcome.clone(),
                        ]
                    })
                    .collect::<Vec<_>>(),
            )?;
            if let Some(next) = page.next_cursor {
                eprintln!("more: sesame events --after {next}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
