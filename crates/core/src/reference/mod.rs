//! Secret references: `op://<vault>/<item>/[<section>/]<field>[?<key>=<value>]`.
//!
//! A reference names a secret by the vault, item, optional section and field (or file)
//! that hold it, each by name or by id. This module parses and validates the syntax
//! offline; resolving a reference against a server happens elsewhere.
//!
//! The grammar, compatible with the 1Password SDK validator:
//!
//! - the scheme is exactly `op://` (lowercase);
//! - three or four `/`-separated segments: vault, item, optional section, field;
//! - a name holds letters and digits of any script, spaces, `-`, `_` and `.`; a name
//!   with any other character (`/`, `?`, `=`, `%`, …) is referenced by its id;
//! - a segment is never empty and never starts or ends with a space (the 1Password
//!   validator lets some of these through; they never resolve to what was meant);
//! - at most one query parameter, keys and values case-sensitive:
//!   `attribute` (alias `attr`) = `otp` | `totp` | `type` | `value` | `id` | `purpose` |
//!   `content` | `name` | `size`, or `ssh-format=openssh`. The query starts at the first
//!   `?` after the last `/`; a `?` before that is an invalid character in a name.
//!
//! Errors are reported in a fixed order so every binding agrees: scheme, number of
//! segments, each segment left to right, then the query.
//!
//! ```
//! use sesame_core::reference::{validate, Attribute, ReferenceQuery, SecretReference};
//!
//! validate("op://Infra/Postgres/password")?;
//! let reference: SecretReference = "op://Infra/GitHub/Security/one-time password?attr=totp".parse()?;
//! assert_eq!(reference.section(), Some("Security"));
//! assert_eq!(reference.query(), Some(&ReferenceQuery::Attribute(Attribute::Totp)));
//! assert_eq!(
//!     reference.to_string(),
//!     "op://Infra/GitHub/Security/one-time password?attribute=totp"
//! );
//! # Ok::<(), sesame_core::Error>(())
//! ```

mod error;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use self::error::{excerpt, Detail};
pub use self::error::{ReferenceError, ReferenceErrorKind, Segment};

/// The only accepted scheme.
const SCHEME: &str = "op://";

/// Whether a vault, item, section, field or file `name` answers to `segment`: the one
/// name rule of references, lookups and the command line. Equal after Unicode lowercase
/// folding (`"Ärger"` and `"äRGER"` match; `"STRASSE"` and `"straße"` do not, as their
/// lowercase forms differ). An id matches only itself, exactly.
///
/// ```
/// use sesame_core::reference::name_matches;
/// assert!(name_matches("Ünïcode Dätabase", "ünïcode dätabase"));
/// assert!(!name_matches("STRASSE", "straße"));
/// ```
pub fn name_matches(name: &str, segment: &str) -> bool {
    name.eq_ignore_ascii_case(segment)
        || (!name.is_ascii() || !segment.is_ascii())
            && name.to_lowercase() == segment.to_lowercase()
}

/// Checks that `reference` is a well-formed secret reference, without allocating.
///
/// ```
/// use sesame_core::reference::{validate, ReferenceErrorKind};
/// assert!(validate("op://Infra/Postgres/password").is_ok());
/// assert!(validate("op://Infra/Postgres/ssh key/private key?ssh-format=openssh").is_ok());
/// let err = validate("op://Infra/Postgres").unwrap_err();
/// assert_eq!(err.kind(), ReferenceErrorKind::TooFewSegments);
/// ```
pub fn validate(reference: &str) -> Result<(), ReferenceError> {
    split(reference).map(|_| ())
}

/// A parsed, valid secret reference.
///
/// Equality is exact (case-sensitive), although a server matches names
/// case-insensitively. [`Display`](fmt::Display) gives the canonical form, which
/// spells the `attr` alias as `attribute`; it serializes as that string.
///
/// ```
/// use sesame_core::reference::SecretReference;
/// let reference = SecretReference::parse("op://Infra/Postgres/password")?;
/// assert_eq!(reference.vault(), "Infra");
/// assert_eq!(reference.item(), "Postgres");
/// assert_eq!(reference.section(), None);
/// assert_eq!(reference.field(), "password");
/// assert_eq!(reference.query(), None);
/// # Ok::<(), sesame_core::reference::ReferenceError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretReference {
    /// `vault/item[/section]/field`, without scheme or query.
    path: Box<str>,
    vault_end: usize,
    item_end: usize,
    section_end: Option<usize>,
    query: Option<ReferenceQuery>,
}

impl SecretReference {
    /// Parses and validates `reference`.
    ///
    /// ```
    /// use sesame_core::reference::{SecretReference, Segment};
    /// let err = SecretReference::parse("op://Infra/ Postgres/password").unwrap_err();
    /// assert_eq!((err.offset(), err.segment()), (11, Segment::Item));
    /// ```
    pub fn parse(reference: &str) -> Result<Self, ReferenceError> {
        let parts = split(reference)?;
        let vault_end = parts.vault.len();
        let item_end = vault_end + 1 + parts.item.len();
        Ok(Self {
            path: parts.path.into(),
            vault_end,
            item_end,
            section_end: parts.section.map(|s| item_end + 1 + s.len()),
            query: parts.query,
        })
    }

    /// Builds the canonical reference to a field, choosing for each part its name when
    /// the name can be written in a reference and its id otherwise.
    ///
    /// A name can be written when it is non-empty, has no leading or trailing space and
    /// holds only letters, digits, spaces, `-`, `_` and `.`. Pass an empty name to force
    /// the id (for example when several items share the name). Fails with
    /// [`ReferenceErrorKind::InexpressibleName`] when neither can be written.
    ///
    /// ```
    /// use sesame_core::reference::{Attribute, ReferencePart, ReferenceQuery, SecretReference};
    /// let reference = SecretReference::canonical(
    ///     ReferencePart::new("k3kyqkdvuq4sfhpa7cqbyc2vhq", "Infra"),
    ///     ReferencePart::new("xfmsqhnjnr7xklnlbcjkbpuzuu", "GitHub / work"),
    ///     None,
    ///     ReferencePart::new("totp_field", "one-time password"),
    ///     Some(ReferenceQuery::Attribute(Attribute::Otp)),
    /// )?;
    /// assert_eq!(
    ///     reference.to_string(),
    ///     "op://Infra/xfmsqhnjnr7xklnlbcjkbpuzuu/one-time password?attribute=otp"
    /// );
    /// # Ok::<(), sesame_core::Error>(())
    /// ```
    pub fn canonical(
        vault: ReferencePart<'_>,
        item: ReferencePart<'_>,
        section: Option<ReferencePart<'_>>,
        field: ReferencePart<'_>,
        query: Option<ReferenceQuery>,
    ) -> Result<Self, ReferenceError> {
        let vault = vault.choose(Segment::Vault)?;
        let item = item.choose(Segment::Item)?;
        let section = section.map(|s| s.choose(Segment::Section)).transpose()?;
        let field = field.choose(Segment::Field)?;

        let len = vault.len() + item.len() + section.map_or(0, |s| s.len() + 1) + field.len() + 2;
        let mut path = String::with_capacity(len);
        path.push_str(vault);
        path.push('/');
        path.push_str(item);
        let item_end = path.len();
        let section_end = section.map(|s| {
            path.push('/');
            path.push_str(s);
            path.len()
        });
        path.push('/');
        path.push_str(field);
        Ok(Self {
            path: path.into_boxed_str(),
            vault_end: vault.len(),
            item_end,
            section_end,
            query,
        })
    }

    /// The vault name or id.
    pub fn vault(&self) -> &str {
        &self.path[..self.vault_end]
    }

    /// The item name or id.
    pub fn item(&self) -> &str {
        &self.path[self.vault_end + 1..self.item_end]
    }

    /// The section name or id, when the reference has four segments.
    pub fn section(&self) -> Option<&str> {
        self.section_end
            .map(|end| &self.path[self.item_end + 1..end])
    }

    /// The field or file name or id.
    pub fn field(&self) -> &str {
        &self.path[self.section_end.unwrap_or(self.item_end) + 1..]
    }

    /// The query parameter, if any.
    pub fn query(&self) -> Option<&ReferenceQuery> {
        self.query.as_ref()
    }
}

impl FromStr for SecretReference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, ReferenceError> {
        Self::parse(s)
    }
}

impl fmt::Display for SecretReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SCHEME)?;
        f.write_str(&self.path)?;
        match &self.query {
            Some(query) => write!(f, "?{query}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for SecretReference {
    // References hold names and ids, never secret values, so showing them is safe.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretReference({:?})", self.to_string())
    }
}

impl Serialize for SecretReference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SecretReference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A vault, item, section or field known by both id and name, for
/// [`SecretReference::canonical`].
///
/// ```
/// use sesame_core::reference::ReferencePart;
/// let vault = ReferencePart::new("k3kyqkdvuq4sfhpa7cqbyc2vhq", "Infra");
/// assert_eq!(vault.name, "Infra");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferencePart<'a> {
    /// The id, used when the name cannot be written in a reference.
    pub id: &'a str,
    /// The name (title or label), preferred because people can read it.
    pub name: &'a str,
}

impl<'a> ReferencePart<'a> {
    /// A part with this id and name.
    pub const fn new(id: &'a str, name: &'a str) -> Self {
        Self { id, name }
    }

    fn choose(self, segment: Segment) -> Result<&'a str, ReferenceError> {
        if check_name(self.name, 0, segment).is_ok() {
            Ok(self.name)
        } else if check_name(self.id, 0, segment).is_ok() {
            Ok(self.id)
        } else {
            let error = ReferenceError::new(ReferenceErrorKind::InexpressibleName, 0, segment);
            Err(if self.id.is_empty() {
                error
            } else {
                error.with(excerpt(self.id))
            })
        }
    }
}

/// The one query parameter a reference may carry.
///
/// ```
/// use sesame_core::reference::{ReferenceQuery, SshFormat};
/// let query = ReferenceQuery::SshFormat(SshFormat::OpenSsh);
/// assert_eq!((query.key(), query.value()), ("ssh-format", "openssh"));
/// assert_eq!(query.to_string(), "ssh-format=openssh");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferenceQuery {
    /// `attribute=<value>` (or the alias `attr=<value>`): a field or file attribute.
    Attribute(Attribute),
    /// `ssh-format=<value>`: the format of an SSH private key.
    SshFormat(SshFormat),
}

impl ReferenceQuery {
    /// The canonical key: `attribute` or `ssh-format`.
    pub const fn key(&self) -> &'static str {
        match self {
            Self::Attribute(_) => "attribute",
            Self::SshFormat(_) => "ssh-format",
        }
    }

    /// The value, as written in a reference.
    pub const fn value(&self) -> &'static str {
        match self {
            Self::Attribute(attribute) => attribute.as_str(),
            Self::SshFormat(format) => format.as_str(),
        }
    }
}

impl fmt::Display for ReferenceQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key(), self.value())
    }
}

/// A field or file attribute selected with `?attribute=`.
///
/// ```
/// use sesame_core::reference::Attribute;
/// assert_eq!(Attribute::Totp.as_str(), "totp");
/// assert_eq!(Attribute::ALL.len(), 9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute {
    /// The current one-time password of a one-time password field.
    Otp,
    /// Same as [`Attribute::Otp`]; the spelling the 1Password SDK examples use.
    Totp,
    /// The field type.
    Type,
    /// The field value (the default).
    Value,
    /// The field or file id.
    Id,
    /// The field purpose (username, password, notes).
    Purpose,
    /// The contents of a file.
    Content,
    /// The name of a file.
    Name,
    /// The size of a file, in bytes.
    Size,
}

impl Attribute {
    /// Every attribute, in declaration order.
    pub const ALL: [Attribute; 9] = [
        Self::Otp,
        Self::Totp,
        Self::Type,
        Self::Value,
        Self::Id,
        Self::Purpose,
        Self::Content,
        Self::Name,
        Self::Size,
    ];

    /// The attribute as written in a reference.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Otp => "otp",
            Self::Totp => "totp",
            Self::Type => "type",
            Self::Value => "value",
            Self::Id => "id",
            Self::Purpose => "purpose",
            Self::Content => "content",
            Self::Name => "name",
            Self::Size => "size",
        }
    }

    fn from_value(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// The format of an SSH private key, selected with `?ssh-format=`.
///
/// ```
/// assert_eq!(sesame_core::reference::SshFormat::OpenSsh.as_str(), "openssh");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SshFormat {
    /// The OpenSSH private key format.
    OpenSsh,
}

impl SshFormat {
    /// The format as written in a reference.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OpenSsh => "openssh",
        }
    }
}

/// A reference split into borrowed parts.
struct Parts<'a> {
    path: &'a str,
    vault: &'a str,
    item: &'a str,
    section: Option<&'a str>,
    query: Option<ReferenceQuery>,
}

/// Validates `input` and splits it; the one parser behind [`validate`] and
/// [`SecretReference::parse`]. Allocates only when it fails.
fn split(input: &str) -> Result<Parts<'_>, ReferenceError> {
    let Some(rest) = input.strip_prefix(SCHEME) else {
        let at = input
            .bytes()
            .zip(SCHEME.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(input.len());
        return Err(ReferenceError::new(
            ReferenceErrorKind::InvalidScheme,
            at,
            Segment::Scheme,
        ));
    };
    let base = SCHEME.len();

    // The query starts at the first `?` of the last segment, so a `?` inside an
    // earlier name is reported as a character that names cannot hold.
    let last_segment = rest.rfind('/').map_or(0, |i| i + 1);
    let path_len = rest[last_segment..]
        .find('?')
        .map_or(rest.len(), |i| last_segment + i);
    let path = &rest[..path_len];

    let mut slashes = [0usize; 3];
    let mut count = 0;
    for (i, byte) in path.bytes().enumerate() {
        if byte == b'/' {
            if count == slashes.len() {
                return Err(ReferenceError::new(
                    ReferenceErrorKind::TooManySegments,
                    base + i,
                    Segment::Field,
                ));
            }
            slashes[count] = i;
            count += 1;
        }
    }
    let (section_slash, field_slash) = match count {
        0 | 1 => {
            let missing = if count == 0 {
                Segment::Item
            } else {
                Segment::Field
            };
            return Err(ReferenceError::new(
                ReferenceErrorKind::TooFewSegments,
                base + path_len,
                missing,
            ));
        }
        2 => (None, slashes[1]),
        _ => (Some(slashes[1]), slashes[2]),
    };

    let vault = &path[..slashes[0]];
    check_name(vault, base, Segment::Vault)?;
    let item_end = section_slash.unwrap_or(field_slash);
    let item = &path[slashes[0] + 1..item_end];
    check_name(item, base + slashes[0] + 1, Segment::Item)?;
    let section = match section_slash {
        Some(start) => {
            let section = &path[start + 1..field_slash];
            check_name(section, base + start + 1, Segment::Section)?;
            Some(section)
        }
        None => None,
    };
    check_name(
        &path[field_slash + 1..],
        base + field_slash + 1,
        Segment::Field,
    )?;

    let query = match rest.get(path_len + 1..) {
        Some(query) => Some(parse_query(query, base + path_len)?),
        None => None,
    };
    Ok(Parts {
        path,
        vault,
        item,
        section,
        query,
    })
}

/// Whether an ASCII byte may appear in a name.
const fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b' ' | b'-' | b'_' | b'.')
}

/// Checks one name; `offset` is where it starts in the reference.
fn check_name(name: &str, offset: usize, segment: Segment) -> Result<(), ReferenceError> {
    let fail = |kind, at| ReferenceError::new(kind, offset + at, segment);
    if name.is_empty() {
        return Err(fail(ReferenceErrorKind::EmptySegment, 0));
    }
    if name.starts_with(' ') {
        return Err(fail(ReferenceErrorKind::SurroundingWhitespace, 0).with(Detail::Leading(true)));
    }
    for (at, c) in name.char_indices() {
        let allowed = match u8::try_from(c) {
            Ok(byte) if byte.is_ascii() => is_name_byte(byte),
            _ => c.is_alphanumeric(),
        };
        if !allowed {
            return Err(fail(ReferenceErrorKind::InvalidCharacter, at).with(Detail::Char(c)));
        }
    }
    let trimmed = name.trim_end_matches(' ').len();
    if trimmed < name.len() {
        return Err(
            fail(ReferenceErrorKind::SurroundingWhitespace, trimmed).with(Detail::Leading(false))
        );
    }
    Ok(())
}

/// Parses the text after the `?` at byte `question` of the reference.
fn parse_query(query: &str, question: usize) -> Result<ReferenceQuery, ReferenceError> {
    let start = question + 1;
    let fail = |kind, at| ReferenceError::new(kind, at, Segment::Query);
    if query.is_empty() {
        return Err(fail(ReferenceErrorKind::EmptyQuery, question));
    }
    let (param, second) = match query.find('&') {
        Some(i) => (&query[..i], Some(start + i)),
        None => (query, None),
    };
    let Some(eq) = param.find('=') else {
        let missing = if param.is_empty() { "key" } else { "`=`" };
        return Err(fail(ReferenceErrorKind::InvalidQuery, start).with(Detail::Missing(missing)));
    };
    let (key, value) = (&param[..eq], &param[eq + 1..]);
    let value_at = start + eq + 1;
    if key.is_empty() {
        return Err(fail(ReferenceErrorKind::InvalidQuery, start).with(Detail::Missing("key")));
    }
    let no_value =
        || fail(ReferenceErrorKind::InvalidQuery, value_at).with(Detail::Missing("value"));
    let parsed = match key {
        "attribute" | "attr" if value.is_empty() => return Err(no_value()),
        "attribute" | "attr" => Attribute::from_value(value)
            .map(ReferenceQuery::Attribute)
            .ok_or_else(|| {
                fail(ReferenceErrorKind::UnsupportedAttribute, value_at).with(excerpt(value))
            })?,
        "ssh-format" if value.is_empty() => return Err(no_value()),
        "ssh-format" if value == SshFormat::OpenSsh.as_str() => {
            ReferenceQuery::SshFormat(SshFormat::OpenSsh)
        }
        "ssh-format" => {
            return Err(
                fail(ReferenceErrorKind::UnsupportedSshFormat, value_at).with(excerpt(value))
            )
        }
        _ => return Err(fail(ReferenceErrorKind::UnknownQueryParameter, start).with(excerpt(key))),
    };
    match second {
        Some(at) => Err(fail(ReferenceErrorKind::MultipleQueryParameters, at)),
        None => Ok(parsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(input: &str) -> ReferenceError {
        validate(input).unwrap_err()
    }

    #[test]
    fn parses_every_part() {
        let r = SecretReference::parse("op://Vault A/Item.b/Sec_c/field-d?attr=otp").unwrap();
        assert_eq!(
            (r.vault(), r.item(), r.section(), r.field()),
            ("Vault A", "Item.b", Some("Sec_c"), "field-d")
        );
        assert_eq!(r.query(), Some(&ReferenceQuery::Attribute(Attribute::Otp)));
        assert_eq!(
            r.to_string(),
            "op://Vault A/Item.b/Sec_c/field-d?attribute=otp"
        );
    }

    #[test]
    fn kind_codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for kind in ReferenceErrorKind::ALL {
            assert!(seen.insert(kind.code()), "duplicate {kind}");
            assert!(kind
                .code()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }

    #[test]
    fn question_mark_in_an_earlier_name_is_a_character_error() {
        let err = error("op://v/wh?at/field");
        assert_eq!(err.kind(), ReferenceErrorKind::InvalidCharacter);
        assert_eq!((err.offset(), err.segment()), (9, Segment::Item));
        assert!(err.to_string().contains("'?'"), "{err}");
    }

    #[test]
    fn messages_name_the_place_and_the_remedy() {
        let err = error("op://Infra/Postgres/password?attribute=TOTP");
        assert_eq!(
            err.to_string(),
            "invalid secret reference: unsupported attribute `TOTP` at byte 39; supported \
             attributes are otp, totp, type, value, id, purpose, and for files content, name, \
             size; values are case-sensitive"
        );
        let err = error("op://Infra/Postgres/password ");
        assert_eq!(
            err.to_string(),
            "invalid secret reference: the field name ends with a space at byte 28; remove the \
             space; a name that really starts or ends with a space must be referenced by id"
        );
        let err = error("op://a/b/c/d/e");
        assert!(err
            .to_string()
            .contains("names with `/` must be referenced by id"));
    }

    #[test]
    fn long_keys_are_shortened_in_messages() {
        let key = "k".repeat(500);
        let err = error(&format!("op://v/i/f?{key}=x"));
        assert!(err.to_string().len() < 300, "{err}");
    }

    #[test]
    fn canonical_prefers_names_and_falls_back_to_ids() {
        let r = SecretReference::canonical(
            ReferencePart::new("vid", " padded"),
            ReferencePart::new("iid", "Ünïcode 名前"),
            Some(ReferencePart::new("sid", "")),
            ReferencePart::new("fid", "a/b"),
            None,
        )
        .unwrap();
        assert_eq!(r.to_string(), "op://vid/Ünïcode 名前/sid/fid");
        assert_eq!(SecretReference::parse(&r.to_string()).unwrap(), r);

        let err = SecretReference::canonical(
            ReferencePart::new("vid", "v"),
            ReferencePart::new("", "a?b"),
            None,
            ReferencePart::new("fid", "f"),
            None,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ReferenceErrorKind::InexpressibleName);
        assert_eq!(err.segment(), Segment::Item);
    }

    #[test]
    fn serde_round_trips_as_a_string() {
        let r = SecretReference::parse("op://v/i/f?attr=id").unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"op://v/i/f?attribute=id\"");
        assert_eq!(serde_json::from_str::<SecretReference>(&json).unwrap(), r);
        assert!(serde_json::from_str::<SecretReference>("\"op://v/i\"").is_err());
    }

    #[test]
    fn converts_into_the_crate_error() {
        let err: crate::Error = error("op:/v/i/f").into();
        assert_eq!(err.code(), crate::ErrorCode::InvalidReference);
        assert!(err.to_string().starts_with("invalid secret reference"));
    }
}
