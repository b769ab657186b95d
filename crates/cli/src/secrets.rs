//! `sesame whoami`, `sesame read` and `sesame inject`.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use sesame_core::client::ResolvedKind;
use sesame_core::reference::SecretReference;

use crate::exit::{kind_of, CliResult, Failure, Kind};
use crate::files::Sink;
use crate::output::{self, Format};
use crate::template::{self, Piece};
use crate::Ctx;

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

/// Parses an octal file mode such as `0600` or `640`.
pub(crate) fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| {
            format!("{text:?} is not a file mode: give an octal mode from 0 to 7777, such as 0600")
        })
}

/// Writes `data` to `path` with `mode` (also when the file already existed).
pub(crate) fn write_file(path: &Path, data: &[u8], mode: u32) -> CliResult {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    let fail = |e: std::io::Error| Failure::other(format!("cannot write {}: {e}", path.display()));
    let mut file = options.open(path).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(fail)?;
    }
    file.write_all(data)
        .and_then(|()| file.sync_all())
        .map_err(fail)
}

fn stdout_write(data: &[u8]) -> CliResult {
    let mut out = std::io::stdout().lock();
    out.write_all(data)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::other(format!("cannot write to stdout: {e}")))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Whoami {
    id: String,
    name: String,
    kind: sesame_core::api::PrincipalKind,
    account_id: String,
    server_url: String,
}

pub(crate) async fn whoami(ctx: &mut Ctx) -> CliResult<ExitCode> {
    let client = ctx.client().await?;
    let principal = client
        .principal()
        .ok_or_else(|| Failure::other("the server did not describe the principal"))?;
    let token = crate::credential::find(ctx.token_file())?;
    let account_id = secrecy::ExposeSecret::expose_secret(&token)
        .parse::<sesame_core::token::ServiceAccountToken>()
        .map(|t| t.account_id().to_string())
        .unwrap_or_default();
    let me = Whoami {
        id: principal.id.to_string(),
        name: principal.name,
        kind: principal.kind,
        account_id,
        server_url: client.server_url().to_owned(),
    };
    match ctx.format {
        Format::Json => output::json(&me)?,
        Format::Table => {
            let kind = serde_json::to_value(me.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            output::table(
                &["ID", "NAME", "KIND", "ACCOUNT", "SERVER"],
                &[vec![me.id, me.name, kind, me.account_id, me.server_url]],
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
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

/// Resolves every reference of `references` with one `resolve_all`: the values, or the
/// failures, each described by `describe(reference, error)`, and the exit kind of the first.
pub(crate) async fn resolve_all(
    ctx: &mut Ctx,
    references: &[&str],
    describe: impl Fn(&str, &sesame_core::Error) -> String,
) -> CliResult<HashMap<String, String>> {
    if references.is_empty() {
        return Ok(HashMap::new());
    }
    let client = ctx.client().await?;
    let mut response = client.secrets().resolve_all(references).await?;
    let mut values = HashMap::new();
    let mut failures = Vec::new();
    let mut kind = None;
    for reference in references {
        match response.individual_responses.remove(*reference) {
            Some(Ok(resolved)) => {
                values.insert((*reference).to_owned(), resolved.secret);
            }
            Some(Err(e)) => {
                kind.get_or_insert(kind_of(e.code()));
                failures.push(describe(reference, &e));
            }
            None => {
                kind.get_or_insert(Kind::Other);
                failures.push(format!("{reference}: the client returned no answer"));
            }
        }
    }
    match kind {
        None => Ok(values),
        Some(kind) => Err(Failure::new(kind, failures.join("\n       "))),
    }
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
        Some(path) => write_file(path, rendered.as_bytes(), args.file_mode)?,
        None => stdout_write(rendered.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
