//! `sesame inject`: fill the secret references of a template.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use sesame_core::reference::SecretReference;

use crate::args::parse_mode;
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::{self, Sink};
use crate::resolve::resolve_all;
use crate::template::{self, Piece};

/// `sesame inject`.
#[derive(Debug, Args)]
pub(crate) struct InjectArgs {
    /// The template (default: stdin).
    #[arg(short = 'i', long, value_name = "FILE")]
    in_file: Option<PathBuf>,
    /// Where to write the result (default: stdout), created or replaced.
    #[arg(short = 'o', long, value_name = "FILE")]
    out_file: Option<PathBuf>,
    /// The mode of the file written by --out-file, in octal.
    #[arg(long, default_value = "0600", value_parser = parse_mode)]
    file_mode: u32,
}

pub(crate) async fn inject(args: InjectArgs, ctx: &mut Ctx) -> CliResult<ExitCode> {
    let text = match &args.in_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::other(format!("cannot read {}: {e}", path.display())))?,
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::other(format!("cannot read the template from stdin: {e}")))?;
            text
        }
    };
    let source = args
        .in_file
        .as_ref()
        .map_or_else(|| "stdin".to_owned(), |p| p.display().to_string());
    let pieces = template::parse(&text, &|name| std::env::var(name).ok())
        .map_err(|e| Failure::usage(format!("{source}: {e}")))?;
    // Where each reference first appears, for error messages.
    let mut first_at = HashMap::new();
    for piece in &pieces {
        if let Piece::Reference {
            reference,
            line,
            column,
        } = piece
        {
            first_at
                .entry(reference.as_str())
                .or_insert((*line, *column));
            if let Err(e) = SecretReference::parse(reference) {
                return Err(Failure::usage(format!(
                    "{source}: line {line}, column {column}: {e}"
                )));
            }
        }
    }
    let references = template::references(&pieces);
    let values = resolve_all(ctx, &references, |reference, e| {
        let (line, column) = first_at.get(reference).copied().unwrap_or((0, 0));
        format!("{source}: line {line}, column {column}: {reference}: {e}")
    })
    .await?;
    let rendered = template::render(&pieces, &values);
    match &args.out_file {
        // Whole or not at all, as a download: the file replaces the path once written.
        Some(path) => {
            let mut sink = Sink::open(Some(path), args.file_mode)?;
            sink.write_all(rendered.as_bytes())
                .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
            sink.finish()?;
        }
        None => output::bytes(rendered.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
