//! `sesame vault …`: list, get, create, edit, delete, grant, leave and revoke.

use std::process::ExitCode;

use clap::Subcommand;
use sesame_core::model::{
    permissions, Vault, VaultCreateParams, VaultGetParams, VaultUpdateParams,
};

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::{self, Format};

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
        #[arg(long, value_name = "PERMS", value_parser = crate::args::parse_permissions)]
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
                                output::time_text(&v.updated_at),
                            ]
                        })
                        .collect::<Vec<_>>(),
                )?,
            }
        }
        VaultCommand::Get { vault } => {
            let id = client.vaults().find(&vault).await?.id;
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
            let id = client.vaults().find(&vault).await?.id;
            let vault = client
                .vaults()
                .update(&id, VaultUpdateParams { title, description })
                .await?;
            print_vault(&vault, format)?;
        }
        VaultCommand::Delete { vault } => {
            let id = client.vaults().find(&vault).await?.id;
            client.vaults().delete(&id).await?;
            output::done(format, &id, &format!("Deleted vault {id}."))?;
        }
        VaultCommand::Leave { vault } => {
            let id = client.vaults().find(&vault).await?.id;
            client.vaults().leave(&id).await?;
            output::done(format, &id, &format!("Left vault {id}."))?;
        }
        VaultCommand::Grant {
            vault,
            principal: who,
            permissions: bits,
        } => {
            let id = client.vaults().find(&vault).await?.id;
            let member = client.service_accounts().find(&who).await?;
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
            let id = client.vaults().find(&vault).await?.id;
            let member = client.service_accounts().find(&who).await?;
            client.vaults().revoke(&id, member.id.as_ref()).await?;
            output::done(
                format,
                member.id.as_ref(),
                &format!("Revoked {} ({}) from vault {id}.", member.name, member.id),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_vault(vault: &Vault, format: Format) -> CliResult {
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
