//! `sesame share list|revoke|open|policy`: the share links of items (`sesame item share`
//! makes them).

use std::time::Duration;

use clap::{Args, Subcommand};
use sesame_core::client::{open_share_link, open_share_link_with_code, request_share_code};
use sesame_core::model::{
    AllowedRecipientType, AllowedType, ItemShare, ItemShareAccountPolicy, ItemShareDuration,
};
use sesame_core::ErrorCode;

use crate::args::share_duration_text;
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure, Kind};
use crate::output::{self, Format};

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
    #[arg(long, value_parser = crate::args::parse_share_duration)]
    max_expiry: Option<ItemShareDuration>,
    /// How long a link lasts when its creator does not say.
    #[arg(long, value_parser = crate::args::parse_share_duration)]
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

fn share_rows(shares: &[ItemShare]) -> Vec<Vec<String>> {
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
                output::time_text(&s.expires_at),
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
                Failure::new(
                    Kind::Authentication,
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
                .map_err(|e| Failure::other(format!("cannot read the code: {e}")))?;
            if line.trim().is_empty() {
                return Err(Failure::usage(
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
            let rows = output::field_rows(&shared.fields, &shared.sections, reveal);
            output::table(&["FIELD", "VALUE"], &rows)
        }
    }
}

fn policy_rows(policy: &ItemShareAccountPolicy) -> Vec<Vec<String>> {
    vec![
        vec![
            "max expiry".into(),
            share_duration_text(policy.max_expiry).into(),
        ],
        vec![
            "default expiry".into(),
            share_duration_text(policy.default_expiry).into(),
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
            output::done(format, &id, &format!("Revoked share {id}."))
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
