//! The text encodings Sesame reads and writes in more than one place, written once:
//! unpadded base64url (tokens, keys, nonces, ciphertext on the wire), `%XX`
//! percent-decoding (`otpauth://` URIs, SMTP URLs) and durations such as `90d` or `12h`
//! (command-line flags, configuration).
//!
//! ```
//! use sesame_core::encoding;
//! assert_eq!(encoding::base64url_encode(b"\xfb\xff"), "-_8");
//! assert_eq!(encoding::base64url_decode("nonce", "-_8")?, b"\xfb\xff");
//! assert_eq!(*encoding::percent_decode("a%20b+c", true, "label")?, "a b c");
//! assert_eq!(encoding::parse_duration("12h")?, time::Duration::hours(12));
//! assert_eq!(encoding::duration_text(time::Duration::days(90)), "90d");
//! # Ok::<(), sesame_core::Error>(())
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// `bytes` as unpadded base64url (RFC 4648 §5).
pub fn base64url_encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url; `what` names the value in the error.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming `what` when `text` is not unpadded base64url.
pub fn base64url_decode(what: &str, text: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).map_err(|e| {
        Error::invalid_input(
            what,
            format!("is not unpadded base64url ({e}); use A-Z a-z 0-9 - _ and no '='"),
        )
    })
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in query values)
/// into a zeroizing string: the input may be a secret.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming `what` for a `%` not followed by two hex digits, or
/// bytes that are not UTF-8. The message never repeats the input.
pub fn percent_decode(input: &str, plus_is_space: bool, what: &str) -> Result<Zeroizing<String>> {
    let bytes = input.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16).ok()
                });
                let Some(byte) = hex else {
                    return Err(Error::invalid_input(
                        what,
                        format!(
                            "'%' at position {} is not followed by two hex digits; \
                             percent-encode it as %25",
                            i + 1
                        ),
                    ));
                };
                out.push(byte);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    match std::str::from_utf8(&out) {
        Ok(s) => Ok(Zeroizing::new(s.to_owned())),
        Err(_) => Err(Error::invalid_input(
            what,
            "percent-encoded bytes do not form valid UTF-8",
        )),
    }
}

/// Parses `90d`, `12h`, `30m` or `45s`: a whole number and one unit. A huge number
/// saturates rather than failing, so that the caller's range check names the limit.
///
/// # Errors
///
/// [`Error::InvalidInput`] (`duration`) for anything else.
pub fn parse_duration(text: &str) -> Result<time::Duration> {
    let not_one = || {
        Error::invalid_input(
            "duration",
            format!("{text:?} is not a duration such as 90d, 12h, 30m or 45s"),
        )
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(not_one)?;
    let (digits, unit) = trimmed.split_at(split);
    let seconds_per_unit: i64 = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(not_one()),
    };
    if digits.is_empty() {
        return Err(not_one());
    }
    let n: i64 = digits.parse().unwrap_or(i64::MAX);
    Ok(time::Duration::seconds(n.saturating_mul(seconds_per_unit)))
}

/// `d` in the largest unit that divides it: `3650d`, `12h`, `45s` (what
/// [`parse_duration`] reads back).
pub fn duration_text(d: time::Duration) -> String {
    let s = d.whole_seconds();
    match s {
        _ if s % 86_400 == 0 && s != 0 => format!("{}d", s / 86_400),
        _ if s % 3_600 == 0 && s != 0 => format!("{}h", s / 3_600),
        _ if s % 60 == 0 && s != 0 => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip_and_reject_other_shapes() {
        for text in ["90d", "12h", "30m", "45s", "0s"] {
            let d = parse_duration(text).unwrap_or(time::Duration::MIN);
            assert_eq!(duration_text(d), text);
        }
        for bad in ["", "h", "12", "1.5h", "12 h", "-1h", "1w"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("99999999999999999999d").is_ok());
    }

    #[test]
    fn percent_errors_name_the_position_not_the_value() {
        let err = percent_decode("secret%zz", false, "label").err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains("position 7") && !text.contains("secret"),
            "{text}"
        );
        assert!(percent_decode("%ff", false, "label").is_err());
        assert_eq!(
            percent_decode("a+b", false, "l")
                .ok()
                .as_deref()
                .map(|s| s.as_str()),
            Some("a+b")
        );
    }

    #[test]
    fn base64url_rejects_padding_and_standard_alphabet() {
        assert!(base64url_decode("key", "-_8=").is_err());
        assert!(base64url_decode("key", "+/8").is_err());
        assert_eq!(base64url_encode([0u8; 3]), "AAAA");
    }
}
