//! `sesame totp`: the current one-time password of a URI, a base32 secret or a reference.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use sesame_core::totp::Totp;

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::{self, Format};

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
