//! The recipe model, spelled exactly like the 1Password SDKs' `PasswordRecipe`.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Allowed PIN lengths.
pub(crate) const PIN_LENGTH: std::ops::RangeInclusive<u32> = 4..=12;
/// Allowed random-password lengths.
pub(crate) const RANDOM_LENGTH: std::ops::RangeInclusive<u32> = 8..=100;
/// Allowed word counts of a memorable password.
pub(crate) const WORD_COUNT: std::ops::RangeInclusive<u32> = 3..=15;

/// What to generate. Serialized like the 1Password SDK:
/// `{"type":"Random","parameters":{"includeDigits":true,"includeSymbols":true,"length":32}}`.
///
/// ```
/// use sesame_core::password::{PasswordRecipe, PasswordRecipeRandomInner};
/// let recipe: PasswordRecipe = serde_json::from_str(
///     r#"{"type":"Random","parameters":{"includeDigits":true,"includeSymbols":false,"length":20}}"#,
/// )?;
/// assert_eq!(
///     recipe,
///     PasswordRecipe::Random(PasswordRecipeRandomInner {
///         include_digits: true,
///         include_symbols: false,
///         length: 20,
///     })
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", content = "parameters")]
pub enum PasswordRecipe {
    /// Words (or syllables) joined by separators, e.g. `fossil-Crumb-unwind`.
    Memorable(PasswordRecipeMemorableInner),
    /// Decimal digits only, e.g. `482913`.
    Pin(PasswordRecipePinInner),
    /// Letters, optionally with digits and symbols; look-alike characters are excluded.
    Random(PasswordRecipeRandomInner),
}

/// Parameters of [`PasswordRecipe::Memorable`].
///
/// ```
/// use sesame_core::password::{PasswordRecipeMemorableInner, SeparatorType, WordListType};
/// let inner = PasswordRecipeMemorableInner {
///     separator_type: SeparatorType::Hyphens,
///     capitalize: true,
///     word_list_type: WordListType::FullWords,
///     word_count: 4,
/// };
/// assert_eq!(
///     serde_json::to_string(&inner).unwrap(),
///     r#"{"separatorType":"hyphens","capitalize":true,"wordListType":"fullWords","wordCount":4}"#
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PasswordRecipeMemorableInner {
    /// What goes between two words.
    pub separator_type: SeparatorType,
    /// Capitalize the first letter of every word (adds no entropy: it is not random).
    pub capitalize: bool,
    /// Which list the words come from.
    pub word_list_type: WordListType,
    /// How many words, 3 to 15.
    pub word_count: u32,
}

/// Parameters of [`PasswordRecipe::Pin`].
///
/// ```
/// let inner = sesame_core::password::PasswordRecipePinInner { length: 6 };
/// assert_eq!(serde_json::to_string(&inner).unwrap(), r#"{"length":6}"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PasswordRecipePinInner {
    /// How many digits, 4 to 12.
    pub length: u32,
}

/// Parameters of [`PasswordRecipe::Random`].
///
/// ```
/// let inner = sesame_core::password::PasswordRecipeRandomInner {
///     include_digits: true,
///     include_symbols: true,
///     length: 32,
/// };
/// assert_eq!(
///     serde_json::to_string(&inner).unwrap(),
///     r#"{"includeDigits":true,"includeSymbols":true,"length":32}"#
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PasswordRecipeRandomInner {
    /// Include digits; the password then holds at least one.
    pub include_digits: bool,
    /// Include symbols; the password then holds at least one.
    pub include_symbols: bool,
    /// How many characters, 8 to 100.
    pub length: u32,
}

/// What separates the words of a memorable password.
///
/// ```
/// use sesame_core::password::SeparatorType;
/// assert_eq!(serde_json::to_string(&SeparatorType::DigitsAndSymbols).unwrap(), r#""digitsAndSymbols""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum SeparatorType {
    /// A random digit `0`–`9` in each gap, chosen independently.
    Digits,
    /// A random digit or symbol in each gap, chosen independently.
    DigitsAndSymbols,
    /// A space.
    Spaces,
    /// A hyphen `-`.
    Hyphens,
    /// An underscore `_`.
    Underscores,
    /// A period `.`.
    Periods,
    /// A comma `,`.
    Commas,
}

/// Where the words of a memorable password come from.
///
/// ```
/// use sesame_core::password::WordListType;
/// assert_eq!(serde_json::to_string(&WordListType::ThreeLetters).unwrap(), r#""threeLetters""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum WordListType {
    /// The EFF large word list (7,772 words of letters only: 12.92 bits each).
    FullWords,
    /// Pronounceable syllables: consonant–vowel and consonant–vowel–consonant
    /// (1,710 syllables: 10.74 bits each).
    Syllables,
    /// Three-letter English words (630 words: 9.30 bits each).
    ThreeLetters,
}

impl PasswordRecipe {
    /// Checks every parameter against its allowed range.
    ///
    /// ```
    /// use sesame_core::password::{PasswordRecipe, PasswordRecipePinInner};
    /// let err = PasswordRecipe::Pin(PasswordRecipePinInner { length: 3 }).validate().unwrap_err();
    /// assert_eq!(err.to_string(), "invalid recipe.length: must be between 4 and 12, got 3");
    /// ```
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Pin(pin) => check_range("recipe.length", &PIN_LENGTH, pin.length),
            Self::Random(random) => check_range("recipe.length", &RANDOM_LENGTH, random.length),
            Self::Memorable(memorable) => {
                check_range("recipe.wordCount", &WORD_COUNT, memorable.word_count)
            }
        }
    }
}

fn check_range(what: &str, range: &std::ops::RangeInclusive<u32>, got: u32) -> Result<()> {
    if range.contains(&got) {
        Ok(())
    } else {
        Err(Error::invalid_input(
            what,
            format!(
                "must be between {} and {}, got {got}",
                range.start(),
                range.end()
            ),
        ))
    }
}
