//! `sesame service-account …` (the account owner): create, list, revoke, ratelimit,
//! rights and rotate.

use std::process::ExitCode;

use clap::Subcommand;
use secrecy::ExposeSecret as _;
use serde::Serialize;
use sesame_core::api::{
    Principal, PrincipalRateLimit, RateLimitSettings, ServiceAccountRights, MAX_RATE_LIMIT,
};
use time::OffsetDateTime;

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::{self, Format};

/// `sesame service-account …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ServiceAccountCommand {
    /// Create a service account with access to vaults; prints its token once.
    #[command(
        after_help = "Examples:\n  sesame service-account create ci-deploy --vault Infra:read\n  \
        sesame service-account create agent --vault Infra:read,write --vault Staging:READ_ITEMS,REVEAL_ITEM_PASSWORD --format json\n\n\
        sesame service-account create provisioner --can-create-vaults\n\n\
        --vault VAULT:PERMS, repeatable: VAULT is a name or id; PERMS a comma list of read,\n\
        write, share, manage or permission names (READ_ITEMS needs REVEAL_ITEM_PASSWORD:\n\
        Sesame cannot withhold passwords from a reader). The token is printed only now: store it."
    )]
    Create {
        /// Its name.
        name: String,
        /// VAULT:PERMS, repeatable.
        #[arg(long = "vault", value_name = "VAULT:PERMS")]
        vaults: Vec<String>,
        /// Let it create vaults (off by default; change later with `rights`).
        #[arg(long)]
        can_create_vaults: bool,
        /// When its token stops working, e.g. 90d, 12h or 30m (at most 3650d).
        #[arg(long, value_name = "DURATION", value_parser = crate::limits::duration(time::Duration::SECOND, MAX_TOKEN_LIFETIME))]
        expires_in: Option<time::Duration>,
    },
    /// List the account's principals.
    #[command(after_help = "Example:\n  sesame service-account list")]
    List,
    /// Revoke a service account: its token stops working.
    #[command(after_help = "Example:\n  sesame service-account revoke ci-deploy")]
    Revoke {
        /// Its name or id.
        account: String,
    },
    /// Show or set a service account's rate limits (requests per window).
    #[command(
        after_help = "Examples:\n  sesame service-account ratelimit ci-deploy\n  \
        sesame service-account ratelimit ci-deploy --writes 100 --reads 5000\n  \
        sesame service-account ratelimit ci-deploy --writes default\n  \
        sesame service-account ratelimit ci-deploy --reset\n\n\
        Without flags it shows the limits that apply. --reads/--writes set one budget and keep\n\
        the other; `default` gives a budget back to the server's default, and --reset both.\n\
        A budget is 1 to 1000000000 requests per window (the server's window, fixed). A service\n\
        account over its budget gets `rate limited` errors (exit code 1) until the window ends."
    )]
    Ratelimit {
        /// Its name or id.
        account: String,
        /// Read requests per window, or `default`.
        #[arg(long, value_name = "N|default", value_parser = parse_budget)]
        reads: Option<Budget>,
        /// Write requests per window, or `default`.
        #[arg(long, value_name = "N|default", value_parser = parse_budget)]
        writes: Option<Budget>,
        /// Give both budgets back to the server's defaults.
        #[arg(long, conflicts_with_all = ["reads", "writes"])]
        reset: bool,
    },
    /// Show or set what a service account may do beyond its vaults (create vaults).
    #[command(
        after_help = "Examples:\n  sesame service-account rights ci-deploy\n  \
        sesame service-account rights provisioner --can-create-vaults true\n\n\
        A service account may create vaults only when the owner gives it the right (at\n\
        creation with --can-create-vaults, or here). It manages the vaults it creates; the\n\
        owner still lists and can delete them, even when they are not shared with it."
    )]
    Rights {
        /// Its name or id.
        account: String,
        /// Whether it may create vaults.
        #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
        can_create_vaults: Option<bool>,
    },
    /// Give a service account a new token; the old one stops working.
    #[command(
        after_help = "Example:\n  sesame service-account rotate ci-deploy > ci-deploy.token"
    )]
    Rotate {
        /// Its name or id.
        account: String,
    },
}

/// A budget given on the command line: a number of requests, or the server default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    Requests(u64),
    Default,
}

/// Parses a budget: 1 to [`MAX_RATE_LIMIT`] or `default`.
fn parse_budget(text: &str) -> Result<Budget, String> {
    if text.eq_ignore_ascii_case("default") {
        return Ok(Budget::Default);
    }
    crate::limits::number(1, MAX_RATE_LIMIT)(text)
        .map(Budget::Requests)
        .map_err(|_| {
            format!(
                "{text:?} is not a budget: give 1 to {MAX_RATE_LIMIT} requests per window, or \
                 `default` for the server's (to stop a service account, revoke it)"
            )
        })
}

fn print_rate_limit(
    format: Format,
    principal: &Principal,
    limits: &PrincipalRateLimit,
) -> CliResult {
    if format == Format::Json {
        return output::json(limits);
    }
    let source = |own: Option<u64>| {
        if own.is_some() {
            "set for this service account"
        } else {
            "server default"
        }
        .to_owned()
    };
    output::table(
        &["BUDGET", "PER WINDOW", "FROM"],
        &[
            vec![
                "reads".to_owned(),
                limits.effective_reads.to_string(),
                source(limits.reads),
            ],
            vec![
                "writes".to_owned(),
                limits.effective_writes.to_string(),
                source(limits.writes),
            ],
        ],
    )?;
    output::line(&format!(
        "Service account {} ({}); a window is {} seconds.",
        principal.name, principal.id, limits.window_seconds
    ))
}

/// The longest a service account token may be made to last: ten years, far inside the
/// dates the clock can add it to (a longer one is what leaving out --expires-in means).
const MAX_TOKEN_LIFETIME: time::Duration = time::Duration::days(3650);

#[derive(Serialize)]
struct Created<'a> {
    id: String,
    name: &'a str,
    token: &'a str,
}

fn print_token(format: Format, principal: &Principal, token: &str, verb: &str) -> CliResult {
    match format {
        Format::Json => output::json(&Created {
            id: principal.id.to_string(),
            name: &principal.name,
            token,
        }),
        Format::Table => {
            eprintln!(
                "{verb} service account {} ({}). Its token follows; it is shown only this once:",
                principal.name, principal.id
            );
            output::line(token)
        }
    }
}

pub(crate) async fn service_account(
    command: ServiceAccountCommand,
    ctx: &mut Ctx,
) -> CliResult<ExitCode> {
    let client = ctx.client().await?;
    let format = ctx.format;
    match command {
        ServiceAccountCommand::Create {
            name,
            vaults,
            expires_in,
            can_create_vaults,
        } => {
            let mut grants = Vec::new();
            for spec in &vaults {
                let (vault, perms) = spec.rsplit_once(':').ok_or_else(|| {
                    Failure::usage(format!(
                        "--vault {spec:?}: expected VAULT:PERMS, e.g. Infra:read"
                    ))
                })?;
                let bits = crate::args::parse_permissions(perms)
                    .map_err(|e| Failure::usage(format!("--vault {spec:?}: {e}")))?;
                let id = client.vaults().find(vault).await?.id;
                // The same vault named twice (by name and id): one grant with both.
                match grants.iter_mut().find(|(v, _)| *v == id) {
                    Some((_, existing)) => *existing |= bits,
                    None => grants.push((id, bits)),
                }
            }
            let grants: Vec<(&str, u32)> = grants.iter().map(|(v, b)| (v.as_str(), *b)).collect();
            let expires_at = expires_in.map(|d| OffsetDateTime::now_utc() + d);
            let (principal, token) = client
                .service_accounts()
                .create_with_rights(
                    &name,
                    &grants,
                    expires_at,
                    ServiceAccountRights { can_create_vaults },
                )
                .await?;
            print_token(format, &principal, token.expose_secret(), "Created")?;
        }
        ServiceAccountCommand::List => {
            let principals = client.service_accounts().list().await?;
            match format {
                Format::Json => output::json(&principals)?,
                Format::Table => output::table(
                    &["ID", "NAME", "KIND", "CREATED", "EXPIRES", "REVOKED"],
                    &principals
                        .iter()
                        .map(|p| {
                            vec![
                                p.id.to_string(),
                                p.name.clone(),
                                output::enum_name(&p.kind),
                                output::time_text(&p.created_at),
                                p.expires_at
                                    .as_ref()
                                    .map(output::time_text)
                                    .unwrap_or_default(),
                                p.revoked_at
                                    .as_ref()
                                    .map(output::time_text)
                                    .unwrap_or_default(),
                            ]
                        })
                        .collect::<Vec<_>>(),
                )?,
            }
        }
        ServiceAccountCommand::Revoke { account } => {
            let principal = client.service_accounts().find(&account).await?;
            client
                .service_accounts()
                .revoke(principal.id.as_ref())
                .await?;
            output::done(
                format,
                principal.id.as_ref(),
                &format!(
                    "Revoked service account {} ({}).",
                    principal.name, principal.id
                ),
            )?;
        }
        ServiceAccountCommand::Ratelimit {
            account,
            reads,
            writes,
            reset,
        } => {
            let principal = client.service_accounts().find(&account).await?;
            let id = principal.id.to_string();
            let limits = if reset {
                client
                    .service_accounts()
                    .set_rate_limit(&id, RateLimitSettings::default())
                    .await?
            } else if reads.is_none() && writes.is_none() {
                client.service_accounts().rate_limit(&id).await?
            } else {
                // One budget given: keep the other as it is.
                let current = client.service_accounts().rate_limit(&id).await?;
                let pick = |given: Option<Budget>, own: Option<u64>| match given {
                    None => own,
                    Some(Budget::Default) => None,
                    Some(Budget::Requests(n)) => Some(n),
                };
                client
                    .service_accounts()
                    .set_rate_limit(
                        &id,
                        RateLimitSettings {
                            reads: pick(reads, current.reads),
                            writes: pick(writes, current.writes),
                        },
                    )
                    .await?
            };
            print_rate_limit(format, &principal, &limits)?;
        }
        ServiceAccountCommand::Rights {
            account,
            can_create_vaults,
        } => {
            let mut principal = client.service_accounts().find(&account).await?;
            if let Some(can_create_vaults) = can_create_vaults {
                principal = client
                    .service_accounts()
                    .set_rights(
                        principal.id.as_ref(),
                        ServiceAccountRights { can_create_vaults },
                    )
                    .await?;
            }
            match format {
                Format::Json => output::json(&ServiceAccountRights {
                    can_create_vaults: principal.can_create_vaults,
                })?,
                Format::Table => output::line(&format!(
                    "Service account {} ({}) {} create vaults.",
                    principal.name,
                    principal.id,
                    if principal.can_create_vaults {
                        "may"
                    } else {
                        "may not"
                    }
                ))?,
            }
        }
        ServiceAccountCommand::Rotate { account } => {
            let principal = client.service_accounts().find(&account).await?;
            let token = client
                .service_accounts()
                .rotate(principal.id.as_ref())
                .await?;
            print_token(format, &principal, token.expose_secret(), "Rotated")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets() {
        assert_eq!(parse_budget("100"), Ok(Budget::Requests(100)));
        assert_eq!(parse_budget("Default"), Ok(Budget::Default));
        assert_eq!(
            parse_budget("1000000000"),
            Ok(Budget::Requests(MAX_RATE_LIMIT))
        );
        for bad in ["0", "-1", "1000000001", "1.5", "", "lots"] {
            assert!(parse_budget(bad).unwrap_err().contains("1 to"), "{bad}");
        }
    }
}
