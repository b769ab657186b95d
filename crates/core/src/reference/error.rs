//! Why a secret reference was rejected: a stable kind, the byte offset and segment at
//! fault, and a hint that says what to write instead.

use std::fmt;

/// The part of a secret reference an error points at.
///
/// ```
/// use sesame_core::reference::{validate, Segment};
/// let err = validate("op://Infra//password").unwrap_err();
/// assert_eq!(err.segment(), Segment::Item);
/// assert_eq!(err.segment().as_str(), "item");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    /// The leading `op://`.
    Scheme,
    /// The vault name or id.
    Vault,
    /// The item name or id.
    Item,
    /// The optional section name or id.
    Section,
    /// The field or file name or id.
    Field,
    /// The `?key=value` query parameter.
    Query,
}

impl Segment {
    /// The segment as the lowercase string used in the shared vectors and by every binding.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Scheme => "scheme",
            Self::Vault => "vault",
            Self::Item => "item",
            Self::Section => "section",
            Self::Field => "field",
            Self::Query => "query",
        }
    }

    /// How messages name the segment ("the item name", "the query").
    const fn described(self) -> &'static str {
        match self {
            Self::Scheme => "the scheme",
            Self::Vault => "the vault name",
            Self::Item => "the item name",
            Self::Section => "the section name",
            Self::Field => "the field name",
            Self::Query => "the query",
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a secret reference. [`code`](Self::code) is a stable contract.
///
/// ```
/// use sesame_core::reference::{validate, ReferenceErrorKind};
/// let err = validate("OP://Infra/Postgres/password").unwrap_err();
/// assert_eq!(err.kind(), ReferenceErrorKind::InvalidScheme);
/// assert_eq!(err.kind().code(), "invalid_scheme");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReferenceErrorKind {
    /// The reference does not start with exactly `op://`.
    InvalidScheme,
    /// Fewer than three segments: the item or the field is missing.
    TooFewSegments,
    /// More than four segments.
    TooManySegments,
    /// A segment between two delimiters is empty.
    EmptySegment,
    /// A name starts or ends with a space.
    SurroundingWhitespace,
    /// A name contains a character outside letters, digits, space, `-`, `_` and `.`.
    InvalidCharacter,
    /// A `?` with nothing after it.
    EmptyQuery,
    /// A query parameter that is not `key=value` with a non-empty key and value.
    InvalidQuery,
    /// A query key other than `attribute`, `attr` and `ssh-format`.
    UnknownQueryParameter,
    /// An `attribute` value that is not supported.
    UnsupportedAttribute,
    /// An `ssh-format` value other than `openssh`.
    UnsupportedSshFormat,
    /// More than one query parameter (`&`).
    MultipleQueryParameters,
    /// The canonical builder was given a name and an id that both cannot be written.
    InexpressibleName,
}

impl ReferenceErrorKind {
    /// The kind as the lowercase snake-case code every binding exposes. Never renamed.
    pub const fn code(self) -> &'static str {
        match self {
            Self::InvalidScheme => "invalid_scheme",
            Self::TooFewSegments => "too_few_segments",
            Self::TooManySegments => "too_many_segments",
            Self::EmptySegment => "empty_segment",
            Self::SurroundingWhitespace => "surrounding_whitespace",
            Self::InvalidCharacter => "invalid_character",
            Self::EmptyQuery => "empty_query",
            Self::InvalidQuery => "invalid_query",
            Self::UnknownQueryParameter => "unknown_query_parameter",
            Self::UnsupportedAttribute => "unsupported_attribute",
            Self::UnsupportedSshFormat => "unsupported_ssh_format",
            Self::MultipleQueryParameters => "multiple_query_parameters",
            Self::InexpressibleName => "inexpressible_name",
        }
    }

    /// Every kind, in declaration order (for bindings that generate their error types).
    pub const ALL: [ReferenceErrorKind; 13] = [
        Self::InvalidScheme,
        Self::TooFewSegments,
        Self::TooManySegments,
        Self::EmptySegment,
        Self::SurroundingWhitespace,
        Self::InvalidCharacter,
        Self::EmptyQuery,
        Self::InvalidQuery,
        Self::UnknownQueryParameter,
        Self::UnsupportedAttribute,
        Self::UnsupportedSshFormat,
        Self::MultipleQueryParameters,
        Self::InexpressibleName,
    ];
}

impl fmt::Display for ReferenceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Specifics that make a message precise; only ever built on the error path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detail {
    None,
    /// The character that is not allowed.
    Char(char),
    /// The space is at the start of the name (otherwise at its end).
    Leading(bool),
    /// Which part of `key=value` is missing.
    Missing(&'static str),
    /// A short excerpt of the offending key or value (names and keys are not secret).
    Text(Box<str>),
}

/// Longest excerpt of a key, value or id quoted in a message.
const EXCERPT_CHARS: usize = 24;

pub(crate) fn excerpt(text: &str) -> Detail {
    let mut short: String = text.chars().take(EXCERPT_CHARS).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    Detail::Text(short.into_boxed_str())
}

/// A malformed secret reference: what is wrong ([`kind`](Self::kind)), where
/// ([`offset`](Self::offset), [`segment`](Self::segment)) and what to do
/// ([`hint`](Self::hint)).
///
/// ```
/// use sesame_core::reference::{validate, ReferenceErrorKind, Segment};
/// let err = validate("op://Infra/Post$gres/password").unwrap_err();
/// assert_eq!(err.kind(), ReferenceErrorKind::InvalidCharacter);
/// assert_eq!((err.offset(), err.segment()), (15, Segment::Item));
/// assert_eq!(
///     err.to_string(),
///     "invalid secret reference: character '$' at byte 15 in the item name is not allowed; \
///      names may contain only letters, digits, spaces, `-`, `_` and `.`; \
///      reference any other name by its id"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError {
    kind: ReferenceErrorKind,
    offset: usize,
    segment: Segment,
    detail: Detail,
}

impl ReferenceError {
    pub(crate) fn new(kind: ReferenceErrorKind, offset: usize, segment: Segment) -> Self {
        Self {
            kind,
            offset,
            segment,
            detail: Detail::None,
        }
    }

    pub(crate) fn with(mut self, detail: Detail) -> Self {
        self.detail = detail;
        self
    }

    /// What is wrong.
    pub fn kind(&self) -> ReferenceErrorKind {
        self.kind
    }

    /// The byte offset in the reference where the fault is. For
    /// [`InexpressibleName`](ReferenceErrorKind::InexpressibleName), raised by the
    /// builder where there is no reference text, it is 0.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The segment at fault.
    pub fn segment(&self) -> Segment {
        self.segment
    }

    /// What to do about it, for people.
    ///
    /// ```
    /// let err = sesame_core::reference::validate("op://a/b/c/d/e").unwrap_err();
    /// assert!(err.hint().contains("by id"));
    /// ```
    pub fn hint(&self) -> &'static str {
        match self.kind {
            ReferenceErrorKind::InvalidScheme => "write the scheme exactly as `op://`, in lowercase",
            ReferenceErrorKind::TooFewSegments => {
                "a reference is `op://<vault>/<item>/[<section>/]<field>`"
            }
            ReferenceErrorKind::TooManySegments => {
                "a reference has at most four segments (vault, item, section, field); \
                 names with `/` must be referenced by id"
            }
            ReferenceErrorKind::EmptySegment => {
                "write a name or an id between the slashes, or remove the extra `/`"
            }
            ReferenceErrorKind::SurroundingWhitespace => {
                "remove the space; a name that really starts or ends with a space must be referenced by id"
            }
            ReferenceErrorKind::InvalidCharacter => {
                "names may contain only letters, digits, spaces, `-`, `_` and `.`; \
                 reference any other name by its id"
            }
            ReferenceErrorKind::EmptyQuery | ReferenceErrorKind::InvalidQuery => {
                "write one parameter such as `?attribute=otp` or `?ssh-format=openssh`"
            }
            ReferenceErrorKind::UnknownQueryParameter => {
                "the supported parameters are `attribute` (or `attr`) and `ssh-format`; keys are case-sensitive"
            }
            ReferenceErrorKind::UnsupportedAttribute => {
                "supported attributes are otp, totp, type, value, id, purpose, and for files content, name, size; values are case-sensitive"
            }
            ReferenceErrorKind::UnsupportedSshFormat => "the only supported ssh-format is `openssh`",
            ReferenceErrorKind::MultipleQueryParameters => {
                "a reference takes one query parameter; keep only one"
            }
            ReferenceErrorKind::InexpressibleName => {
                "pass an id made of letters, digits, `-`, `_` and `.`"
            }
        }
    }
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ReferenceErrorKind as K;
        let at = self.offset;
        let what = self.segment.described();
        f.write_str("invalid secret reference: ")?;
        match (self.kind, &self.detail) {
            (K::InvalidScheme, _) => {
                write!(f, "it must start with `op://` (mismatch at byte {at})")?
            }
            (K::TooFewSegments, _) => write!(f, "{what} is missing at byte {at}")?,
            (K::TooManySegments, _) => {
                write!(f, "unexpected '/' at byte {at} after the field name")?
            }
            (K::EmptySegment, _) => write!(f, "{what} at byte {at} is empty")?,
            (K::SurroundingWhitespace, Detail::Leading(true)) => {
                write!(f, "{what} starts with a space at byte {at}")?
            }
            (K::SurroundingWhitespace, _) => write!(f, "{what} ends with a space at byte {at}")?,
            (K::InvalidCharacter, Detail::Char(c)) => {
                write!(f, "character {c:?} at byte {at} in {what} is not allowed")?
            }
            (K::InvalidCharacter, _) => {
                write!(f, "a character at byte {at} in {what} is not allowed")?
            }
            (K::EmptyQuery, _) => write!(f, "nothing follows the `?` at byte {at}")?,
            (K::InvalidQuery, Detail::Missing(part)) => {
                write!(f, "the query parameter at byte {at} has no {part}")?
            }
            (K::InvalidQuery, _) => {
                write!(f, "the query parameter at byte {at} is not `key=value`")?
            }
            (K::UnknownQueryParameter, Detail::Text(key)) => {
                write!(f, "unknown query parameter `{key}` at byte {at}")?
            }
            (K::UnknownQueryParameter, _) => write!(f, "unknown query parameter at byte {at}")?,
            (K::UnsupportedAttribute, Detail::Text(value)) => {
                write!(f, "unsupported attribute `{value}` at byte {at}")?
            }
            (K::UnsupportedAttribute, _) => write!(f, "unsupported attribute at byte {at}")?,
            (K::UnsupportedSshFormat, Detail::Text(value)) => {
                write!(f, "unsupported ssh-format `{value}` at byte {at}")?
            }
            (K::UnsupportedSshFormat, _) => write!(f, "unsupported ssh-format at byte {at}")?,
            (K::MultipleQueryParameters, _) => {
                write!(f, "a second query parameter starts at byte {at}")?
            }
            (K::InexpressibleName, Detail::Text(id)) => write!(
                f,
                "neither {what} nor its id `{id}` can be written in a reference"
            )?,
            (K::InexpressibleName, _) => {
                write!(f, "neither {what} nor its id can be written in a reference")?
            }
        }
        write!(f, "; {}", self.hint())
    }
}

impl std::error::Error for ReferenceError {}
