//! `cargo xtask bench-provision --url URL --token-file FILE [--items N]`: the data and the
//! raw session that `make bench-server` (bench/server.py) points wrk at.
//!
//! As the owner (the credential in FILE), through the public client like any program:
//! creates a vault, a service account that may read and update its items (the principal
//! the load runs as, as a deployment's CI would), and N login items sealed with the
//! vault key. Then, as that service account, without the client: one signed
//! `POST /v1/auth` for a session wrk can send as it is, one `GET` of every item (each
//! must answer), and one `PUT` of the first item, which checks the write wrk repeats.
//!
//! Prints one JSON object on stdout:
//!
//! ```text
//! {"session": "…", "expiresAt": 1700000000, "serverTime": 1699996400,
//!  "vault": "…", "principal": "…", "items": ["…", …],
//!  "write": {"method": "PUT", "path": "/v1/vaults/{vault}/items/{item}",
//!            "versions": {"<item id>": 1, …}, "state": "active",
//!            "overview": "<base64url>", "details": "<base64url>"}}
//! ```
//!
//! A write is `PUT /v1/vaults/{vault}/items/{item}` with the body
//! `{"expectedVersion": versions[item], "state", "overview", "details"}` (an
//! [`ItemUpdateRequest`]); each answer is the [`ItemRecord`] with the new `version`. The
//! server cannot check ciphertext, so every write re-sends the first item's sealed blobs
//! (a real item's sizes); items written that way no longer open in a client, which a
//! benchmark vault does not need. The session is a secret: nothing else prints it.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::RngCore as _;
use secrecy::ExposeSecret as _;
use serde_json::{json, Map, Value};
use sesame_core::api::{self, AuthRequest, AuthResponse, ItemRecord, ItemUpdateRequest};
use sesame_core::encoding::base64url_encode;
use sesame_core::model::permissions::{READ_ITEMS, REVEAL_ITEM_PASSWORD, UPDATE_ITEMS};
use sesame_core::model::{
    ItemCategory, ItemCreateParams, ItemField, ItemFieldType, ItemState, VaultCreateParams,
};
use sesame_core::token::ServiceAccountToken;
use sesame_core::{Client, ClientConfig};

const USAGE: &str = "usage: cargo xtask bench-provision --url URL --token-file FILE [--items N]";
/// How this tool names itself to the server (the audit trail records it).
const INTEGRATION: (&str, &str) = ("sesame-bench", "1.0.0");

struct Args {
    url: String,
    token_file: String,
    items: usize,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let value = |flag: &str| -> Option<String> {
        let i = args.iter().position(|a| a == flag)?;
        args.get(i + 1).cloned()
    };
    let url = value("--url").ok_or("--url is required")?;
    let token_file = value("--token-file").ok_or("--token-file is required")?;
    let items = match value("--items") {
        Some(n) => n
            .parse()
            .map_err(|_| format!("--items {n:?} is not a number"))?,
        None => 100,
    };
    if items == 0 {
        return Err("--items must be at least 1".into());
    }
    Ok(Args {
        url: url.trim_end_matches('/').to_owned(),
        token_file,
        items,
    })
}

/// `cargo xtask bench-provision …` (`args` after the subcommand).
pub fn main(args: &[String]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench-provision: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(provision(&args)) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-provision: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn provision(args: &Args) -> Result<Value, String> {
    let owner_token = std::fs::read_to_string(&args.token_file)
        .map_err(|e| format!("cannot read {}: {e}", args.token_file))?;
    let config = ClientConfig {
        server_url: Some(args.url.clone()),
        ..ClientConfig::new(INTEGRATION.0, INTEGRATION.1)
    };
    let owner = Client::authenticate(owner_token.trim().to_owned(), config)
        .await
        .map_err(|e| format!("owner sign-in: {e}"))?;
    let vault = owner
        .vaults()
        .create(VaultCreateParams::new("bench"))
        .await
        .map_err(|e| format!("creating the vault: {e}"))?;
    let rights = READ_ITEMS | REVEAL_ITEM_PASSWORD | UPDATE_ITEMS;
    let (principal, token) = owner
        .service_accounts()
        .create("bench-load", &[(vault.id.as_str(), rights)], None)
        .await
        .map_err(|e| format!("creating the service account: {e}"))?;
    let mut items = Vec::with_capacity(args.items);
    for n in 0..args.items {
        let params = ItemCreateParams {
            fields: Some(vec![
                ItemField::new("username", "username", ItemFieldType::Text, "bench"),
                ItemField::new(
                    "password",
                    "password",
                    ItemFieldType::Concealed,
                    sesame_core::id::Id::generate().to_string(),
                ),
            ]),
            ..ItemCreateParams::new(ItemCategory::Login, &vault.id, format!("item-{n}"))
        };
        let item = owner
            .items()
            .create(params)
            .await
            .map_err(|e| format!("creating item {n}: {e}"))?;
        items.push(item.id);
    }

    let token = ServiceAccountToken::parse(token.expose_secret())
        .map_err(|e| format!("the new service account's token: {e}"))?;
    let http = reqwest::Client::new();
    let auth: AuthResponse = send(
        http.post(format!("{}/v1/auth", args.url))
            .json(&auth_request(&token)?),
    )
    .await
    .and_then(decode)
    .map_err(|e| format!("POST /v1/auth: {e}"))?;
    let session = auth.session.clone();

    let mut versions = Map::new();
    let mut first: Option<ItemRecord> = None;
    for id in &items {
        let path = format!("/v1/vaults/{}/items/{id}", vault.id);
        let record: ItemRecord = send(
            http.get(format!("{}{path}", args.url))
                .bearer_auth(&session),
        )
        .await
        .and_then(decode)
        .map_err(|e| format!("GET {path}: {e}"))?;
        versions.insert(id.clone(), json!(record.version));
        first.get_or_insert(record);
    }
    let first = first.ok_or("no item was created")?;

    // The write wrk repeats, once here, so that a wrong body fails before the load does.
    let update = ItemUpdateRequest {
        expected_version: first.version,
        state: ItemState::Active,
        overview: first.overview.clone(),
        details: first
            .details
            .clone()
            .ok_or("GET of an item returned no details")?,
        files: Vec::new(),
    };
    let path = format!("/v1/vaults/{}/items/{}", vault.id, first.id);
    let written: ItemRecord = send(
        http.put(format!("{}{path}", args.url))
            .bearer_auth(&session)
            .json(&update),
    )
    .await
    .and_then(decode)
    .map_err(|e| format!("PUT {path}: {e}"))?;
    versions.insert(first.id.to_string(), json!(written.version));
    let body = serde_json::to_value(&update).map_err(|e| e.to_string())?;

    Ok(json!({
        "session": session,
        "expiresAt": auth.expires_at,
        "serverTime": auth.server_time,
        "vault": vault.id,
        "principal": principal.id,
        "items": items,
        "write": {
            "method": "PUT",
            "path": "/v1/vaults/{vault}/items/{item}",
            "versions": versions,
            "state": body["state"],
            "overview": body["overview"],
            "details": body["details"],
        },
    }))
}

/// A signed assertion for `token` (fresh nonce, current time), as every client makes.
fn auth_request(token: &ServiceAccountToken) -> Result<AuthRequest, String> {
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let nonce = base64url_encode(nonce);
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let (name, version) = INTEGRATION;
    let message = api::auth_message(
        token.account_id(),
        token.principal_id(),
        timestamp,
        &nonce,
        name,
        version,
    );
    Ok(AuthRequest {
        account_id: *token.account_id(),
        principal_id: *token.principal_id(),
        timestamp,
        nonce,
        integration_name: name.to_owned(),
        integration_version: version.to_owned(),
        signature: base64url_encode(token.keys().sign(&message)),
    })
}

/// Sends `request`: its JSON answer, or an error carrying the status and the body when
/// the status is not 2xx.
async fn send(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))
}

/// `value` as the API type the route answers with.
fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| format!("unexpected answer: {e}"))
}
