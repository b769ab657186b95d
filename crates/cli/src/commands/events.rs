//! `sesame events`: the account's audit trail (the owner only), checked against the
//! owner's signed checkpoints; `sesame events checkpoint` signs a new one.
//!
//! Every run checks the whole trail ([`sesame_core::Client::verify_events`]) and
//! remembers the newest checkpoint it verified under the user's config directory
//! (`$XDG_CONFIG_HOME/sesame/audit-checkpoints/<account>.json`), so that a server which
//! later deletes its checkpoints along with events is still caught. Signing is explicit:
//! a checkpoint is the owner vouching for the trail up to the head, a deliberate act (run
//! it from a schedule, e.g. daily) rather than a side effect of reading.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use sesame_core::id::Id;
use sesame_core::model::{AuditCheckpoint, AuditVerification};

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::{self, Format};

/// `sesame events`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct EventsArgs {
    #[command(subcommand)]
    command: Option<EventsCommand>,
    /// Start after this event number (the `nextCursor` of the previous page).
    #[arg(long, default_value_t = 0, value_parser = crate::limits::number(0, crate::limits::STORED_MAX))]
    after: u64,
    /// How many events (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = crate::limits::number::<u32>(1, 1000))]
    limit: u32,
}

/// `sesame events …`.
#[derive(Debug, Subcommand)]
pub(crate) enum EventsCommand {
    /// Check the whole trail, then sign a checkpoint of its head with the owner key.
    #[command(after_help = "Example:\n  sesame events checkpoint")]
    Checkpoint,
}

pub(crate) async fn events(args: EventsArgs, ctx: &mut Ctx) -> CliResult<ExitCode> {
    let client = ctx.client().await?;
    let account = *client.account_id();
    let known = load_known(&account)?;
    if let Some(EventsCommand::Checkpoint) = args.command {
        let verification = client.verify_events(known.as_ref()).await?;
        let checkpoint = client.sign_events_checkpoint(&verification).await?;
        remember(&account, known.as_ref(), Some(&checkpoint))?;
        match ctx.format {
            Format::Json => output::json(&checkpoint)?,
            Format::Table => output::line(&format!(
                "signed a checkpoint of the audit trail at event {} (hash {}); every event up \
                 to it is now vouched for by the owner key",
                checkpoint.seq, checkpoint.hash
            ))?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    let page = client.events(args.after, args.limit).await?;
    match ctx.format {
        Format::Json => output::json(&page)?,
        Format::Table => {
            let id = |id: &Option<Id>| id.map(|i| i.to_string()).unwrap_or_default();
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
                            output::time_text(&e.time),
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
    // The page is shown even when the check then fails, so the owner can look at it.
    let verification = client.verify_events(known.as_ref()).await?;
    remember(&account, known.as_ref(), verification.checkpoint.as_ref())?;
    eprintln!("{}", summary(&verification));
    Ok(ExitCode::SUCCESS)
}

/// What the check established, for people.
fn summary(v: &AuditVerification) -> String {
    match &v.checkpoint {
        Some(c) if v.unsigned == 0 => format!(
            "audit trail verified: {} events, all covered by the owner's checkpoint at event {}",
            v.events, c.seq
        ),
        Some(c) => format!(
            "audit trail verified: {} events; the owner's newest checkpoint is at event {}, \
             and the {} events after it are chained but not yet signed (a server could still \
             drop or rewrite them unnoticed): run `sesame events checkpoint`",
            v.events, c.seq, v.unsigned
        ),
        None => format!(
            "audit trail verified: {} events, none signed by the owner yet (a server could \
             drop or rewrite any of them unnoticed): run `sesame events checkpoint`",
            v.events
        ),
    }
}

/// Where the newest checkpoint verified for `account` is remembered.
fn known_path(account: &Id) -> Option<PathBuf> {
    let credential = crate::credential::saved_path()?;
    Some(
        credential
            .parent()?
            .join("audit-checkpoints")
            .join(format!("{account}.json")),
    )
}

fn load_known(account: &Id) -> CliResult<Option<AuditCheckpoint>> {
    let Some(path) = known_path(account) else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Failure::other(format!(
                "cannot read the remembered audit checkpoint {}: {e}",
                path.display()
            )))
        }
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Failure::other(format!(
            "the remembered audit checkpoint {} is not valid ({e}); it is written by \
             `sesame events`: restore it from a backup, or delete it to trust the server's \
             checkpoints from scratch",
            path.display()
        ))
    })
}

/// Remembers `newest` when it is newer than `known`.
fn remember(
    account: &Id,
    known: Option<&AuditCheckpoint>,
    newest: Option<&AuditCheckpoint>,
) -> CliResult {
    let Some(newest) = newest.filter(|n| known.is_none_or(|k| n.seq > k.seq)) else {
        return Ok(());
    };
    let Some(path) = known_path(account) else {
        return Ok(());
    };
    let failed = |e: std::io::Error| {
        Failure::other(format!(
            "cannot remember the audit checkpoint in {}: {e}",
            path.display()
        ))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let text = serde_json::to_string_pretty(newest)
        .map_err(|e| Failure::other(format!("cannot encode the audit checkpoint: {e}")))?;
    // Written beside and renamed, so a crash never leaves half a file.
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, format!("{text}\n")).map_err(failed)?;
    std::fs::rename(&partial, &path).map_err(failed)
}
