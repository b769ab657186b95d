//! `sesame read`: print the secret a reference names.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use sesame_core::client::ResolvedKind;
use sesame_core::reference::SecretReference;

use crate::args::parse_mode;
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::Sink;

/// `sesame read`.
#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    /// The secret reference, e.g. op://Infra/Postgres/password (append
    /// ?attribute=otp for the current one-time password of a TOTP field). A reference to
    /// a file prints its content exactly as stored (binary-safe, no newline added).
    reference: String,
    /// Do not print a newline after the secret (never printed after a file's content).
    #[arg(short = 'n', long)]
    no_newline: bool,
    /// Write the secret to this file instead of stdout (created or replaced).
    #[arg(short = 'o', long, value_name = "FILE")]
    out_file: Option<PathBuf>,
    /// The mode of the file written by --out-file, in octal.
    #[arg(long, default_value = "0600", value_parser = parse_mode)]
    file_mode: u32,
}

pub(crate) async fn read(args: ReadArgs, ctx: &mut Ctx) -> CliResult<ExitCode> {
    SecretReference::parse(&args.reference).map_err(sesame_core::Error::from)?;
    let client = ctx.client().await?;
    let out_file = args.out_file.as_deref();
    // Streamed: a file's content arrives chunk by chunk, exactly as stored; with -o it
    // replaces the target only once complete and authenticated.
    let sink = Sink::open(out_file, args.file_mode)?;
    let (mut sink, kind) = client
        .secrets()
        .resolve_to_writer(&args.reference, sink)
        .await?;
    // A value gets a newline on stdout, unless -n; a file's bytes never do.
    if kind == ResolvedKind::Value && !args.no_newline && out_file.is_none() {
        sink.write_all(b"\n")
            .map_err(|e| Failure::other(format!("cannot write to stdout: {e}")))?;
    }
    sink.finish()?;
    Ok(ExitCode::SUCCESS)
}
