//! `sesame vault …` and `sesame service-account …`, and the name-or-id lookups the
//! management commands share.

use std::process::ExitCode;

use clap::Subcommand;
use secrecy::ExposeSecret as _;
use serde::Serialize;
use sesame_core::api::{
    Principal, PrincipalRateLimit, RateLimitSettings, ServiceAccountRights, MAX_RATE_LIMIT,
};
use sesame_core::model::{permissions, VaultCreateParams, VaultGetParams, VaultUpdateParams};
use sesame_core::{Client, Error, Resource};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::exit::{CliResult, Failure};
use crate::output::{self, Format};
use crate::Ctx;

/// Picks the one candidate whose id is `wanted` or whose name matches it (exactly, else
/// ignoring case).
pub(crate) fn pick<T>(
    what: Resource,
    wanted: &str,
    candidates: Vec<T>,
    id: impl Fn(&T) -> String,
    name: impl Fn(&T) -> String,
) -> CliResult<T> {
    let mut candidates = candidates;
    if let Some(i) = candidates.iter().position(|c| id(c) == wanted) {
        return Ok(candidates.swap_remove(i));
    }
    let exact: Vec<usize> = (0..candidates.len())
        .filter(|&i| name(&candidates[i]) == wanted)
        .collect();
    let matches = if exact.is_empty() {
        (0..candidates.len())
            .filter(|&i| name(&candidates[i]).eq_ignore_ascii_case(wanted))
            .collect()
    } else {
        exact
    };
    match matches.as_slice() {
        [one] => Ok(candidates.swap_remove(*one)),
        [] => Err(Error::NotFound {
            what,
            message: format!("no {what} named {wanted:?} or with that id is visible"),
        }
        .into()),
        many => Err(Error::Ambiguous {
            what,
            name: wanted.to_owned(),
            candidates: many.iter().map(|&i| id(&candidates[i])).collect(),
        }
        .into()),
    }
}

/// The id of the vault named or identified by `wanted`; a vault the client cannot open
/// is found by its id, so that it can still be left or deleted.
pub(crate) async fn vault_id(client: &Client, wanted: &str) -> CliResult<String> {
    let vaults = client.vaults().list().await?;
    if client
        .unreadable_records()
        .iter()
        .any(|r| r.item_id.is_none() && r.vault_id == wanted)
    {
        return Ok(wanted.to_owned());
    }
    Ok(pick(
        Resource::Vault,
        wanted,
        vaults,
        |v| v.id.clone(),
        |v| v.title.clone(),
    )?
    .id)
}

/// The item whose id or title is `wanted`.
pub(crate) fn pick_item(
    wanted: &str,
    items: Vec<sesame_core::model::ItemOverview>,
) -> CliResult<sesame_core::model::ItemOverview> {
    pick(
        Resource::Item,
        wanted,
        items,
        |i| i.id.clone(),
        |i| i.title.clone(),
    )
}

/// The service account named or identified by `wanted`.
async fn principal(client: &Client, wanted: &str) -> CliResult<Principal> {
    let principals = client.service_accounts().list().await?;
    pick(
        Resource::Principal,
        wanted,
        principals,
        |p| p.id.to_string(),
        |p| p.name.clone(),
    )
}

/// Parses `read,write,share` or permission names (`READ_ITEMS,…`) into permission bits.
///
/// `read` is READ_ITEMS and REVEAL_ITEM_PASSWORD; `write` is CREATE_ITEMS, UPDATE_ITEMS,
/// ARCHIVE_ITEMS and DELETE_ITEMS; `share` is SEND_ITEMS; `manage` is MANAGE_VAULT.
pub(crate) fn parse_permissions(text: &str) -> Result<u32, String> {
    let mut bits = 0;
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        bits |= match word.to_ascii_lowercase().as_str() {
            "read" => permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD,
            "write" => {
                permissions::CREATE_ITEMS
                    | permissions::UPDATE_ITEMS
                    | permissions::ARCHIVE_ITEMS
                    | permissions::DELETE_ITEMS
            }
            "share" => permissions::SEND_ITEMS,
            "manage" => permissions::MANAGE_VAULT,
            _ => permissions::by_name(word).ok_or_else(|| {
                format!(
                    "{word:?} is not a permission: use read, write, share, manage or names such \
                     as READ_ITEMS"
                )
            })?,
        };
    }
    if bits == 0 {
        return Err(format!(
            "{text:?} grants nothing; give e.g. read or read,write"
        ));
    }
    permissions::check_grantable(bits).map_err(|e| format!("{text:?}: {e}"))?;
    Ok(bits)
}

fn time_text(t: &OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// `sesame vault …`.
#[derive(Debug, Subcommand)]
pub(crate) enum VaultCommand {
    /// List the vaults this credential can see.
    #[command(after_help = "Example:\n  sesame vault list --format json")]
    List,
    /// Show a vault and who has access to it.
    #[command(after_help = "Example:\n  sesame vault get Infra")]
    Get {
        /// The vault's name or id.
        vault: String,
    },
    /// Create a vault.
    #[command(after_help = "Example:\n  sesame vault create Infra --description 'Production'")]
    Create {
        /// Its title.
        title: String,
        /// A description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Change a vault's title or description.
    #[command(after_help = "Example:\n  sesame vault edit Infra --title Infrastructure")]
    Edit {
        /// The vault's name or id.
        vault: String,
        /// The new title.
        #[arg(long)]
        title: Option<String>,
        /// The new description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete an empty vault.
    #[command(after_help = "Example:\n  sesame vault delete Scratch")]
    Delete {
        /// The vault's name or id.
        vault: String,
    },
    /// Give a service account access to a vault.
    #[command(
        after_help = "Example:\n  sesame vault grant Infra ci-deploy --permissions read,write\n\n\
        PERMS: read (READ_ITEMS, REVEAL_ITEM_PASSWORD), write (CREATE_, UPDATE_, ARCHIVE_,\n\
        DELETE_ITEMS), share (SEND_ITEMS), manage (MANAGE_VAULT), or permission names."
    )]
    Grant {
        /// The vault's name or id.
        vault: String,
        /// The service account's name or id.
        principal: String,
        /// A comma list of permissions.
        #[arg(long, value_name = "PERMS", value_parser = parse_permissions)]
        permissions: u32,
    },
    /// Remove this credential's own access to a vault (no permission needed).
    #[command(after_help = "Example:\n  sesame vault leave Scratch")]
    Leave {
        /// The vault's name or id.
        vault: String,
    },
    /// Remove a service account's access to a vault.
    #[command(after_help = "Example:\n  sesame vault revoke Infra ci-deploy")]
    Revoke {
        /// The vault's name or id.
        vault: String,
        /// The service account's name or id.
        principal: String,
    },
}

pub(crate) async fn vault(command: VaultCommand, ctx: &mut Ctx) -> CliResult<ExitCode> {
    let client = ctx.client().await?;
    let format = ctx.format;
    match command {
        VaultCommand::List => {
            let vaults = client.vaults().list().await?;
            match format {
                Format::Json => output::json(&vaults)?,
                Format::Table => output::table(
                    &["ID", "TITLE", "ITEMS", "UPDATED"],
                    &vaults
                        .iter()
                        .map(|v| {
                            vec![
                                v.id.clone(),
                                match &v.unreadable {
                                    Some(reason) => format!("<unreadable: {reason}>"),
                                    None => v.title.clone(),
                                },
                                v.active_item_count.to_string(),
                                time_text(&v.updated_at),
                            ]
                        })
                        .collect::<Vec<_>>(),
                )?,
            }
        }
        VaultCommand::Get { vault } => {
            let id = vault_id(&client, &vault).await?;
            let vault = client
                .vaults()
                .get(
                    &id,
                    VaultGetParams {
                        accessors: Some(true),
                    },
                )
                .await?;
            print_vault(&vault, format)?;
        }
        VaultCommand::Create { title, description } => {
            let vault = client
                .vaults()
                .create(VaultCreateParams {
                    description,
                    ..VaultCreateParams::new(title)
                })
                .await?;
            print_vault(&vault, format)?;
        }
        VaultCommand::Edit {
            vault,
            title,
            description,
        } => {
            if title.is_none() && description.is_none() {
                return Err(Failure::usage("give --title or --description to change"));
            }
            let id = vault_id(&client, &vault).await?;
            let vault = client
                .vaults()
                .update(&id, VaultUpdateParams { title, description })
                .await?;
            print_vault(&vault, format)?;
        }
        VaultCommand::Delete { vault } => {
            let id = vault_id(&client, &vault).await?;
            client.vaults().delete(&id).await?;
            done(format, &id, &format!("Deleted vault {id}."))?;
        }
        VaultCommand::Leave { vault } => {
            let id = vault_id(&client, &vault).await?;
            client.vaults().leave(&id).await?;
            done(format, &id, &format!("Left vault {id}."))?;
        }
        VaultCommand::Grant {
            vault,
            principal: who,
            permissions: bits,
        } => {
            let id = vault_id(&client, &vault).await?;
            let member = principal(&client, &who).await?;
            let access = client.vaults().grant(&id, member.id.as_ref(), bits).await?;
            match format {
                Format::Json => output::json(&access)?,
                Format::Table => output::line(&format!(
                    "Granted {} on vault {id} to {} ({}).",
                    permissions::names(access.permissions).join(","),
                    member.name,
                    member.id
                ))?,
            }
        }
        VaultCommand::Revoke {
            vault,
            principal: who,
        } => {
            let id = vault_id(&client, &vault).await?;
            let member = principal(&client, &who).await?;
            client.vaults().revoke(&id, member.id.as_ref()).await?;
            done(
                format,
                member.id.as_ref(),
                &format!("Revoked {} ({}) from vault {id}.", member.name, member.id),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reports a deletion-like command: `{"id"}` in JSON, `text` for people.
pub(crate) fn done(format: Format, id: &str, text: &str) -> CliResult {
    #[derive(Serialize)]
    struct Done<'a> {
        id: &'a str,
    }
    match format {
        Format::Json => output::json(&Done { id }),
        Format::Table => output::line(text),
    }
}

fn print_vault(vault: &sesame_core::model::Vault, format: Format) -> CliResult {
    match format {
        Format::Json => output::json(vault),
        Format::Table => {
            let mut rows = vec![
                vec!["ID".to_owned(), vault.id.clone()],
                vec!["Title".to_owned(), vault.title.clone()],
                vec!["Description".to_owned(), vault.description.clone()],
                vec!["Items".to_owned(), vault.active_item_count.to_string()],
            ];
            for access in vault.access.iter().flatten() {
                rows.push(vec![
                    "Access".to_owned(),
                    format!(
                        "{} {}",
                        access.accessor_uuid,
                        permissions::names(access.permissions).join(",")
                    ),
                ]);
            }
            output::table(&["FIELD", "VALUE"], &rows)
        }
    }
}

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
                let bits = parse_permissions(perms)
                    .map_err(|e| Failure::usage(format!("--vault {spec:?}: {e}")))?;
                let id = vault_id(&client, vault).await?;
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
                                serde_json::to_value(p.kind)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_owned))
                                    .unwrap_or_default(),
                                time_text(&p.created_at),
                                p.expires_at.as_ref().map(time_text).unwrap_or_default(),
                                p.revoked_at.as_ref().map(time_text).unwrap_or_default(),
                            ]
                        })
                        .collect::<Vec<_>>(),
                )?,
            }
        }
        ServiceAccountCommand::Revoke { account } => {
            let principal = principal(&client, &account).await?;
            client
                .service_accounts()
                .revoke(principal.id.as_ref())
                .await?;
            done(
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
            let principal = principal(&client, &account).await?;
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
            let mut principal = principal(&client, &account).await?;
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
            let principal = principal(&client, &account).await?;
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
    fn permissions_by_word_or_name() {
        let read = permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD;
        assert_eq!(parse_permissions("read"), Ok(read));
        assert_eq!(
            parse_permissions("read, READ_ITEMS ,manage"),
            Ok(read | permissions::MANAGE_VAULT)
        );
        assert!(parse_permissions("write").unwrap() & permissions::DELETE_ITEMS != 0);
        assert!(parse_permissions("fly").unwrap_err().contains("fly"));
        assert!(parse_permissions("").is_err());
    }

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

    #[test]
    fn pick_prefers_ids_then_exact_names() {
        let items = vec![("a1", "Infra"), ("b2", "infra"), ("c3", "Other")];
        let id = |t: &(&str, &str)| t.0.to_owned();
        let name = |t: &(&str, &str)| t.1.to_owned();
        assert_eq!(
            pick(Resource::Vault, "b2", items.clone(), id, name)
                .unwrap()
                .0,
            "b2"
        );
        assert_eq!(
            pick(Resource::Vault, "Infra", items.clone(), id, name)
                .unwrap()
                .0,
            "a1"
        );
        assert_eq!(
            pick(Resource::Vault, "other", items.clone(), id, name)
                .unwrap()
                .0,
            "c3"
        );
        let err = pick(Resource::Vault, "INFRA", items.clone(), id, name).unwrap_err();
        assert_eq!(err.kind, crate::exit::Kind::Usage, "ambiguous");
        let err = pick(Resource::Vault, "nope", items, id, name).unwrap_err();
        assert_eq!(err.kind, crate::exit::Kind::NotFound);
    }
}
