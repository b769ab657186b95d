//! One-time passwords: TOTP (RFC 6238) and HOTP (RFC 4226).
//!
//! A TOTP item field holds either an `otpauth://totp/...` URI or a bare base32 secret;
//! [`Totp::parse`] accepts both. [`Hotp`] reads `otpauth://hotp/...` URIs.
//!
//! # What is accepted
//!
//! - **Secrets**: base32 (RFC 4648, `A`–`Z` and `2`–`7`), case-insensitive, whitespace
//!   anywhere is ignored, trailing `=` padding is optional. Leftover bits of the last
//!   character are ignored (as every authenticator app does). At least 80 bits (16 base32
//!   characters) are required: RFC 4226 asks for 128, but 80-bit secrets are widely
//!   deployed, and anything shorter is a truncated paste or trivially guessable.
//! - **URI parameters** (names case-insensitive, values percent-decoded, `+` read as a
//!   space): `secret` (required), `issuer`, `algorithm` (`SHA1` default, `SHA256`,
//!   `SHA512`, case-insensitive), `digits` (6 default, 7 or 8), `period` (TOTP only, 30
//!   default, 1 to 86,400 seconds) and `counter` (HOTP only, required there).
//! - **Label**: percent-decoded; `Issuer:account` or just `account`. The `issuer`
//!   parameter wins over the label prefix when both are present.
//!
//! # What is rejected
//!
//! Anything that would make us compute a different code than the issuer expects:
//! another scheme or type, a repeated parameter, an `encoder` parameter (Steam Guard and
//! other non-RFC encodings), `counter` on a TOTP URI or `period` on an HOTP one, an
//! unknown algorithm, digits outside 6–8, a bad period, bad base32. Every other
//! parameter (`image`, `icon`, `color`, `lock`, `tags`, …) is presentational in every
//! authenticator we know of and is ignored, so URIs exported by other apps load.
//!
//! Errors are [`Error::InvalidInput`] with `what` one of `totp.uri`, `totp.secret`,
//! `totp.algorithm`, `totp.digits`, `totp.period`, `totp.counter` or `totp.time`. They
//! never contain the secret; a base32 error names the offending character and position.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::{Digest, Key, KeyInit};
use hmac::{Mac, SimpleHmac};
use zeroize::{Zeroize, Zeroizing};

use crate::encoding::percent_decode;
use crate::{Error, Result};

/// Default TOTP time step, in seconds.
const DEFAULT_PERIOD: u64 = 30;
/// Longest accepted time step: one day.
const MAX_PERIOD: u64 = 86_400;
/// Default code length.
const DEFAULT_DIGITS: u8 = 6;
/// Shortest accepted secret, in bytes.
const MIN_SECRET_BYTES: usize = 10;
/// Longest parameter value echoed back in an error message.
const MAX_ECHO: usize = 32;

/// The HMAC hash function of a one-time password.
///
/// ```
/// use sesame_core::totp::Algorithm;
/// assert_eq!(Algorithm::Sha256.to_string(), "SHA256");
/// assert_eq!("sha512".parse::<Algorithm>()?, Algorithm::Sha512);
/// assert!("MD5".parse::<Algorithm>().is_err());
/// # Ok::<(), sesame_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// HMAC-SHA-1, the default and by far the most common.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used in `otpauth://` URIs: `SHA1`, `SHA256` or `SHA512`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Parses `SHA1`, `SHA256` or `SHA512`, case-insensitively.
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            "SHA512" => Ok(Self::Sha512),
            _ => Err(Error::invalid_input(
                "totp.algorithm",
                format!("algorithm must be SHA1, SHA256 or SHA512, got {}", echo(s)),
            )),
        }
    }
}

/// A TOTP generator (RFC 6238). `Debug` never shows the secret.
///
/// ```
/// use sesame_core::totp::{Algorithm, Totp};
/// let totp = Totp::parse(
///     "otpauth://totp/ACME%20Co:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co&digits=8",
/// )?;
/// assert_eq!(totp.issuer(), Some("ACME Co"));
/// assert_eq!(totp.account_name(), Some("alice@example.com"));
/// assert_eq!((totp.algorithm(), totp.digits(), totp.period()), (Algorithm::Sha1, 8, 30));
/// // RFC 6238 Appendix B, SHA1 at T = 59.
/// let code = totp.code_at(59);
/// assert_eq!(code.code(), "94287082");
/// assert_eq!((code.valid_until(), code.expires_in_seconds()), (60, 1));
///
/// // A bare base32 secret gets the defaults: SHA1, 6 digits, 30 seconds.
/// let bare = Totp::parse("gezd gnbv gy3t qojq gezd gnbv gy3t qojq")?;
/// assert_eq!(bare.code_at(59).code(), "287082");
/// assert!(!format!("{bare:?}").contains("GEZD"));
/// # Ok::<(), sesame_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Totp {
    key: OtpKey,
    period: u64,
    issuer: Option<String>,
    account_name: Option<String>,
}

/// An HOTP generator (RFC 4226) read from an `otpauth://hotp/...` URI. `Debug` never
/// shows the secret.
///
/// ```
/// use sesame_core::totp::Hotp;
/// let hotp = Hotp::from_uri("otpauth://hotp/Example:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1")?;
/// assert_eq!(hotp.counter(), 1);
/// assert_eq!(hotp.code(hotp.counter()), "287082"); // RFC 4226 Appendix D
/// # Ok::<(), sesame_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Hotp {
    key: OtpKey,
    counter: u64,
    issuer: Option<String>,
    account_name: Option<String>,
}

/// A TOTP code and the time window in which it is valid. `Debug` never shows the code.
///
/// ```
/// let totp = sesame_core::totp::Totp::parse("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?;
/// let code = totp.code_at(1_111_111_109);
/// assert_eq!(code.code(), "081804");
/// assert_eq!(code.valid_from(), 1_111_111_080);
/// assert_eq!(code.valid_until(), 1_111_111_110);
/// assert_eq!(code.expires_in_seconds(), 1);
/// # Ok::<(), sesame_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TotpCode {
    #[cfg_attr(feature = "schema", schemars(extend("x-secret" = true)))]
    code: String,
    valid_from: u64,
    valid_until: u64,
    expires_in_seconds: u64,
}

impl TotpCode {
    /// The code, zero-padded to the configured number of digits.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Unix time (seconds) at which this code's time step began.
    pub fn valid_from(&self) -> u64 {
        self.valid_from
    }

    /// Unix time (seconds) at which this code stops being valid (the next step begins).
    pub fn valid_until(&self) -> u64 {
        self.valid_until
    }

    /// Seconds from the requested time until [`valid_until`](Self::valid_until).
    pub fn expires_in_seconds(&self) -> u64 {
        self.expires_in_seconds
    }
}

impl fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpCode")
            .field("code", &"[REDACTED]")
            .field("valid_from", &self.valid_from)
            .field("valid_until", &self.valid_until)
            .field("expires_in_seconds", &self.expires_in_seconds)
            .finish()
    }
}

impl Totp {
    /// Parses what a TOTP item field holds: an `otpauth://totp/...` URI or a bare base32
    /// secret (which gets SHA1, 6 digits and 30 seconds). Surrounding whitespace is
    /// ignored; input containing `://` is read as a URI.
    ///
    /// ```
    /// use sesame_core::totp::Totp;
    /// assert_eq!(Totp::parse("JBSWY3DPEHPK3PXP")?.digits(), 6);
    /// assert_eq!(Totp::parse("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=7")?.digits(), 7);
    /// let err = Totp::parse("JBSWY3DPEHPK3PX1").unwrap_err();
    /// assert!(err.to_string().contains("the character at position 16 is not base32"), "{err}");
    /// # Ok::<(), sesame_core::Error>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self> {
        let input = input.trim();
        // Any other URI is reported as a wrong URI, not as a secret with a bad ':'.
        if has_otpauth_scheme(input) || input.contains("://") {
            Self::from_uri(input)
        } else {
            Self::from_base32_secret(input)
        }
    }

    /// Reads an `otpauth://totp/LABEL?secret=...` URI.
    ///
    /// ```
    /// use sesame_core::totp::{Algorithm, Totp};
    /// let totp = Totp::from_uri("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA512&period=60")?;
    /// assert_eq!((totp.algorithm(), totp.period()), (Algorithm::Sha512, 60));
    /// assert_eq!(totp.issuer(), None);
    /// let err = Totp::from_uri("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&digits=9").unwrap_err();
    /// assert_eq!(err.to_string(), "invalid totp.digits: digits must be 6, 7 or 8, got 9");
    /// # Ok::<(), sesame_core::Error>(())
    /// ```
    pub fn from_uri(uri: &str) -> Result<Self> {
        let parsed = ParsedUri::parse(uri.trim())?;
        if parsed.kind != OtpKind::Totp {
            return Err(Error::invalid_input(
                "totp.uri",
                "this is an otpauth://hotp URI (counter-based codes); time-based codes need \
                 an otpauth://totp/... URI or a base32 secret (the Rust SDK reads HOTP URIs \
                 with totp::Hotp::from_uri)",
            ));
        }
        if parsed.counter.is_some() {
            return Err(Error::invalid_input(
                "totp.uri",
                "parameter 'counter' applies only to otpauth://hotp URIs; remove it or \
                 use an HOTP URI",
            ));
        }
        Ok(Self {
            key: parsed.key,
            period: parsed.period.unwrap_or(DEFAULT_PERIOD),
            issuer: parsed.issuer,
            account_name: parsed.account_name,
        })
    }

    /// A TOTP from a bare base32 secret with the defaults: SHA1, 6 digits, 30 seconds.
    ///
    /// ```
    /// use sesame_core::totp::Totp;
    /// let totp = Totp::from_base32_secret("jbsw y3dp ehpk 3pxp====")?;
    /// assert_eq!(totp.period(), 30);
    /// assert!(Totp::from_base32_secret("").is_err());
    /// # Ok::<(), sesame_core::Error>(())
    /// ```
    pub fn from_base32_secret(secret: &str) -> Result<Self> {
        Ok(Self {
            key: OtpKey {
                secret: decode_secret(secret)?,
                algorithm: Algorithm::Sha1,
                digits: DEFAULT_DIGITS,
            },
            period: DEFAULT_PERIOD,
            issuer: None,
            account_name: None,
        })
    }

    /// The code for the given Unix time in seconds.
    pub fn code_at(&self, unix_seconds: u64) -> TotpCode {
        let step = unix_seconds / self.period;
        let valid_from = step.saturating_mul(self.period);
        let valid_until = valid_from.saturating_add(self.period);
        TotpCode {
            code: self.key.code(step),
            valid_from,
            valid_until,
            expires_in_seconds: valid_until - unix_seconds,
        }
    }

    /// The code for the current system time.
    ///
    /// ```
    /// let totp = sesame_core::totp::Totp::parse("JBSWY3DPEHPK3PXP")?;
    /// let code = totp.now()?;
    /// assert_eq!(code.code().len(), 6);
    /// assert!((1..=30).contains(&code.expires_in_seconds()));
    /// # Ok::<(), sesame_core::Error>(())
    /// ```
    pub fn now(&self) -> Result<TotpCode> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|_| {
            Error::invalid_input(
                "totp.time",
                "the system clock is set before 1970-01-01; TOTP codes need the correct time",
            )
        })?;
        Ok(self.code_at(now.as_secs()))
    }

    /// The issuer (service name), from the `issuer` parameter or the label prefix.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The account name: the label after the issuer prefix.
    pub fn account_name(&self) -> Option<&str> {
        self.account_name.as_deref()
    }

    /// The HMAC hash function.
    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm
    }

    /// The number of digits of each code: 6, 7 or 8.
    pub fn digits(&self) -> u8 {
        self.key.digits
    }

    /// The time step in seconds.
    pub fn period(&self) -> u64 {
        self.period
    }
}

impl FromStr for Totp {
    type Err = Error;

    /// Same as [`Totp::parse`].
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Totp")
            .field("secret", &"[REDACTED]")
            .field("issuer", &self.issuer)
            .field("account_name", &self.account_name)
            .field("algorithm", &self.key.algorithm)
            .field("digits", &self.key.digits)
            .field("period", &self.period)
            .finish()
    }
}

impl Hotp {
    /// Reads an `otpauth://hotp/LABEL?secret=...&counter=N` URI (`counter` required).
    ///
    /// ```
    /// use sesame_core::totp::Hotp;
    /// let err = Hotp::from_uri("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP").unwrap_err();
    /// assert!(err.to_string().starts_with("invalid totp.counter:"), "{err}");
    /// ```
    pub fn from_uri(uri: &str) -> Result<Self> {
        let parsed = ParsedUri::parse(uri.trim())?;
        if parsed.kind != OtpKind::Hotp {
            return Err(Error::invalid_input(
                "totp.uri",
                "this is an otpauth://totp URI (time-based codes); read it with Totp::from_uri",
            ));
        }
        if parsed.period.is_some() {
            return Err(Error::invalid_input(
                "totp.uri",
                "parameter 'period' applies only to otpauth://totp URIs; remove it or use a \
                 TOTP URI",
            ));
        }
        let counter = parsed.counter.ok_or_else(|| {
            Error::invalid_input(
                "totp.counter",
                "an otpauth://hotp URI needs a counter parameter, e.g. &counter=0",
            )
        })?;
        Ok(Self {
            key: parsed.key,
            counter,
            issuer: parsed.issuer,
            account_name: parsed.account_name,
        })
    }

    /// The code for `counter`.
    pub fn code(&self, counter: u64) -> String {
        self.key.code(counter)
    }

    /// The counter the URI carried: the next one to use.
    pub fn counter(&self) -> u64 {
        self.counter
    }

    /// The issuer (service name), from the `issuer` parameter or the label prefix.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The account name: the label after the issuer prefix.
    pub fn account_name(&self) -> Option<&str> {
        self.account_name.as_deref()
    }

    /// The HMAC hash function.
    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm
    }

    /// The number of digits of each code: 6, 7 or 8.
    pub fn digits(&self) -> u8 {
        self.key.digits
    }
}

impl fmt::Debug for Hotp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hotp")
            .field("secret", &"[REDACTED]")
            .field("issuer", &self.issuer)
            .field("account_name", &self.account_name)
            .field("algorithm", &self.key.algorithm)
            .field("digits", &self.key.digits)
            .field("counter", &self.counter)
            .finish()
    }
}

/// The secret and the code shape shared by TOTP and HOTP.
#[derive(Clone)]
struct OtpKey {
    secret: Zeroizing<Vec<u8>>,
    algorithm: Algorithm,
    digits: u8,
}

impl OtpKey {
    /// RFC 4226 section 5.3: HMAC of the big-endian counter, dynamic truncation, modulo.
    fn code(&self, counter: u64) -> String {
        let mut tag = [0u8; 64];
        let len = match self.algorithm {
            Algorithm::Sha1 => hmac::<sha1::Sha1>(&self.secret, counter, &mut tag),
            Algorithm::Sha256 => hmac::<sha2::Sha256>(&self.secret, counter, &mut tag),
            Algorithm::Sha512 => hmac::<sha2::Sha512>(&self.secret, counter, &mut tag),
        };
        let offset = usize::from(tag[len - 1] & 0x0f);
        let binary = u32::from_be_bytes([
            tag[offset] & 0x7f,
            tag[offset + 1],
            tag[offset + 2],
            tag[offset + 3],
        ]);
        tag.zeroize();
        let digits = usize::from(self.digits);
        let value = binary % 10u32.pow(u32::from(self.digits));
        format!("{value:0digits$}")
    }
}

/// HMAC-`D` of the counter under `key`, written to `out`; returns the tag length.
///
/// The key is brought to block size the way HMAC defines it (hashed when longer, zero
/// padded) so that the infallible `KeyInit::new` applies: no error path for a case
/// that cannot happen.
fn hmac<D>(key: &[u8], counter: u64, out: &mut [u8; 64]) -> usize
where
    D: Digest + BlockSizeUser,
{
    let mut block = Key::<SimpleHmac<D>>::default();
    if key.len() > block.len() {
        let hashed = D::digest(key);
        block[..hashed.len()].copy_from_slice(&hashed);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut mac = <SimpleHmac<D> as KeyInit>::new(&block);
    block.as_mut_slice().zeroize();
    Mac::update(&mut mac, &counter.to_be_bytes());
    let tag = mac.finalize().into_bytes();
    out[..tag.len()].copy_from_slice(&tag);
    tag.len()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OtpKind {
    Totp,
    Hotp,
}

/// Everything an `otpauth://` URI says, validated.
struct ParsedUri {
    kind: OtpKind,
    key: OtpKey,
    issuer: Option<String>,
    account_name: Option<String>,
    period: Option<u64>,
    counter: Option<u64>,
}

const SCHEME: &str = "otpauth://";

fn has_otpauth_scheme(s: &str) -> bool {
    s.get(..SCHEME.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(SCHEME))
        || s.get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("otpauth:"))
}

impl ParsedUri {
    fn parse(uri: &str) -> Result<Self> {
        let uri_error = |message: String| Error::invalid_input("totp.uri", message);
        let rest =
            match uri.get(..SCHEME.len()) {
                Some(scheme) if scheme.eq_ignore_ascii_case(SCHEME) => &uri[SCHEME.len()..],
                _ => return Err(uri_error(
                    "must start with otpauth:// (e.g. otpauth://totp/Issuer:account?secret=...)"
                        .into(),
                )),
            };
        let (kind, rest) = rest.split_once('/').ok_or_else(|| {
            uri_error(
                "expected otpauth://totp/LABEL?secret=... but there is no '/' after the type"
                    .into(),
            )
        })?;
        let kind = if kind.eq_ignore_ascii_case("totp") {
            OtpKind::Totp
        } else if kind.eq_ignore_ascii_case("hotp") {
            OtpKind::Hotp
        } else {
            return Err(uri_error(format!(
                "type must be totp or hotp, got {}",
                echo(kind)
            )));
        };
        let (label, query) = rest.split_once('?').ok_or_else(|| {
            uri_error("the URI has no parameters; it needs at least ?secret=BASE32SECRET".into())
        })?;
        let (label_issuer, account_name) = parse_label(label)?;

        let mut params = Params::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(name, true, "totp.uri")?.to_ascii_lowercase();
            let slot = match name.as_str() {
                "secret" => &mut params.secret,
                "issuer" => &mut params.issuer,
                "algorithm" => &mut params.algorithm,
                "digits" => &mut params.digits,
                "period" => &mut params.period,
                "counter" => &mut params.counter,
                "encoder" => {
                    return Err(uri_error(
                        "parameter 'encoder' is not supported: only standard RFC 4226/6238 \
                         numeric codes can be generated (not Steam Guard or other encodings)"
                            .into(),
                    ))
                }
                _ => continue,
            };
            if slot.is_some() {
                return Err(uri_error(format!(
                    "parameter '{name}' appears more than once; keep only one"
                )));
            }
            let what = if name == "secret" {
                "totp.secret"
            } else {
                "totp.uri"
            };
            *slot = Some(percent_decode(value, true, what)?);
        }

        let secret = params.secret.as_ref().ok_or_else(|| {
            uri_error("missing the secret parameter, e.g. ?secret=JBSWY3DPEHPK3PXP".into())
        })?;
        let key = OtpKey {
            secret: decode_secret(secret)?,
            algorithm: match &params.algorithm {
                Some(a) => a.parse()?,
                None => Algorithm::Sha1,
            },
            digits: match &params.digits {
                Some(d) => parse_digits(d)?,
                None => DEFAULT_DIGITS,
            },
        };
        let period = params
            .period
            .as_deref()
            .map(|p| parse_period(p))
            .transpose()?;
        let counter = params
            .counter
            .as_deref()
            .map(|c| parse_counter(c))
            .transpose()?;
        let issuer = params
            .issuer
            .as_ref()
            .map(|i| i.trim().to_owned())
            .filter(|i| !i.is_empty())
            .or(label_issuer);
        Ok(Self {
            kind,
            key,
            issuer,
            account_name,
            period,
            counter,
        })
    }
}

/// The recognised parameters, each at most once. Values stay zeroizing because one of
/// them is the secret.
#[derive(Default)]
struct Params {
    secret: Option<Zeroizing<String>>,
    issuer: Option<Zeroizing<String>>,
    algorithm: Option<Zeroizing<String>>,
    digits: Option<Zeroizing<String>>,
    period: Option<Zeroizing<String>>,
    counter: Option<Zeroizing<String>>,
}

/// Splits `Issuer:account` (the issuer part is optional); empty parts become `None`.
fn parse_label(label: &str) -> Result<(Option<String>, Option<String>)> {
    let label = percent_decode(label, false, "totp.uri")?;
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(match label.split_once(':') {
        Some((issuer, account)) => (non_empty(issuer), non_empty(account)),
        None => (None, non_empty(&label)),
    })
}

fn parse_digits(value: &str) -> Result<u8> {
    match value.trim() {
        "6" => Ok(6),
        "7" => Ok(7),
        "8" => Ok(8),
        other => Err(Error::invalid_input(
            "totp.digits",
            format!("digits must be 6, 7 or 8, got {}", echo(other)),
        )),
    }
}

fn parse_period(value: &str) -> Result<u64> {
    match value.trim().parse::<u64>() {
        Ok(p) if (1..=MAX_PERIOD).contains(&p) => Ok(p),
        _ => Err(Error::invalid_input(
            "totp.period",
            format!(
                "period must be a whole number of seconds from 1 to {MAX_PERIOD}, got {}",
                echo(value)
            ),
        )),
    }
}

fn parse_counter(value: &str) -> Result<u64> {
    value.trim().parse::<u64>().map_err(|_| {
        Error::invalid_input(
            "totp.counter",
            format!(
                "counter must be a whole number from 0 to {}, got {}",
                u64::MAX,
                echo(value)
            ),
        )
    })
}

/// A non-secret value quoted for an error message, shortened if long.
fn echo(value: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        return "nothing".to_owned();
    }
    let mut shown: String = value
        .chars()
        .take(MAX_ECHO)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if value.chars().count() > MAX_ECHO {
        shown.push('…');
    }
    shown
}

/// Base32 secret → bytes. Case-insensitive; whitespace ignored; trailing `=` optional.
fn decode_secret(input: &str) -> Result<Zeroizing<Vec<u8>>> {
    let secret_error = |message: String| Error::invalid_input("totp.secret", message);
    let mut bits: u64 = 0;
    let mut bit_count = 0u32;
    let mut symbols = 0usize;
    let mut padding = false;
    let mut out = Zeroizing::new(Vec::with_capacity(input.len() * 5 / 8 + 1));
    for (index, c) in input.chars().enumerate() {
        let position = index + 1;
        if c.is_whitespace() {
            continue;
        }
        if c == '=' {
            padding = true;
            continue;
        }
        if padding {
            bits.zeroize();
            return Err(secret_error(format!(
                "the character at position {position} follows '=' padding; padding may \
                 only appear at the end"
            )));
        }
        let value = match c {
            'A'..='Z' => c as u64 - 'A' as u64,
            'a'..='z' => c as u64 - 'a' as u64,
            '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => {
                bits.zeroize();
                let hint = match c {
                    '0' | '1' | '8' | '9' => {
                        " (base32 has no 0, 1, 8 or 9: 0 is probably O, 1 is I or L, 8 is B)"
                    }
                    _ => "",
                };
                return Err(secret_error(format!(
                    "the character at position {position} is not base32 (A–Z, 2–7){hint}"
                )));
            }
        };
        symbols += 1;
        bits = (bits << 5) | value;
        bit_count += 5;
        if bit_count >= 8 {
            bit_count -= 8;
            out.push((bits >> bit_count) as u8);
            bits &= (1 << bit_count) - 1;
        }
    }
    bits.zeroize();
    if symbols == 0 {
        return Err(secret_error(
            "the secret is empty; expected base32 characters (A–Z, 2–7)".into(),
        ));
    }
    if matches!(symbols % 8, 1 | 3 | 6) {
        return Err(secret_error(format!(
            "{symbols} base32 characters cannot encode whole bytes (a length of 1, 3 or 6 \
             past a multiple of 8 is impossible); a character is probably missing or extra"
        )));
    }
    if out.len() < MIN_SECRET_BYTES {
        return Err(secret_error(format!(
            "the secret is {} bits ({symbols} base32 characters); at least {} bits ({} \
             characters) are required",
            out.len() * 8,
            MIN_SECRET_BYTES * 8,
            MIN_SECRET_BYTES * 8 / 5
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_keys_are_hashed_like_hmac_new_from_slice() {
        for len in [0usize, 1, 20, 63, 64, 65, 127, 128, 129, 300] {
            let key: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut out = [0u8; 64];
            let n = hmac::<sha1::Sha1>(&key, 7, &mut out);
            let mut reference = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&key).unwrap();
            Mac::update(&mut reference, &7u64.to_be_bytes());
            assert_eq!(&out[..n], reference.finalize().into_bytes().as_slice());
            let n = hmac::<sha2::Sha512>(&key, 7, &mut out);
            let mut reference =
                <hmac::Hmac<sha2::Sha512> as KeyInit>::new_from_slice(&key).unwrap();
            Mac::update(&mut reference, &7u64.to_be_bytes());
            assert_eq!(&out[..n], reference.finalize().into_bytes().as_slice());
        }
    }

    #[test]
    fn scheme_detection() {
        assert!(has_otpauth_scheme("OTPAUTH://totp/x"));
        assert!(has_otpauth_scheme("otpauth:totp"));
        assert!(!has_otpauth_scheme("JBSWY3DPEHPK3PXP"));
        assert!(!has_otpauth_scheme("otp"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("a%20b+c%3A", true, "x").unwrap().as_str(),
            "a b c:"
        );
        assert_eq!(percent_decode("a+b", false, "x").unwrap().as_str(), "a+b");
        assert_eq!(percent_decode("%C3%A9", false, "x").unwrap().as_str(), "é");
        for bad in ["%", "%4", "%zz", "ab%g0"] {
            assert!(percent_decode(bad, true, "x").is_err(), "{bad}");
        }
        assert!(percent_decode("%ff", true, "x").is_err());
    }

    #[test]
    fn echo_shortens_and_neutralises() {
        assert_eq!(echo("MD5"), "MD5");
        assert_eq!(echo(""), "nothing");
        assert!(echo(&"9".repeat(100)).chars().count() <= MAX_ECHO + 2);
    }

    #[test]
    fn debug_is_redacted() {
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let totp = Totp::parse(&format!("otpauth://totp/I:a?secret={secret}")).unwrap();
        let hotp =
            Hotp::from_uri(&format!("otpauth://hotp/I:a?secret={secret}&counter=0")).unwrap();
        let code = totp.code_at(59);
        for debug in [
            format!("{totp:?}"),
            format!("{hotp:?}"),
            format!("{code:?}"),
        ] {
            assert!(debug.contains("REDACTED"), "{debug}");
            assert!(
                !debug.contains(secret) && !debug.contains("GEZD"),
                "{debug}"
            );
            assert!(!debug.contains(code.code()), "{debug}");
            assert!(!debug.contains("12345678"), "{debug}");
        }
        assert!(format!("{totp:?}").contains("period: 30"));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let totp = Totp::parse("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=86400").unwrap();
        let code = totp.code_at(u64::MAX);
        assert_eq!(code.code().len(), 6);
        assert_eq!(code.valid_until(), u64::MAX);
        assert!(code.valid_from() > u64::MAX - 86_400);
        let code = totp.code_at(0);
        assert_eq!((code.valid_from(), code.valid_until()), (0, 86_400));
        assert_eq!(code.expires_in_seconds(), 86_400);
    }

    #[test]
    fn trailing_bits_of_the_last_character_are_ignored() {
        // 26 characters = 130 bits: 16 bytes plus 2 leftover bits, here non-zero ('7').
        let a = decode_secret("JBSWY3DPEHPK3PXPJBSWY3DPE7").unwrap();
        let b = decode_secret("JBSWY3DPEHPK3PXPJBSWY3DPE4").unwrap();
        assert_eq!(a.len(), 16);
        assert_eq!(a, b);
    }

    #[test]
    fn codes_keep_leading_zeros_for_every_length() {
        for digits in [6u8, 7, 8] {
            let key = OtpKey {
                secret: Zeroizing::new(b"12345678901234567890".to_vec()),
                algorithm: Algorithm::Sha1,
                digits,
            };
            for counter in 0..2000 {
                assert_eq!(key.code(counter).len(), usize::from(digits));
            }
        }
    }

    proptest! {
        #[test]
        fn decoder_agrees_with_data_encoding(bytes in proptest::collection::vec(any::<u8>(), 10..80)) {
            let encoded = data_encoding::BASE32.encode(&bytes);
            let decoded = decode_secret(&encoded).unwrap();
            prop_assert_eq!(decoded.as_slice(), bytes.as_slice());
            let unpadded = data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase();
            let decoded = decode_secret(&unpadded).unwrap();
            prop_assert_eq!(decoded.as_slice(), bytes.as_slice());
        }
    }
}
