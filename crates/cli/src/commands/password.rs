//! `sesame password generate`: passwords from the 1Password recipes, offline.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use secrecy::ExposeSecret as _;
use serde::Serialize;
use sesame_core::password::{
    generate_password, PasswordRecipe, PasswordRecipeMemorableInner, PasswordRecipePinInner,
    PasswordRecipeRandomInner, SeparatorType, WordListType,
};

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::{self, Format};

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
        Some(spec) => crate::args::parse_recipe(spec).map_err(Failure::usage)?,
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
