//! `sesame item share` and `sesame share list|revoke|open|policy`: share links of items.

use std::time::Duration;

use clap::{Args, Subcommand};
use serde::Serialize;
use sesame_core::client::{open_share_link, open_share_link_with_code, request_share_code};
use sesame_core::model::{
    AllowedRecipientType, AllowedType, ItemShare, ItemShareAccountPolicy, ItemShareDuration,
    ItemShareParams,
};
use sesame_core::Client;
use sesame_core::ErrorCode;

use crate::exit::CliResult;
use crate::manage::{done, vault_id};
use crate::output::{self, Format};
use crate::Ctx;

/// How long a link works, as `--expires-in` spells it.
const DURATIONS: [(&str, ItemShareDuration); 5] = [
    ("1h", ItemShareDuration::OneHour),
    ("1d", ItemShareDuration::OneDay),
    ("7d", ItemShareDuration::SevenDays),
    ("14d", ItemShareDuration::FourteenDays),
    ("30d", ItemShareDuration::ThirtyDays),
];

/// A share duration: one of [`DURATIONS`] in any spelling the CLI's one duration parser
/// reads (`24h` is `1d`), or its API name (`OneHour`).
fn parse_duration(text: &str) -> Result<ItemShareDuration, String> {
    let length = crate::limits::parse_duration(text).ok();
    DURATIONS
        .iter()
        .find(|(short, long)| {
            length.is_some_and(|d| crate::limits::parse_duration(short) == Ok(d))
                || text.eq_ignore_ascii_case(&format!("{long:?}"))
        })
        .map(|(_, duration)| *duration)
        .ok_or_else(|| {
            format!(
                "{text:?} is not a share duration; use one of {}",
                DURATIONS.map(|(short, _)| short).join(", ")
            )
        })
}

fn duration_text(duration: ItemShareDuration) -> &'static str {
    DURATIONS
        .iter()
        .find(|(_, d)| *d == duration)
        .map_or("?", |(short, _)| short)
}

/// `sesame item share`.
#[derive(Debug, Args)]
pub(crate) struct ShareItemArgs {
    /// The item's title or id.
    item: String,
    /// The vault's name or id.
    #[arg(long)]
    vault: String,
    /// How long the link works: 1h, 1d, 7d, 14d or 30d (default: the account policy's).
    #[arg(long, value_parser = parse_duration)]
    expires_in: Option<ItemShareDuration>,
    /// The link works for one view only.
    #[arg(long)]
    view_once: bool,
    /// Only these recipients, comma-separated: email addresses, or domains for everyone
    /// at them.
    #[arg(long, value_delimiter = ',')]
    emails: Vec<String>,
}

/// `sesame share …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ShareCommand {
    /// List the share links you created.
    #[command(after_help = "Example:\n  sesame share list --format json")]
    List,
    /// Revoke a share link: it stops working at once.
    #[command(after_help = "Example:\n  sesame share revoke 3kq9w0v7x2m4p8r1t6y5z0a2bc")]
    Revoke {
        /// The share's id (the last part of the link's path; see `sesame share list`).
        id: String,
    },
    /// Open a share link and print the item it holds (counts one view).
    #[command(
        after_help = "Examples:\n  sesame share open 'https://sesame.example.com/s/3kq9…#Qm…'\n  \
        sesame share open 'https://…#Qm…' --email bob@example.com   # mails a code, then reads it\n  \
        sesame share open 'https://…#Qm…' --email bob@example.com --code 123456\n\n\
        A link restricted to recipients opens only with a code mailed to a recipient's\n\
        address: with --email alone, the server mails one and the command reads it from\n\
        standard input."
    )]
    Open {
        /// The whole link, including the part after #.
        link: String,
        /// Show concealed values in the table (JSON always carries them).
        #[arg(long)]
        reveal: bool,
        /// For a link restricted to recipients: your address, where the code is mailed.
        #[arg(long)]
        email: Option<String>,
        /// The code mailed to --email (without it, one is asked for and read from stdin).
        #[arg(long, requires = "email")]
        code: Option<String>,
    },
    /// Show the account's share policy, or change it (the owner).
    #[command(after_help = "Examples:\n  sesame share policy\n  \
        sesame share policy --max-expiry 7d --default-expiry 1d --max-views 5\n  \
        sesame share policy --files --files-max-size 1048576\n  \
        sesame share policy --recipients email,domain   # needs SMTP on the server")]
    Policy(PolicyArgs),
}

/// `sesame share policy`.
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    /// The longest a link may last.
    #[arg(long, value_parser = parse_duration)]
    max_expiry: Option<ItemShareDuration>,
    /// How long a link lasts when its creator does not say.
    #[arg(long, value_parser = parse_duration)]
    default_expiry: Option<ItemShareDuration>,
    /// How many times a link may be viewed, 1 to 1000000 (or --unlimited-views).
    #[arg(long, conflicts_with = "unlimited_views", value_parser = crate::limits::number::<u32>(1, 1_000_000))]
    max_views: Option<u32>,
    /// Links may be viewed any number of times.
    #[arg(long)]
    unlimited_views: bool,
    /// Links carry the item's files.
    #[arg(long, conflicts_with = "no_files")]
    files: bool,
    /// Links never carry files.
    #[arg(long)]
    no_files: bool,
    /// The largest encrypted size of a link's files, in bytes (the server's request size
    /// limit caps it further).
    #[arg(long, value_parser = crate::limits::number(1, crate::limits::STORED_MAX))]
    files_max_size: Option<u64>,
    /// Links may be restricted to these kinds of recipient (email, domain; comma-separated),
    /// who prove their address with a mailed code: allows Authenticated links. Needs SMTP
    /// on the server.
    #[arg(long, value_delimiter = ',', value_parser = parse_recipient_kind, conflicts_with = "no_recipients")]
    recipients: Vec<AllowedRecipientType>,
    /// Links cannot be restricted to recipients (public links only).
    #[arg(long)]
    no_recipients: bool,
}

fn parse_recipient_kind(text: &str) -> Result<AllowedRecipientType, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "email" => Ok(AllowedRecipientType::Email),
        "domain" => Ok(AllowedRecipientType::Domain),
        other => Err(format!(
            "{other:?} is not a recipient kind: use email and/or domain"
        )),
    }
}

impl PolicyArgs {
    /// Applies the flags given; whether any was.
    fn apply(&self, policy: &mut ItemShareAccountPolicy) -> bool {
        let before = policy.clone();
        if let Some(max) = self.max_expiry {
            policy.max_expiry = max;
        }
        if let Some(default) = self.default_expiry {
            policy.default_expiry = default;
        }
        if self.max_views.is_some() || self.unlimited_views {
            policy.max_views = self.max_views;
        }
        if self.files || self.no_files {
            policy.files.allowed = self.files;
        }
        if let Some(size) = self.files_max_size {
            policy.files.max_size = size;
        }
        if !self.recipients.is_empty() {
            if !policy.allowed_types.contains(&AllowedType::Authenticated) {
                policy.allowed_types.push(AllowedType::Authenticated);
            }
            policy.allowed_recipient_types.clone_from(&self.recipients);
            policy.allowed_recipient_types.dedup();
        }
        if self.no_recipients {
            policy
                .allowed_types
                .retain(|t| *t != AllowedType::Authenticated);
            if policy.allowed_types.is_empty() {
                policy.allowed_types.push(AllowedType::Public);
            }
            policy.allowed_recipient_types.clear();
        }
        *policy != before
    }
}

#[derive(Serialize)]
struct Created<'a> {
    id: &'a str,
    url: &'a str,
}

/// `sesame item share ITEM --vault V`: prints the link.
pub(crate) async fn share_item(args: ShareItemArgs, client: &Client, format: Format) -> CliResult {
    let vault = vault_id(client, &args.vault).await?;
    let id = crate::items::item_id(client, &vault, &args.item).await?;
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

fn share_rows(shares: &[ItemShare]) -> Vec<Vec<String>> {
    let date = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    shares
        .iter()
        .map(|s| {
            let state = if s.revoked_at.is_some() {
                "revoked"
            } else if s.expires_at <= time::OffsetDateTime::now_utc() {
                "expired"
            } else if s.max_views.is_some_and(|max| s.views >= max) {
                "used up"
            } else {
                "active"
            };
            vec![
                s.id.to_string(),
                s.item_id.to_string(),
                date(s.expires_at),
                match s.max_views {
                    Some(max) => format!("{}/{max}", s.views),
                    None => s.views.to_string(),
                },
                state.to_owned(),
            ]
        })
        .collect()
}

/// `sesame share open LINK`: the link is the credential, so no token is needed; a link
/// restricted to recipients also needs a code mailed to `email`.
async fn open(
    link: &str,
    reveal: bool,
    email: Option<&str>,
    code: Option<&str>,
    format: Format,
) -> CliResult {
    let timeout = Duration::from_secs(30);
    let shared = match (email, code) {
        (None, _) => open_share_link(link, timeout).await.map_err(|e| {
            if e.code() == ErrorCode::Unauthenticated {
                crate::exit::Failure::new(
                    crate::exit::Kind::Authentication,
                    "this link is restricted to its recipients: run again with --email \
                     YOUR_ADDRESS to have a code mailed to you",
                )
            } else {
                e.into()
            }
        })?,
        (Some(email), Some(code)) => open_share_link_with_code(link, email, code, timeout).await?,
        (Some(email), None) => {
            let lifetime = request_share_code(link, email, timeout).await?;
            eprintln!(
                "If {email} may open this link, a code was mailed to it (it works for {} \
                 minutes). Enter the code:",
                lifetime.as_secs() / 60
            );
            let mut line = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| crate::exit::Failure::other(format!("cannot read the code: {e}")))?;
            if line.trim().is_empty() {
                return Err(crate::exit::Failure::usage(
                    "no code was given; run again with --code CODE once the mail arrives",
                ));
            }
            open_share_link_with_code(link, email, line.trim(), timeout).await?
        }
    };
    match format {
        Format::Json => output::json(&serde_json::json!({
            "title": shared.title,
            "category": shared.category,
            "fields": shared.fields,
            "sections": shared.sections,
            "notes": shared.notes,
            "websites": shared.websites,
            "tags": shared.tags,
            "files": shared
                .files
                .iter()
                .map(|f| serde_json::json!({"name": f.name, "size": f.size}))
                .collect::<Vec<_>>(),
            "viewsLeft": shared.views_left,
        })),
        Format::Table => {
            output::line(&shared.title)?;
            let rows = crate::items::field_rows(&shared.fields, &shared.sections, reveal);
            output::table(&["FIELD", "VALUE"], &rows)
        }
    }
}

fn policy_rows(policy: &ItemShareAccountPolicy) -> Vec<Vec<String>> {
    vec![
        vec!["max expiry".into(), duration_text(policy.max_expiry).into()],
        vec![
            "default expiry".into(),
            duration_text(policy.default_expiry).into(),
        ],
        vec![
            "max views".into(),
            policy
                .max_views
                .map_or("unlimited".into(), |v| v.to_string()),
        ],
        vec!["link types".into(), format!("{:?}", policy.allowed_types)],
        vec![
            "recipients".into(),
            if policy.allowed_types.contains(&AllowedType::Authenticated) {
                format!("{:?}", policy.allowed_recipient_types)
            } else {
                "none (public links only)".into()
            },
        ],
        vec![
            "files".into(),
            if policy.files.allowed {
                format!("allowed, up to {} bytes", policy.files.max_size)
            } else {
                "not shared".into()
            },
        ],
    ]
}

/// `sesame share …`.
pub(crate) async fn share(command: ShareCommand, ctx: &mut Ctx) -> CliResult {
    let format = ctx.format;
    if let ShareCommand::Open {
        link,
        reveal,
        email,
        code,
    } = &command
    {
        return open(link, *reveal, email.as_deref(), code.as_deref(), format).await;
    }
    let client = ctx.client().await?;
    let shares = client.items().shares();
    match command {
        ShareCommand::List => {
            let list = shares.list().await?;
            match format {
                Format::Json => output::json(&list),
                Format::Table => output::table(
                    &["ID", "ITEM", "EXPIRES", "VIEWS", "STATE"],
                    &share_rows(&list),
                ),
            }
        }
        ShareCommand::Revoke { id } => {
            shares.revoke(&id).await?;
            done(format, &id, &format!("Revoked share {id}."))
        }
        ShareCommand::Policy(args) => {
            // The policy is account-wide; the SDK call's vault and item ids are only checked.
            let any = sesame_core::id::Id::generate();
            let mut policy = shares
                .get_account_policy(any.as_str(), any.as_str())
                .await?;
            if args.apply(&mut policy) {
                policy = shares.set_account_policy(&policy).await?;
            }
            match format {
                Format::Json => output::json(&policy),
                Format::Table => output::table(&["SETTING", "VALUE"], &policy_rows(&policy)),
            }
        }
        ShareCommand::Open { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations_parse_in_both_spellings() {
        assert_eq!(parse_duration("7d").unwrap(), ItemShareDuration::SevenDays);
        assert_eq!(
            parse_duration("onehour").unwrap(),
            ItemShareDuration::OneHour
        );
        let err = parse_duration("2d").unwrap_err();
        assert!(err.contains("1h, 1d, 7d, 14d, 30d"), "{err}");
        for (short, duration) in DURATIONS {
            assert_eq!(duration_text(duration), short);
        }
    }
}
