//! `sesame item share`: share an item by link.

use clap::Args;
use serde::Serialize;
use sesame_core::model::{ItemShareDuration, ItemShareParams};
use sesame_core::Client;

use crate::exit::CliResult;
use crate::output::{self, Format};

/// `sesame item share`.
#[derive(Debug, Args)]
pub(crate) struct ShareItemArgs {
    /// The item's title or id.
    item: String,
    /// The vault's name or id.
    #[arg(long)]
    vault: String,
    /// How long the link works: 1h, 1d, 7d, 14d or 30d (default: the account policy's).
    #[arg(long, value_parser = crate::args::parse_share_duration)]
    expires_in: Option<ItemShareDuration>,
    /// The link works for one view only.
    #[arg(long)]
    view_once: bool,
    /// Only these recipients, comma-separated: email addresses, or domains for everyone
    /// at them.
    #[arg(long, value_delimiter = ',')]
    emails: Vec<String>,
}

#[derive(Serialize)]
struct Created<'a> {
    id: &'a str,
    url: &'a str,
}

/// `sesame item share ITEM --vault V`: prints the link.
pub(crate) async fn share_item(args: ShareItemArgs, client: &Client, format: Format) -> CliResult {
    let vault = client.vaults().find(&args.vault).await?.id;
    let id = client.items().find(&vault, &args.item).await?.id;
    let item = client.items().get(&vault, &id).await?;
    let shares = client.items().shares();
    let policy = shares.get_account_policy(&vault, &id).await?;
    let recipients = shares.validate_recipients(&policy, &args.emails)?;
    let params = ItemShareParams {
        recipients: (!recipients.is_empty()).then_some(recipients),
        expire_after: args.expires_in,
        one_time_only: args.view_once,
    };
    let url = shares.create(&item, &policy, params).await?;
    let share_id = url
        .rsplit_once("/s/")
        .and_then(|(_, rest)| rest.split_once('#'))
        .map_or("", |(id, _)| id);
    match format {
        Format::Json => output::json(&Created {
            id: share_id,
            url: &url,
        }),
        Format::Table => output::line(&url),
    }
}
