//! `sesame whoami`.

use std::process::ExitCode;

use serde::Serialize;

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::{self, Format};

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
            let kind = output::enum_name(&me.kind);
            output::table(
                &["ID", "NAME", "KIND", "ACCOUNT", "SERVER"],
                &[vec![me.id, me.name, kind, me.account_id, me.server_url]],
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
