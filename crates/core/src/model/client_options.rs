//! How a program in any language asks for a client: the options of `createClient` /
//! `Client.authenticate` / `NewClient`, as one JSON object.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use crate::client::ClientConfig;

/// The options of a new client, as every language binding passes them:
/// `{"auth", "integrationName", "integrationVersion"}` as in the 1Password SDKs, plus the
/// optional `serverUrl`, `timeoutSeconds`, `retries` and `cacheTtlSeconds` (see
/// [`ClientConfig`]). `Debug` never shows the token.
///
/// ```
/// use sesame_core::model::ClientOptions;
/// let options: ClientOptions = serde_json::from_str(
///     r#"{"auth": "sesame_sa_…", "integrationName": "deploy-bot", "integrationVersion": "1.0.0", "cacheTtlSeconds": 5}"#,
/// ).unwrap();
/// let config = options.config();
/// assert_eq!(config.cache_ttl, Some(std::time::Duration::from_secs(5)));
/// assert!(!format!("{options:?}").contains("sesame_sa_"));
/// ```
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientOptions {
    /// The service account token.
    #[serde(deserialize_with = "secret")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub auth: SecretString,
    /// The program's name, recorded in the audit trail.
    pub integration_name: String,
    /// The program's version.
    pub integration_version: String,
    /// The server to use instead of the one the token records.
    #[serde(default)]
    pub server_url: Option<String>,
    /// The limit on every HTTP call, in seconds (default 30).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// How often an idempotent call is retried after a transient failure (default 3).
    #[serde(default)]
    pub retries: Option<u32>,
    /// Skip the sync round trip while the last sync is younger than this (default: sync
    /// on every read).
    #[serde(default)]
    pub cache_ttl_seconds: Option<u64>,
}

impl ClientOptions {
    /// The [`ClientConfig`] these options describe (the token is separate).
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new(&self.integration_name, &self.integration_version);
        config.server_url.clone_from(&self.server_url);
        if let Some(seconds) = self.timeout_seconds {
            config.timeout = Duration::from_secs(seconds);
        }
        if let Some(retries) = self.retries {
            config.retries = retries;
        }
        config.cache_ttl = self.cache_ttl_seconds.map(Duration::from_secs);
        config
    }
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("auth", &"[redacted]")
            .field("integration_name", &self.integration_name)
            .field("integration_version", &self.integration_version)
            .field("server_url", &self.server_url)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("retries", &self.retries)
            .field("cache_ttl_seconds", &self.cache_ttl_seconds)
            .finish()
    }
}
