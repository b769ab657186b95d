//! Identifiers of accounts, principals, vaults, items and files.
//!
//! An id is 26 lowercase base32 characters (`^[a-z0-9]{26}$`), the same shape as a
//! 1Password id, so ids can stand in any secret reference segment. New ids carry 130
//! bits from the operating system's CSPRNG: unguessable and collision-free in practice.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// Length of every id, in characters.
pub const ID_LEN: usize = 26;

/// RFC 4648 base32 in lowercase: every character is in `[a-z0-9]`.
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A validated 26-character identifier.
///
/// ```
/// use sesame_core::id::Id;
/// let id = Id::generate();
/// assert_eq!(id.as_str().len(), 26);
/// assert_eq!(id.as_str().parse::<Id>()?, id);
/// assert!("not-an-id".parse::<Id>().is_err());
/// # Ok::<(), sesame_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id([u8; ID_LEN]);

impl Id {
    /// A fresh random id from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut random = [0u8; ID_LEN];
        rand::rngs::OsRng.fill_bytes(&mut random);
        // 256 is a multiple of 32, so masking to 5 bits keeps every character uniform.
        Self(random.map(|b| ALPHABET[usize::from(b & 0x1f)]))
    }

    /// The id whose characters are the base32 digits `digits` (each taken mod 32).
    pub(crate) fn from_base32_digits(digits: [u8; ID_LEN]) -> Self {
        Self(digits.map(|d| ALPHABET[usize::from(d & 0x1f)]))
    }

    /// Whether `s` has the shape of an id (26 characters of `[a-z0-9]`).
    ///
    /// ```
    /// assert!(sesame_core::id::Id::is_valid("abcdefghijklmnopqrstuvwxyz"));
    /// assert!(!sesame_core::id::Id::is_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    /// ```
    pub fn is_valid(s: &str) -> bool {
        s.len() == ID_LEN
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored (see `generate` and `from_str`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for Id {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if !Self::is_valid(s) {
            return Err(Error::invalid_input(
                "id",
                format!(
                    "expected {ID_LEN} lowercase letters or digits, got {} characters{}",
                    s.chars().count(),
                    if s.len() == ID_LEN {
                        " with a character outside [a-z0-9]"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let mut bytes = [0u8; ID_LEN];
        bytes.copy_from_slice(s.as_bytes());
        Ok(Self(bytes))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.as_str())
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A string of [`ID_LEN`] lowercase letters or digits, as `Deserialize` accepts.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Id {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Id".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::Id").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An identifier: 26 lowercase letters or digits.",
            "type": "string",
            "minLength": ID_LEN,
            "maxLength": ID_LEN,
            "pattern": "^[a-z0-9]{26}$",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let ids: std::collections::HashSet<Id> = (0..1000).map(|_| Id::generate()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| Id::is_valid(id.as_str())));
    }

    #[test]
    fn every_alphabet_character_appears() {
        let mut seen = [false; 256];
        for _ in 0..200 {
            for b in Id::generate().0 {
                seen[usize::from(b)] = true;
            }
        }
        assert!(ALPHABET.iter().all(|&b| seen[usize::from(b)]));
    }

    #[test]
    fn rejects_malformed_ids_with_reason() {
        let err = "abc".parse::<Id>().unwrap_err();
        assert!(err.to_string().contains("got 3 characters"), "{err}");
        let err = "abcdefghijklmnopqrstuvwxyZ".parse::<Id>().unwrap_err();
        assert!(err.to_string().contains("outside [a-z0-9]"), "{err}");
        assert!("abcdefghijklmnopqrstuvwxy-".parse::<Id>().is_err());
        assert!("abcdefghijklmnopqrstuvwxyé".parse::<Id>().is_err());
    }

    #[test]
    fn serde_round_trip_validates() {
        let id = Id::generate();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<Id>(&json).unwrap(), id);
        assert!(serde_json::from_str::<Id>("\"short\"").is_err());
    }
}
