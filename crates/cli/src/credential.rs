//! Which credential the CLI authenticates with, and where `server init` saves the owner's.
//!
//! Sources, first found wins: `--token-file FILE`, the `SESAME_SERVICE_ACCOUNT_TOKEN`
//! environment variable, then the credential `sesame server init` saved under the user's
//! config directory (`$XDG_CONFIG_HOME/sesame/credential`, else
//! `~/.config/sesame/credential`). `SESAME_URL` overrides the server URL the token records.
//! A source that is given but blank (an empty variable, an empty file) is an error, not a
//! reason to try the next one: falling back would run as the owner by accident.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use sesame_core::token::TOKEN_PREFIX;
use sesame_core::{Client, ClientConfig};

use crate::exit::{CliResult, Failure, Kind};

/// The environment variable holding a token.
pub(crate) const TOKEN_ENV: &str = "SESAME_SERVICE_ACCOUNT_TOKEN";

/// Where `server init` saves the owner credential for this user, if a home is known.
pub(crate) fn saved_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".config"))
        })?;
    Some(base.join("sesame").join("credential"))
}

/// Saves `token` to [`saved_path`] with mode 0600, never overwriting one already there.
/// Returns where it went, or why it did not.
pub(crate) fn save(token: &SecretString) -> Result<PathBuf, String> {
    let path = saved_path().ok_or("neither XDG_CONFIG_HOME nor HOME is set")?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!("{} already holds a credential", path.display())
        } else {
            format!("cannot create {}: {e}", path.display())
        }
    })?;
    file.write_all(token.expose_secret().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// The token in a credential file: its first word that looks like a token.
fn read_file(path: &Path) -> CliResult<SecretString> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            Kind::Authentication,
            format!("cannot read the credential file {}: {e}", path.display()),
        )
    })?;
    text.split_whitespace()
        .find(|w| w.starts_with(TOKEN_PREFIX))
        .map(|w| SecretString::from(w.to_owned()))
        .ok_or_else(|| {
            let what = if text.trim().is_empty() {
                "is empty"
            } else {
                "holds no Sesame token"
            };
            Failure::new(
                Kind::Authentication,
                format!(
                    "the credential file {} {what}: put a Sesame token (starting with \
                     {TOKEN_PREFIX}) in it, or leave out --token-file",
                    path.display()
                ),
            )
        })
}

/// The token to use, from the first source that has one.
pub(crate) fn find(token_file: Option<&Path>) -> CliResult<SecretString> {
    if let Some(path) = token_file {
        return read_file(path);
    }
    // Set means chosen: a blank or unreadable variable (a CI secret that did not expand,
    // `export VAR=` in a script) is a mistake to report, never a reason to act as the
    // saved owner instead.
    if let Some(value) = std::env::var_os(TOKEN_ENV) {
        let token = value.into_string().map_err(|_| {
            Failure::new(
                Kind::Authentication,
                format!("{TOKEN_ENV} is set but is not valid UTF-8: set it to a Sesame token"),
            )
        })?;
        let token = zeroize::Zeroizing::new(token);
        if token.trim().is_empty() {
            return Err(Failure::new(
                Kind::Authentication,
                format!(
                    "{TOKEN_ENV} is set but empty: set it to a Sesame token (starting with \
                     {TOKEN_PREFIX}), or unset it to use the saved owner credential"
                ),
            ));
        }
        return Ok(SecretString::from(token.trim().to_owned()));
    }
    let saved = saved_path();
    if let Some(path) = saved.as_deref().filter(|p| p.exists()) {
        return read_file(path);
    }
    Err(Failure::new(
        Kind::Authentication,
        format!(
            "no credential found. Give one of: --token-file FILE; the environment variable \
             {TOKEN_ENV}; or the owner credential that `sesame server init` saves to {}",
            saved.map_or_else(
                || "$XDG_CONFIG_HOME/sesame/credential".to_owned(),
                |p| p.display().to_string()
            )
        ),
    ))
}

/// Authenticates with the credential found by [`find`].
pub(crate) async fn connect(token_file: Option<&Path>) -> CliResult<Client> {
    let token = find(token_file)?;
    let config = ClientConfig {
        server_url: std::env::var("SESAME_URL").ok().filter(|u| !u.is_empty()),
        timeout: Duration::from_secs(30),
        ..ClientConfig::new("sesame-cli", env!("CARGO_PKG_VERSION"))
    };
    Ok(Client::authenticate(token, config).await?)
}
