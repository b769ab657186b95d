//! `sesame events`: the account's audit trail (the owner only).

use std::process::ExitCode;

use clap::Args;
use time::format_description::well_known::Rfc3339;

use crate::exit::CliResult;
use crate::output::{self, Format};
use crate::Ctx;

/// `sesame events`.
#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    /// Start after this event number (the `nextCursor` of the previous page).
    #[arg(long, default_value_t = 0, value_parser = crate::limits::number(0, crate::limits::STORED_MAX))]
    after: u64,
    /// How many events (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = crate::limits::number::<u32>(1, 1000))]
    limit: u32,
}

pub(crate) async fn events(args: EventsArgs, ctx: &mut Ctx) -> CliResult<ExitCode> {
    let client = ctx.client().await?;
    let page = client.events(args.after, args.limit).await?;
    match ctx.format {
        Format::Json => output::json(&page)?,
        Format::Table => {
            let id =
                |id: &Option<sesame_core::id::Id>| id.map(|i| i.to_string()).unwrap_or_default();
            output::table(
                &[
                    "SEQ",
                    "TIME",
                    "PRINCIPAL",
                    "ACTION",
                    "VAULT",
                    "ITEM",
                    "OUTCOME",
                ],
                &page
                    .events
                    .iter()
                    .map(|e| {
                        vec![
                            e.seq.to_string(),
                            e.time.format(&Rfc3339).unwrap_or_default(),
                            id(&e.principal_id),
                            e.action.clone(),
                            id(&e.vault_id),
                            id(&e.item_id),
                            e.outcome.clone(),
                        ]
                    })
                    .collect::<Vec<_>>(),
            )?;
            if let Some(next) = page.next_cursor {
                eprintln!("more: sesame events --after {next}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
