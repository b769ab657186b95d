//! Offline helpers: `sesame password generate` and `sesame totp`.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use secrecy::ExposeSecret as _;
use serde::Serialize;
use sesame_core::password::{
    generate_password, PasswordRecipe, PasswordRecipeMemorableInner, PasswordRecipePinInner,
    PasswordRecipeRandomInner, SeparatorType, WordListType,
};
use sesame_core::totp::Totp;

use crate::exit::{CliResult, Failure};
use crate::output::{self, Format};
use crate::Ctx;

/// `sesame password …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PasswordCommand {
    /// Generate a password from a 1Password recipe, offline.
    #[command(after_help = "Examples:\n  sesame password generate\n  \
        sesame password generate --recipe pin --length 6\n  \
        sesame password generate letters,digits,20\n  \
        sesame password generate --recipe memorable --words 5 --separator spaces --capitalize\n  \
        sesame password generate --recipe random --length 20 --no-symbols --format json")]
    Generate(GenerateArgs),
}

/// The recipe kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RecipeKind {
    /// Digits only.
    Pin,
    /// Letters, digits and symbols.
    Random,
    /// Words joined by separators.
    Memorable,
}

/// Separators of memorable passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Separator {
    Hyphens,
    Spaces,
    Underscores,
    Periods,
    Commas,
    Digits,
    DigitsAndSymbols,
}

/// Word lists of memorable passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WordList {
    FullWords,
    Syllables,
    ThreeLetters,
}

/// `sesame password generate`.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// A compact recipe, as `item create --generate-password=RECIPE` takes it (e.g.
    /// `pin,6`, `letters,digits,20`, `memorable,5,capitalize`); replaces the flags below.
    spec: Option<String>,
    /// The recipe.
    #[arg(long, value_enum, default_value_t = RecipeKind::Random)]
    recipe: RecipeKind,
    /// Length in characters (pin: 4-12, default 6; random: 8-100, default 32).
    // The widest range here; the recipe's own range is checked when generating.
    #[arg(long, value_parser = crate::limits::number::<u32>(4, 100))]
    length: Option<u32>,
    /// Random: leave out digits.
    #[arg(long)]
    no_digits: bool,
    /// Random: leave out symbols.
    #[arg(long)]
    no_symbols: bool,
    /// Memorable: how many words (3-15).
    #[arg(long, default_value_t = 4, value_parser = crate::limits::number::<u32>(3, 15))]
    words: u32,
    /// Memorable: what joins the words.
    #[arg(long, value_enum, default_value_t = Separator::Hyphens)]
    separator: Separator,
    /// Memorable: capitalize one word.
    #[arg(long)]
    capitalize: bool,
    /// Memorable: where the words come from.
    #[arg(long, value_enum, default_value_t = WordList::FullWords)]
    word_list: WordList,
}

impl GenerateArgs {
    fn recipe(&self) -> PasswordRecipe {
        match self.recipe {
            RecipeKind::Pin => PasswordRecipe::Pin(PasswordRecipePinInner {
                length: self.length.unwrap_or(6),
            }),
            RecipeKind::Random => PasswordRecipe::Random(PasswordRecipeRandomInner {
                include_digits: !self.no_digits,
                include_symbols: !self.no_symbols,
                length: self.length.unwrap_or(32),
            }),
            RecipeKind::Memorable => PasswordRecipe::Memorable(PasswordRecipeMemorableInner {
                separator_type: match self.separator {
                    Separator::Hyphens => SeparatorType::Hyphens,
                    Separator::Spaces => SeparatorType::Spaces,
                    Separator::Underscores => SeparatorType::Underscores,
                    Separator::Periods => SeparatorType::Periods,
                    Separator::Commas => SeparatorType::Commas,
                    Separator::Digits => SeparatorType::Digits,
                    Separator::DigitsAndSymbols => SeparatorType::DigitsAndSymbols,
                },
                capitalize: self.capitalize,
                word_list_type: match self.word_list {
                    WordList::FullWords => WordListType::FullWords,
                    WordList::Syllables => WordListType::Syllables,
                    WordList::ThreeLetters => WordListType::ThreeLetters,
                },
                word_count: self.words,
            }),
        }
    }
}

/// Parses the compact recipe of `item create --generate-password=RECIPE`: comma-separated
/// words `pin`, `memorable` or `random` (the default), `letters`, `digits`, `symbols`
/// (random: which sets; letters are always in), `capitalize` (memorable) and a number (the
/// length, or the word count of memorable). Empty: random, 32 characters, all sets.
pub(crate) fn parse_recipe(spec: &str) -> Result<PasswordRecipe, String> {
    let mut kind = RecipeKind::Random;
    let (mut digits, mut symbols, mut sets, mut capitalize) = (false, false, false, false);
    let mut number = None;
    for word in spec.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match word.to_ascii_lowercase().as_str() {
            "pin" => kind = RecipeKind::Pin,
            "memorable" | "words" => kind = RecipeKind::Memorable,
            "random" => kind = RecipeKind::Random,
            "letters" => sets = true,
            "digits" => (digits, sets) = (true, true),
            "symbols" => (symbols, sets) = (true, true),
            "capitalize" => capitalize = true,
            other if other.bytes().all(|b| b.is_ascii_digit()) => {
                // The widest range of any recipe; generating checks the recipe's own.
                number = Some(
                    crate::limits::number::<u32>(3, 100)(other)
                        .map_err(|e| format!("{other} in recipe {spec:?} is out of range: {e}"))?,
                )
            }
            other => {
                return Err(format!(
                    "{other:?} in recipe {spec:?} is not one of pin, memorable, random, \
                     letters, digits, symbols, capitalize or a number"
                ))
            }
        }
    }
    Ok(match kind {
        RecipeKind::Pin => PasswordRecipe::Pin(PasswordRecipePinInner {
            length: number.unwrap_or(6),
        }),
        RecipeKind::Random => PasswordRecipe::Random(PasswordRecipeRandomInner {
            include_digits: digits || !sets,
            include_symbols: symbols || !sets,
            length: number.unwrap_or(32),
        }),
        RecipeKind::Memorable => PasswordRecipe::Memorable(PasswordRecipeMemorableInner {
            separator_type: SeparatorType::Hyphens,
            capitalize,
            word_list_type: WordListType::FullWords,
            word_count: number.unwrap_or(4),
        }),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Generated<'a> {
    password: &'a str,
    entropy_bits: f64,
    recipe: PasswordRecipe,
}

pub(crate) fn password(command: PasswordCommand, ctx: &Ctx) -> CliResult<ExitCode> {
    let PasswordCommand::Generate(args) = command;
    let recipe = match &args.spec {
        Some(spec) => parse_recipe(spec).map_err(Failure::usage)?,
        None => args.recipe(),
    };
    let generated = generate_password(&recipe)?;
    let password = generated.password().expose_secret();
    match ctx.format {
        Format::Json => output::json(&Generated {
            password,
            entropy_bits: generated.entropy_bits(),
            recipe,
        })?,
        Format::Table => output::line(password)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `sesame totp`.
#[derive(Debug, Args)]
pub(crate) struct TotpArgs {
    /// An otpauth://totp/… URI, a base32 secret, or a secret reference to a one-time
    /// password field (op://vault/item/field).
    source: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Code<'a> {
    code: &'a str,
    expires_in_seconds: Option<u64>,
}

pub(crate) async fn totp(args: TotpArgs, ctx: &mut Ctx) -> CliResult<ExitCode> {
    let source = args.source.trim();
    let (code, expires) = if source.starts_with("op://") {
        let reference = if source.contains('?') {
            source.to_owned()
        } else {
            format!("{source}?attribute=otp")
        };
        sesame_core::reference::SecretReference::parse(&reference)
            .map_err(sesame_core::Error::from)?;
        let client = ctx.client().await?;
        (client.secrets().resolve(&reference).await?, None)
    } else {
        let totp = Totp::parse(source).map_err(|e| Failure::usage(e.to_string()))?;
        let code = totp.now()?;
        (code.code().to_owned(), Some(code.expires_in_seconds()))
    };
    match ctx.format {
        Format::Json => output::json(&Code {
            code: &code,
            expires_in_seconds: expires,
        })?,
        Format::Table => output::line(&code)?,
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_recipes() {
        assert_eq!(
            parse_recipe("").unwrap(),
            PasswordRecipe::Random(PasswordRecipeRandomInner {
                include_digits: true,
                include_symbols: true,
                length: 32
            })
        );
        assert_eq!(
            parse_recipe("letters,digits,20").unwrap(),
            PasswordRecipe::Random(PasswordRecipeRandomInner {
                include_digits: true,
                include_symbols: false,
                length: 20
            })
        );
        assert_eq!(
            parse_recipe("pin,8").unwrap(),
            PasswordRecipe::Pin(PasswordRecipePinInner { length: 8 })
        );
        assert!(matches!(
            parse_recipe("memorable,5,capitalize").unwrap(),
            PasswordRecipe::Memorable(m) if m.word_count == 5 && m.capitalize
        ));
        assert!(parse_recipe("pin,long").unwrap_err().contains("\"long\""));
    }
}
