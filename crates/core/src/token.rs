//! Service account tokens: the one string an automation needs to reach its secrets.
//!
//! # Format
//!
//! ```text
//! token    = "sesame_sa_" || base64url(payload) || "." || checksum
//! checksum = base64url(first 6 bytes of SHA-256("sesame_sa_" || base64url(payload)))   (8 chars)
//! payload  = {"v":1,"url":"<server URL>","account":"<id>","principal":"<id>",
//!             "secret":"<base64url of 32 random bytes>"}
//! ```
//!
//! base64url is RFC 4648 §5 without padding. The prefix lets secret scanners recognise a
//! leaked token; the checksum catches typos and truncation locally, before any network
//! call. The 256-bit secret never leaves the client: both private keys are derived from it
//! (see [`crate::crypto::PrincipalKeys`]) and the server holds only the public keys.
//!
//! Parsing reports each kind of damage with its own [`TokenErrorKind`], and no error
//! message or `Debug` output ever contains any part of the token after the prefix.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use secrecy::SecretString;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::PrincipalKeys;
use crate::id::Id;

/// The prefix of every service account token.
pub const TOKEN_PREFIX: &str = "sesame_sa_";
/// The payload format version this client writes and reads.
const PAYLOAD_VERSION: u64 = 1;
/// Length of the checksum in characters (6 bytes of SHA-256, base64url).
const CHECKSUM_LEN: usize = 8;
/// Length of the secret in bytes.
const SECRET_LEN: usize = 32;

/// Prefixes of other vendors' credentials, to name the mix-up when one is pasted here.
const OTHER_VENDORS: &[(&str, &str)] = &[
    ("ops_", "a 1Password service account token"),
    ("github_pat_", "a GitHub personal access token"),
    ("ghp_", "a GitHub personal access token"),
    ("gho_", "a GitHub OAuth token"),
    ("ghs_", "a GitHub app token"),
    ("glpat-", "a GitLab personal access token"),
    ("xoxb-", "a Slack bot token"),
    ("xoxp-", "a Slack user token"),
    ("sk-", "an OpenAI-style API key"),
    ("hvs.", "a HashiCorp Vault token"),
    ("AKIA", "an AWS access key id"),
    ("npm_", "an npm access token"),
    ("dop_v1_", "a DigitalOcean token"),
];

/// The 256-bit secret inside a service account token.
///
/// Wiped from memory on drop; `Debug` prints no secret material; equality is constant-time.
///
/// ```
/// use sesame_core::token::TokenSecret;
/// let secret = TokenSecret::from_bytes([7; 32]);
/// assert_eq!(format!("{secret:?}"), "TokenSecret([redacted])");
/// assert_eq!(secret, TokenSecret::from_bytes([7; 32]));
/// assert_ne!(TokenSecret::generate(), secret);
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TokenSecret([u8; SECRET_LEN]);

impl TokenSecret {
    /// A fresh secret from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut secret = Self([0; SECRET_LEN]);
        OsRng.fill_bytes(&mut secret.0);
        secret
    }

    /// A secret with the given bytes (for tests and for keys provisioned elsewhere).
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        Self(bytes)
    }

    pub(crate) fn expose(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }
}

impl PartialEq for TokenSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for TokenSecret {}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret([redacted])")
    }
}

/// A parsed service account token: server URL, account, principal and secret.
///
/// `Debug` shows the URL and ids but never the secret; there is deliberately no `Display`.
///
/// ```
/// use sesame_core::id::Id;
/// use sesame_core::token::ServiceAccountToken;
/// use secrecy::ExposeSecret;
///
/// let token = ServiceAccountToken::generate("http://127.0.0.1:8787", Id::generate(), Id::generate())?;
/// let text = token.to_secret_string();
/// assert!(text.expose_secret().starts_with("sesame_sa_"));
///
/// let parsed = ServiceAccountToken::parse(text.expose_secret())?;
/// assert_eq!(parsed.account_id(), token.account_id());
/// assert_eq!(parsed.keys().signing_public_key(), token.keys().signing_public_key());
/// assert!(!format!("{parsed:?}").contains(text.expose_secret()));
///
/// let err = ServiceAccountToken::parse("ops_eyJzaWduSW4iOi").unwrap_err();
/// assert_eq!(err.kind().code(), "wrong_prefix");
/// assert!(err.to_string().contains("1Password"));
/// # Ok::<(), sesame_core::token::TokenError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceAccountToken {
    server_url: String,
    account: Id,
    principal: Id,
    secret: TokenSecret,
}

impl ServiceAccountToken {
    /// A new token with a fresh random secret for `principal` of `account` on `server_url`.
    ///
    /// # Errors
    ///
    /// [`TokenErrorKind::InvalidField`] when `server_url` is not an `http://` or `https://`
    /// URL with a host.
    pub fn generate(server_url: &str, account: Id, principal: Id) -> Result<Self, TokenError> {
        Self::from_parts(server_url, account, principal, TokenSecret::generate())
    }

    /// A token from its parts, for tests and for tooling that provisions secrets itself.
    ///
    /// # Errors
    ///
    /// As [`generate`](Self::generate).
    pub fn from_parts(
        server_url: &str,
        account: Id,
        principal: Id,
        secret: TokenSecret,
    ) -> Result<Self, TokenError> {
        check_url(server_url)?;
        Ok(Self {
            server_url: server_url.to_owned(),
            account,
            principal,
            secret,
        })
    }

    /// Parses and checks a token string; see [`TokenErrorKind`] for every failure.
    ///
    /// # Errors
    ///
    /// A [`TokenError`] saying what is wrong and where, never quoting the token.
    pub fn parse(token: &str) -> Result<Self, TokenError> {
        check_shape(token)?;
        let body = &token[TOKEN_PREFIX.len()..];
        let Some((payload, checksum)) = body.split_once('.') else {
            return Err(TokenError::new(
                TokenErrorKind::Truncated,
                "the '.' before the checksum is missing: the token was cut off; copy the whole token",
            ));
        };
        if payload.is_empty() {
            return Err(TokenError::new(
                TokenErrorKind::Truncated,
                "the payload between the prefix and the '.' is missing; copy the whole token",
            ));
        }
        // Character positions are 1-based over the whole token, for people counting.
        check_alphabet(payload, TOKEN_PREFIX.len() + 1)?;
        check_alphabet(checksum, TOKEN_PREFIX.len() + payload.len() + 2)?;
        if checksum.len() < CHECKSUM_LEN {
            return Err(TokenError::new(
                TokenErrorKind::Truncated,
                format!(
                    "the checksum after the '.' has {} of its {CHECKSUM_LEN} characters: the token \
                     was cut off at the end; copy the whole token",
                    checksum.len()
                ),
            ));
        }
        if checksum.len() > CHECKSUM_LEN {
            return Err(TokenError::new(
                TokenErrorKind::ChecksumMismatch,
                format!(
                    "the checksum after the '.' has {} characters instead of {CHECKSUM_LEN}: \
                     something was appended to the token; copy exactly the token",
                    checksum.len()
                ),
            ));
        }
        let expected = compute_checksum(payload);
        if !bool::from(expected.as_bytes().ct_eq(checksum.as_bytes())) {
            return Err(TokenError::new(
                TokenErrorKind::ChecksumMismatch,
                "the checksum does not match: the token was mistyped or altered; copy it \
                 again from where it was issued",
            ));
        }
        let json = Zeroizing::new(URL_SAFE_NO_PAD.decode(payload).map_err(|_| {
            TokenError::new(
                TokenErrorKind::BadEncoding,
                format!(
                    "the payload is not canonical unpadded base64url ({} characters); \
                     the token was not made by Sesame",
                    payload.len()
                ),
            )
        })?);
        parse_payload(&json)
    }

    /// The server URL, e.g. `http://127.0.0.1:8787`.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The account the principal belongs to.
    pub fn account_id(&self) -> &Id {
        &self.account
    }

    /// The principal (service account) the token authenticates.
    pub fn principal_id(&self) -> &Id {
        &self.principal
    }

    /// The 256-bit secret.
    pub fn secret(&self) -> &TokenSecret {
        &self.secret
    }

    /// The token string (see the [module docs](self) for the format).
    pub fn to_secret_string(&self) -> SecretString {
        let secret = Zeroizing::new(URL_SAFE_NO_PAD.encode(self.secret.expose()));
        let url = serde_json::Value::String(self.server_url.clone()).to_string();
        let mut json = Zeroizing::new(String::with_capacity(
            url.len() + secret.len() + 2 * crate::id::ID_LEN + 64,
        ));
        json.push_str(r#"{"v":1,"url":"#);
        json.push_str(&url);
        json.push_str(r#","account":""#);
        json.push_str(self.account.as_str());
        json.push_str(r#"","principal":""#);
        json.push_str(self.principal.as_str());
        json.push_str(r#"","secret":""#);
        json.push_str(&secret);
        json.push_str(r#""}"#);
        let payload = Zeroizing::new(URL_SAFE_NO_PAD.encode(json.as_bytes()));
        let checksum = compute_checksum(&payload);
        // Exact capacity, so turning the String into a boxed str does not copy it.
        let mut token =
            String::with_capacity(TOKEN_PREFIX.len() + payload.len() + 1 + checksum.len());
        token.push_str(TOKEN_PREFIX);
        token.push_str(&payload);
        token.push('.');
        token.push_str(&checksum);
        SecretString::from(token)
    }

    /// The principal's private keys, derived from the secret.
    pub fn keys(&self) -> PrincipalKeys {
        PrincipalKeys::derive(&self.secret)
    }
}

impl FromStr for ServiceAccountToken {
    type Err = TokenError;

    fn from_str(s: &str) -> Result<Self, TokenError> {
        Self::parse(s)
    }
}

impl fmt::Debug for ServiceAccountToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountToken")
            .field("server_url", &self.server_url)
            .field("account", &self.account)
            .field("principal", &self.principal)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// The 8-character checksum of a payload part.
fn compute_checksum(payload: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(TOKEN_PREFIX.as_bytes());
    hasher.update(payload.as_bytes());
    URL_SAFE_NO_PAD.encode(&hasher.finalize()[..6])
}

/// Empty, whitespace and prefix checks: the mistakes of copying and pasting.
fn check_shape(token: &str) -> Result<(), TokenError> {
    if token.trim().is_empty() {
        return Err(TokenError::new(
            TokenErrorKind::Empty,
            if token.is_empty() {
                "the token is empty; pass the service account token, which starts with sesame_sa_"
            } else {
                "the token is only whitespace; pass the service account token, which starts \
                 with sesame_sa_"
            },
        ));
    }
    let total = token.chars().count();
    if let Some((index, c)) = token.chars().enumerate().find(|(_, c)| c.is_whitespace()) {
        let what = match c {
            '\n' | '\r' => "a line break",
            '\t' => "a tab",
            ' ' => "a space",
            _ => "a whitespace character",
        };
        let position = index + 1;
        let place = if index == 0 {
            "at the start".to_owned()
        } else if token[token.char_indices().nth(index).map_or(0, |(i, _)| i)..]
            .trim()
            .is_empty()
        {
            format!("at the end (character {position} of {total})")
        } else {
            format!("inside it at character {position} of {total}")
        };
        return Err(TokenError::new(
            TokenErrorKind::Whitespace,
            format!(
                "the token has {what} {place}; it was probably copied with a line break or \
                 wrapped: remove all whitespace"
            ),
        ));
    }
    if !token.starts_with(TOKEN_PREFIX) {
        let message = if let Some((_, vendor)) = OTHER_VENDORS
            .iter()
            .find(|(prefix, _)| token.starts_with(prefix))
        {
            format!(
                "the token looks like {vendor}, not a Sesame service account token; Sesame \
                 tokens start with {TOKEN_PREFIX}"
            )
        } else if token
            .get(..TOKEN_PREFIX.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(TOKEN_PREFIX))
        {
            format!("the prefix is in the wrong case; Sesame tokens start with {TOKEN_PREFIX} in lowercase")
        } else if token.to_ascii_lowercase().starts_with("sesame") {
            format!(
                "the prefix is mistyped; Sesame service account tokens start with {TOKEN_PREFIX}"
            )
        } else {
            format!("this is not a Sesame service account token: it must start with {TOKEN_PREFIX}")
        };
        return Err(TokenError::new(TokenErrorKind::WrongPrefix, message));
    }
    Ok(())
}

/// Finds the first character outside the base64url alphabet; `first_position` is the
/// 1-based position of `part`'s first character in the whole token.
fn check_alphabet(part: &str, first_position: usize) -> Result<(), TokenError> {
    let Some((index, c)) = part
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    else {
        return Ok(());
    };
    // Every letter and digit is valid, so the offending character is punctuation or
    // non-ASCII, and naming it reveals nothing of the secret.
    let what = match c {
        '+' | '/' => format!("'{c}' (standard base64, not base64url: the token was re-encoded)"),
        '=' => "'=' (padding, which Sesame tokens never have)".to_owned(),
        '"' | '\'' | '`' => format!("the quote {c} (was the token copied with its quotes?)"),
        '.' => "a second '.'".to_owned(),
        c if c.is_ascii_punctuation() => format!("'{c}'"),
        c if c.is_ascii_control() => "a control character".to_owned(),
        _ => "a non-ASCII character (often a look-alike or invisible character added by a \
              document or chat app)"
            .to_owned(),
    };
    // Characters before this part are ASCII (checked above), so bytes count as characters.
    Err(TokenError::new(
        TokenErrorKind::BadEncoding,
        format!(
            "character {} of the token is {what}; a token contains only A-Z, a-z, 0-9, '-', \
             '_' and one '.'",
            first_position + index
        ),
    ))
}

/// Parses and validates the decoded JSON payload.
fn parse_payload(json: &[u8]) -> Result<ServiceAccountToken, TokenError> {
    let bad = |message: String| TokenError::new(TokenErrorKind::BadPayload, message);
    let value: Value = serde_json::from_slice(json).map_err(|err| {
        // The serde message can quote the payload, so only its category and place are kept.
        bad(format!(
            "the payload is not valid JSON ({:?} error at column {}); the token was not made \
             by Sesame",
            err.classify(),
            err.column()
        ))
    })?;
    let Value::Object(mut fields) = value else {
        return Err(bad(
            "the payload is not a JSON object; the token was not made by Sesame".into(),
        ));
    };
    // The secret is moved out first so that its string is wiped, whatever fails later.
    let secret_value = fields.remove("secret");
    let secret_text = match secret_value {
        Some(Value::String(text)) => Some(Ok(Zeroizing::new(text))),
        Some(other) => Some(Err(json_type(&other))),
        None => None,
    };
    let missing: Vec<&str> = ["v", "url", "account", "principal"]
        .into_iter()
        .filter(|name| !fields.contains_key(*name))
        .chain(secret_text.is_none().then_some("secret"))
        .collect();
    if !missing.is_empty() {
        return Err(TokenError::new(
            TokenErrorKind::MissingField,
            format!(
                "the payload has no {} field{}; the token is incomplete or was not made by Sesame",
                missing.join(", "),
                if missing.len() == 1 { "" } else { "s" }
            ),
        ));
    }
    let version = fields
        .get("v")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid_field("v", "must be a positive integer"))?;
    if version != PAYLOAD_VERSION {
        return Err(TokenError::new(
            TokenErrorKind::UnsupportedVersion,
            format!(
                "the token has format version {version}, this client reads version \
                 {PAYLOAD_VERSION}; upgrade the Sesame SDK"
            ),
        ));
    }
    let url = string_field(&fields, "url")?;
    check_url(url)?;
    let account = id_field(&fields, "account")?;
    let principal = id_field(&fields, "principal")?;
    let secret_text = match secret_text {
        Some(Ok(text)) => text,
        Some(Err(kind)) => {
            return Err(invalid_field(
                "secret",
                &format!("must be a string, not {kind}"),
            ))
        }
        None => return Err(invalid_field("secret", "is missing")),
    };
    let secret_bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(secret_text.as_bytes()).map_err(
        |_| {
            invalid_field(
                "secret",
                "must be 43 characters of unpadded base64url (32 bytes)",
            )
        },
    )?);
    let secret: [u8; SECRET_LEN] = secret_bytes.as_slice().try_into().map_err(|_| {
        invalid_field(
            "secret",
            &format!("must be {SECRET_LEN} bytes, got {}", secret_bytes.len()),
        )
    })?;
    let secret = TokenSecret(secret);
    Ok(ServiceAccountToken {
        server_url: url.to_owned(),
        account,
        principal,
        secret,
    })
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string_field<'a>(
    fields: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<&'a str, TokenError> {
    match fields.get(name) {
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(invalid_field(
            name,
            &format!("must be a string, not {}", json_type(other)),
        )),
        None => Err(invalid_field(name, "is missing")),
    }
}

fn id_field(fields: &serde_json::Map<String, Value>, name: &str) -> Result<Id, TokenError> {
    let text = string_field(fields, name)?;
    text.parse().map_err(|_| {
        invalid_field(
            name,
            &format!(
                "is not an id (26 lowercase letters or digits; it has {} characters)",
                text.chars().count()
            ),
        )
    })
}

fn invalid_field(name: &str, problem: &str) -> TokenError {
    TokenError::new(
        TokenErrorKind::InvalidField,
        format!(
            "the payload field {name} {problem}; the token was not made by Sesame or was altered"
        ),
    )
}

/// Minimal URL check: `http://` or `https://`, a host, no whitespace or credentials.
fn check_url(url: &str) -> Result<(), TokenError> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err(invalid_url("must start with http:// or https://"));
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid_url(
            "must not contain whitespace or control characters",
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(invalid_url("must not contain a user name or password"));
    }
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]` or `[::1]:8787`.
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err(invalid_url("has an IPv6 address without its closing ']'"));
        };
        if !(after.is_empty() || after.starts_with(':')) {
            return Err(invalid_url(
                "has characters between the IPv6 address and the port",
            ));
        }
        check_port(after.strip_prefix(':'))?;
        host
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        check_port(port)?;
        host
    };
    if host.is_empty() {
        return Err(invalid_url("has no host name"));
    }
    Ok(())
}

fn check_port(port: Option<&str>) -> Result<(), TokenError> {
    match port {
        None => Ok(()),
        Some(port) if port.parse::<u16>().is_ok_and(|p| p > 0) => Ok(()),
        Some(_) => Err(invalid_url(
            "has a port that is not a number between 1 and 65535",
        )),
    }
}

fn invalid_url(problem: &str) -> TokenError {
    TokenError::new(
        TokenErrorKind::InvalidField,
        format!("the server url {problem}"),
    )
}

/// What is wrong with a token; each kind has a stable [`code`](Self::code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenErrorKind {
    /// The token is empty or only whitespace.
    Empty,
    /// The token contains whitespace (usually a line break from copying).
    Whitespace,
    /// The token does not start with `sesame_sa_` (possibly another vendor's token).
    WrongPrefix,
    /// The token was cut off: no `.` or a short checksum.
    Truncated,
    /// The checksum does not match: a typo or an alteration.
    ChecksumMismatch,
    /// A character outside base64url, or a non-canonical encoding.
    BadEncoding,
    /// The payload is not a JSON object.
    BadPayload,
    /// The payload lacks a required field.
    MissingField,
    /// The payload has a format version this client does not read.
    UnsupportedVersion,
    /// A payload field has a bad value (URL, id or secret).
    InvalidField,
}

impl TokenErrorKind {
    /// The stable snake-case code of this kind.
    ///
    /// ```
    /// assert_eq!(sesame_core::token::TokenErrorKind::ChecksumMismatch.code(), "checksum_mismatch");
    /// ```
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Whitespace => "whitespace",
            Self::WrongPrefix => "wrong_prefix",
            Self::Truncated => "truncated",
            Self::ChecksumMismatch => "checksum_mismatch",
            Self::BadEncoding => "bad_encoding",
            Self::BadPayload => "bad_payload",
            Self::MissingField => "missing_field",
            Self::UnsupportedVersion => "unsupported_version",
            Self::InvalidField => "invalid_field",
        }
    }
}

/// Why a token string was rejected. The message never quotes the token.
///
/// ```
/// use sesame_core::token::{ServiceAccountToken, TokenErrorKind};
/// let err = "sesame_sa_abc\n".parse::<ServiceAccountToken>().unwrap_err();
/// assert_eq!(err.kind(), TokenErrorKind::Whitespace);
/// assert!(err.to_string().contains("line break at the end"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid service account token: {message}")]
pub struct TokenError {
    kind: TokenErrorKind,
    message: String,
}

impl TokenError {
    fn new(kind: TokenErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> TokenErrorKind {
        self.kind
    }

    /// The explanation, without the `invalid service account token:` lead-in.
    pub fn message(&self) -> &str {
        &self.message
    }
}
