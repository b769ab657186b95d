//! Password generation with the 1Password SDK's recipes: PIN, random and memorable.
//!
//! Every choice is uniform, drawn by rejection sampling from the operating system's
//! CSPRNG (one `getrandom` call per password in the common case). Every password comes
//! with its exact entropy in bits: `log2` of the number of passwords the recipe can
//! produce, each of which it produces with equal probability.
//!
//! - **Pin**: `length` digits `0`–`9`; entropy `length · log2 10`.
//! - **Random**: `length` characters from the letters without look-alikes, plus the
//!   digits and symbols when enabled. Excluded look-alikes: `0 O o 1 l I |`. Alphabets:
//!   48 letters ([`RANDOM_LETTERS`]), 8 digits `2`–`9` ([`RANDOM_DIGITS`]) and 27 symbols
//!   ([`SYMBOLS`]; no quotes, backslash, backtick or `|`). When digits (symbols) are
//!   enabled the password holds at least one: a candidate that lacks one is discarded
//!   whole and drawn again, so the result is uniform over exactly the strings that
//!   satisfy the rule, and the entropy is `log2` of their count by inclusion–exclusion:
//!   `A^n − (A−D)^n − (A−S)^n + (A−D−S)^n` (terms only for the enabled classes).
//! - **Memorable**: `wordCount` entries of the chosen list, joined by separators.
//!   Entropy `wordCount · log2 W + (wordCount − 1) · log2 S (+ log2 wordCount)`, with `W`
//!   the list size (7,772 full words, 1,710 syllables or 17,576 three-letter groups) and
//!   `S` the number of possible separators (10 for digits, 37 for digits and symbols, 1
//!   otherwise). `capitalize` writes one randomly chosen word in capitals, as the
//!   1Password SDK does (`salami-neatly-runny-THAMES`), which adds `log2 wordCount`.

mod csprng;
mod recipe;
mod words;

use std::fmt;

use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroize;

pub use recipe::{
    PasswordRecipe, PasswordRecipeMemorableInner, PasswordRecipePinInner,
    PasswordRecipeRandomInner, SeparatorType, WordListType,
};

use crate::Result;
use csprng::RandomBytes;

/// Letters of random passwords: `A`–`Z` and `a`–`z` without `I`, `O`, `l` and `o`.
pub const RANDOM_LETTERS: &str = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";
/// Digits of random passwords: `2`–`9` (`0` and `1` look like `O` and `l`).
pub const RANDOM_DIGITS: &str = "23456789";
/// Symbols of random passwords and of `digitsAndSymbols` separators.
pub const SYMBOLS: &str = "!#$%&()*+,-./:;<=>?@[]^_{}~";

const PIN_DIGITS: &[u8; 10] = b"0123456789";

/// A generated password and its entropy. `Debug` never shows the password.
///
/// ```
/// use secrecy::ExposeSecret;
/// use sesame_core::password::{generate_password, PasswordRecipe, PasswordRecipePinInner};
/// let generated = generate_password(&PasswordRecipe::Pin(PasswordRecipePinInner { length: 6 }))?;
/// assert_eq!(generated.password().expose_secret().len(), 6);
/// assert!(!format!("{generated:?}").contains(generated.password().expose_secret()));
/// # Ok::<(), sesame_core::Error>(())
/// ```
pub struct GeneratedPassword {
    password: SecretString,
    entropy_bits: f64,
}

impl GeneratedPassword {
    /// The password. Read it with [`secrecy::ExposeSecret::expose_secret`].
    pub fn password(&self) -> &SecretString {
        &self.password
    }

    /// The password, consuming the result.
    pub fn into_password(self) -> SecretString {
        self.password
    }

    /// Exact entropy in bits: `log2` of the number of equally likely outcomes.
    pub fn entropy_bits(&self) -> f64 {
        self.entropy_bits
    }
}

/// `{"password", "entropyBits"}`: the 1Password `GeneratePasswordResponse`, plus the
/// entropy. Serializing is how a binding hands the password to its caller.
impl serde::Serialize for GeneratedPassword {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut out = s.serialize_struct("GeneratedPassword", 2)?;
        out.serialize_field("password", self.password.expose_secret())?;
        out.serialize_field("entropyBits", &self.entropy_bits)?;
        out.end()
    }
}

/// `{"password", "entropyBits"}`, as the hand-written `Serialize` writes it.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for GeneratedPassword {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GeneratedPassword".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::GeneratedPassword").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A generated password and its entropy.",
            "type": "object",
            "properties": {
                "password": {"type": "string", "description": "The password.", "x-secret": true},
                "entropyBits": {
                    "type": "number",
                    "format": "double",
                    "description": "Exact entropy in bits: log2 of the number of equally likely outcomes.",
                },
            },
            "required": ["password", "entropyBits"],
        })
    }
}

impl fmt::Debug for GeneratedPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedPassword")
            .field("password", &"[REDACTED]")
            .field("entropy_bits", &self.entropy_bits)
            .finish()
    }
}

/// Generates a password from a recipe.
///
/// Errors with [`crate::ErrorCode::InvalidInput`] when a parameter is out of range; the
/// message states the allowed range.
///
/// ```
/// use secrecy::ExposeSecret;
/// use sesame_core::password::{generate_password, PasswordRecipe, PasswordRecipeRandomInner};
/// let recipe = PasswordRecipe::Random(PasswordRecipeRandomInner {
///     include_digits: true,
///     include_symbols: true,
///     length: 32,
/// });
/// let generated = generate_password(&recipe)?;
/// assert_eq!(generated.password().expose_secret().len(), 32);
/// assert!(generated.entropy_bits() > 200.0);
///
/// let too_short = PasswordRecipe::Random(PasswordRecipeRandomInner {
///     include_digits: true,
///     include_symbols: true,
///     length: 3,
/// });
/// let err = generate_password(&too_short).unwrap_err();
/// assert_eq!(err.to_string(), "invalid recipe.length: must be between 8 and 100, got 3");
/// # Ok::<(), sesame_core::Error>(())
/// ```
pub fn generate_password(recipe: &PasswordRecipe) -> Result<GeneratedPassword> {
    recipe.validate()?;
    Ok(match recipe {
        PasswordRecipe::Pin(pin) => generate_pin(pin.length as usize),
        PasswordRecipe::Random(random) => generate_random(random),
        PasswordRecipe::Memorable(memorable) => generate_memorable(memorable),
    })
}

fn generate_pin(length: usize) -> GeneratedPassword {
    let mut rng = RandomBytes::new(length + length / 8 + 1);
    // Exact capacity: `SecretString::from` then boxes without reallocating, so no
    // unzeroized copy of the password is left behind.
    let mut password = String::with_capacity(length);
    for _ in 0..length {
        password.push(char::from(rng.pick(PIN_DIGITS)));
    }
    GeneratedPassword {
        password: SecretString::from(password),
        entropy_bits: pin_entropy(length as u32),
    }
}

/// The alphabet of a random password, in one contiguous slice.
fn random_alphabet(digits: bool, symbols: bool) -> &'static [u8] {
    const ALL: &str =
        "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz!#$%&()*+,-./:;<=>?@[]^_{}~23456789";
    let letters = RANDOM_LETTERS.len();
    let with_symbols = letters + SYMBOLS.len();
    let all = ALL.as_bytes();
    match (digits, symbols) {
        (false, false) => &all[..letters],
        (false, true) => &all[..with_symbols],
        (true, true) => all,
        (true, false) => RANDOM_LETTERS_AND_DIGITS.as_bytes(),
    }
}

const RANDOM_LETTERS_AND_DIGITS: &str = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";

fn generate_random(recipe: &PasswordRecipeRandomInner) -> GeneratedPassword {
    let length = recipe.length as usize;
    let alphabet = random_alphabet(recipe.include_digits, recipe.include_symbols);
    // Room for rejected draws; more bytes are fetched only if these run out (mostly when
    // a short candidate lacking a digit or symbol is discarded, which costs one more
    // system call but measured no slower than drawing a larger batch up front).
    let mut rng = RandomBytes::new(length + length / 4 + 8);
    let mut password = String::with_capacity(length);
    loop {
        let (mut has_digit, mut has_symbol) = (false, false);
        for _ in 0..length {
            let c = rng.pick(alphabet);
            has_digit |= c.is_ascii_digit();
            has_symbol |= !c.is_ascii_alphanumeric();
            password.push(char::from(c));
        }
        if has_digit >= recipe.include_digits && has_symbol >= recipe.include_symbols {
            break;
        }
        // Discard the whole candidate: keeps the result uniform over valid passwords.
        password.zeroize();
    }
    GeneratedPassword {
        password: SecretString::from(password),
        entropy_bits: random_entropy(recipe.length, recipe.include_digits, recipe.include_symbols),
    }
}

/// Separators to choose from (one element for the fixed ones).
fn separator_alphabet(separator: SeparatorType) -> &'static [u8] {
    match separator {
        SeparatorType::Digits => PIN_DIGITS,
        SeparatorType::DigitsAndSymbols => b"0123456789!#$%&()*+,-./:;<=>?@[]^_{}~",
        SeparatorType::Spaces => b" ",
        SeparatorType::Hyphens => b"-",
        SeparatorType::Underscores => b"_",
        SeparatorType::Periods => b".",
        SeparatorType::Commas => b",",
    }
}

fn generate_memorable(recipe: &PasswordRecipeMemorableInner) -> GeneratedPassword {
    const MAX_WORDS: usize = 15;
    let count = (recipe.word_count as usize).min(MAX_WORDS);
    let list_size = words::count(recipe.word_list_type);
    let separators = separator_alphabet(recipe.separator_type);
    let mut rng = RandomBytes::new(4 * count + 8);

    // Choose everything first so the exact length is known before the string exists.
    let mut picks = [[0u8; words::MAX_WORD_LEN]; MAX_WORDS];
    let mut lens = [0usize; MAX_WORDS];
    let mut gaps = [0u8; MAX_WORDS];
    for i in 0..count {
        lens[i] = words::entry(recipe.word_list_type, rng.below(list_size), &mut picks[i]);
        if i + 1 < count {
            gaps[i] = rng.pick(separators);
        }
    }
    if recipe.capitalize {
        // As in the 1Password SDK: one word, chosen at random, in capitals.
        let word = rng.below(count as u32) as usize;
        picks[word][..lens[word]].make_ascii_uppercase();
    }

    let total = lens[..count].iter().sum::<usize>() + count.saturating_sub(1);
    let mut password = String::with_capacity(total);
    for i in 0..count {
        if i > 0 {
            password.push(char::from(gaps[i - 1]));
        }
        password.extend(picks[i][..lens[i]].iter().map(|&b| char::from(b)));
    }
    picks.zeroize();
    gaps.zeroize();

    GeneratedPassword {
        password: SecretString::from(password),
        entropy_bits: memorable_entropy(
            recipe.word_count,
            list_size,
            separators.len() as u32,
            recipe.capitalize,
        ),
    }
}

fn pin_entropy(length: u32) -> f64 {
    f64::from(length) * 10f64.log2()
}

/// `log2` of the number of length-`n` strings over the random alphabet that contain
/// every enabled class, by inclusion–exclusion, computed as
/// `n·log2 A + log2(1 − Σ(1 − k/A)^n + …)` so nothing overflows up to length 100.
fn random_entropy(n: u32, digits: bool, symbols: bool) -> f64 {
    let letters = RANDOM_LETTERS.len() as f64;
    let d = if digits {
        RANDOM_DIGITS.len() as f64
    } else {
        0.0
    };
    let s = if symbols { SYMBOLS.len() as f64 } else { 0.0 };
    let a = letters + d + s;
    let n = f64::from(n);
    let without = |k: f64| ((a - k) / a).powf(n);
    let mut fraction = 1.0;
    if digits {
        fraction -= without(d);
    }
    if symbols {
        fraction -= without(s);
    }
    if digits && symbols {
        fraction += without(d + s);
    }
    n * a.log2() + fraction.log2()
}

fn memorable_entropy(word_count: u32, list_size: u32, separators: u32, capitalize: bool) -> f64 {
    // Words are all lowercase letters, so the one capitalised word is always recognisable
    // and each choice of it gives a distinct password.
    let capital = if capitalize {
        f64::from(word_count).log2()
    } else {
        0.0
    };
    f64::from(word_count) * f64::from(list_size).log2()
        + f64::from(word_count.saturating_sub(1)) * f64::from(separators).log2()
        + capital
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabets_are_consistent() {
        for (d, s, len) in [
            (false, false, 48),
            (true, false, 56),
            (false, true, 75),
            (true, true, 83),
        ] {
            let alphabet = random_alphabet(d, s);
            assert_eq!(alphabet.len(), len);
            let distinct: std::collections::HashSet<&u8> = alphabet.iter().collect();
            assert_eq!(distinct.len(), len);
            assert_eq!(alphabet.iter().any(u8::is_ascii_digit), d);
            assert_eq!(alphabet.iter().any(|b| !b.is_ascii_alphanumeric()), s);
            assert!(alphabet
                .iter()
                .all(|b| RANDOM_LETTERS.as_bytes().contains(b)
                    || RANDOM_DIGITS.as_bytes().contains(b)
                    || SYMBOLS.as_bytes().contains(b)));
        }
        assert_eq!(
            separator_alphabet(SeparatorType::DigitsAndSymbols),
            format!("0123456789{SYMBOLS}").as_bytes()
        );
    }
}
