//! `sesame item …`: get, create, edit, delete, archive, list, and (in submodules) `item
//! file …` and `item share`.

mod file;
mod share;

use std::process::ExitCode;

use clap::{Args, Subcommand};
use secrecy::ExposeSecret as _;
use serde::Serialize;
use sesame_core::model::ItemListFilters;
use sesame_core::model::{
    Item, ItemCategory, ItemCreateParams, ItemFieldType, ItemListFilter, ItemListFilterByStateInner,
};
use sesame_core::reference::name_matches;
use sesame_core::reference::{ReferencePart, SecretReference};
use sesame_core::Client;

use crate::args;
use crate::assign::{self, Assignment};
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::{self, Format};

/// Category names as people type them (`login`, `api-credentials`, `ApiCredentials`).
fn parse_category(text: &str) -> Result<ItemCategory, String> {
    let wanted = text.to_ascii_lowercase().replace(['-', '_', ' '], "");
    let name = |category: &ItemCategory| {
        serde_json::to_value(category)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    ItemCategory::ALL
        .iter()
        .find(|category| name(category).to_ascii_lowercase() == wanted)
        .copied()
        .ok_or_else(|| {
            let names: Vec<String> = ItemCategory::ALL.iter().map(name).collect();
            format!("{text:?} is not a category: one of {}", names.join(", "))
        })
}

/// `--generate-password[=RECIPE]` as an assignment to the `password` field.
fn generated_password(recipe: Option<&str>) -> CliResult<Option<Assignment>> {
    let Some(spec) = recipe else {
        return Ok(None);
    };
    let recipe = args::parse_recipe(spec).map_err(Failure::usage)?;
    let generated = sesame_core::password::generate_password(&recipe)?;
    Ok(Some(Assignment {
        section: None,
        field: "password".to_owned(),
        field_type: Some(Some(ItemFieldType::Concealed)),
        value: generated.password().expose_secret().to_owned(),
    }))
}

/// What `item create` and `item edit` share.
#[derive(Debug, Args)]
pub(crate) struct ItemFieldsArgs {
    /// Assignments `[section.]field[type]=value` (escape . = [ ] \ in names with \).
    /// Types: text, password, email, url, phone, date, monthYear, otp, menu, reference,
    /// sshKey; `field[delete]=` removes a field (edit).
    #[arg(value_name = "ASSIGNMENT", value_parser = assign::parse_assignment)]
    assignments: Vec<Assignment>,
    /// Set the `password` field to a generated password; RECIPE as in `sesame password
    /// generate RECIPE` (default: 32 letters, digits and symbols).
    #[arg(long, value_name = "RECIPE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    generate_password: Option<String>,
    /// Tags, comma-separated (replaces the item's tags).
    #[arg(long)]
    tags: Option<String>,
    /// Notes (replaces the item's notes).
    #[arg(long)]
    notes: Option<String>,
}

/// `sesame item …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ItemCommand {
    /// Show an item, or every field's secret reference.
    #[command(after_help = "Examples:\n  sesame item get Postgres --vault Infra\n  \
        sesame item get Postgres --vault Infra --references\n  \
        sesame item get Postgres --vault Infra --format json")]
    Get {
        /// The item's title or id.
        item: String,
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
        /// Print each field's secret reference instead.
        #[arg(long)]
        references: bool,
        /// Show concealed values in the table (JSON always carries them).
        #[arg(long)]
        reveal: bool,
    },
    /// Create an item.
    #[command(after_help = "Examples:\n  \
        sesame item create --vault Infra --title Postgres --category database \\\n    \
        username=admin 'admin.host[url]=db.internal' --generate-password=letters,digits,24\n  \
        sesame item create --vault Infra --title 'API key' 'key[password]=abc\\=def'")]
    Create {
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
        /// The item's title.
        #[arg(long)]
        title: String,
        /// The category, e.g. login, password, database, api-credentials, secure-note.
        #[arg(long, default_value = "login", value_parser = parse_category)]
        category: ItemCategory,
        #[command(flatten)]
        fields: ItemFieldsArgs,
    },
    /// Change an item's title, fields, tags or notes.
    #[command(
        after_help = "Examples:\n  sesame item edit Postgres --vault Infra password=n3w 'admin.host[url]=db2'\n  \
        sesame item edit Postgres --vault Infra --generate-password 'old[delete]='"
    )]
    Edit {
        /// The item's title or id.
        item: String,
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
        /// A new title.
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        fields: ItemFieldsArgs,
    },
    /// Delete an item for good.
    #[command(after_help = "Example:\n  sesame item delete Postgres --vault Infra")]
    Delete {
        /// The item's title or id.
        item: String,
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
    },
    /// Archive an item (hidden from lists and references, kept).
    #[command(after_help = "Example:\n  sesame item archive Postgres --vault Infra")]
    Archive {
        /// The item's title or id.
        item: String,
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
    },
    /// Share an item by link; prints the link.
    #[command(
        after_help = "Examples:\n  sesame item share Postgres --vault Infra\n  \
        sesame item share Postgres --vault Infra --expires-in 1h --view-once\n\n\
        The link opens a page that decrypts the item in the browser: its secret is in the\n\
        part after #, which browsers never send to the server. See also `sesame share`."
    )]
    Share(share::ShareItemArgs),
    /// Attach, download, list and delete an item's files.
    #[command(
        after_help = "Examples:\n  sesame item file attach Postgres --vault Infra ./ca.pem\n  \
        sesame item file get Postgres ca.pem --vault Infra -o ca.pem\n  \
        sesame item file list Postgres --vault Infra"
    )]
    File {
        #[command(subcommand)]
        command: file::FileCommand,
    },
    /// List a vault's items.
    #[command(after_help = "Examples:\n  sesame item list --vault Infra\n  \
        sesame item list --vault Infra --tags prod --categories login,database --format json")]
    List {
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
        /// Only items with this tag.
        #[arg(long)]
        tags: Option<String>,
        /// Only items of these categories, comma-separated.
        #[arg(long)]
        categories: Option<String>,
        /// Include archived items.
        #[arg(long)]
        include_archived: bool,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FieldReference {
    id: String,
    title: String,
    section_id: Option<String>,
    reference: String,
}

/// Every field's canonical reference.
async fn references(client: &Client, item: &Item) -> CliResult<Vec<FieldReference>> {
    let vault = client.vaults().get_overview(&item.vault_id).await?;
    let mut out = Vec::new();
    for field in &item.fields {
        let section = field
            .section_id
            .as_ref()
            .and_then(|id| item.sections.iter().find(|s| &s.id == id));
        // A title shared with another field of the same section would be ambiguous under
        // the name rule references follow.
        let shared = item
            .fields
            .iter()
            .filter(|f| f.section_id == field.section_id && name_matches(&f.title, &field.title))
            .count()
            > 1;
        let name = if shared {
            field.id.as_str()
        } else {
            field.title.as_str()
        };
        let reference = SecretReference::canonical(
            ReferencePart::new(&vault.id, &vault.title),
            ReferencePart::new(&item.id, &item.title),
            section.map(|s| ReferencePart::new(&s.id, &s.title)),
            ReferencePart::new(&field.id, name),
            None,
        )
        .map_err(sesame_core::Error::from)?;
        out.push(FieldReference {
            id: field.id.clone(),
            title: field.title.clone(),
            section_id: field.section_id.clone(),
            reference: reference.to_string(),
        });
    }
    Ok(out)
}

pub(crate) async fn item(command: ItemCommand, ctx: &mut Ctx) -> CliResult<ExitCode> {
    let client = ctx.client().await?;
    let format = ctx.format;
    match command {
        ItemCommand::Get {
            item,
            vault,
            references: want_references,
            reveal,
        } => {
            let vault = client.vaults().find(&vault).await?.id;
            let id = client.items().find(&vault, &item).await?.id;
            let item = client.items().get(&vault, &id).await?;
            if want_references {
                let refs = references(&client, &item).await?;
                match format {
                    Format::Json => output::json(&refs)?,
                    Format::Table => output::table(
                        &["FIELD", "REFERENCE"],
                        &refs
                            .into_iter()
                            .map(|r| vec![r.title, r.reference])
                            .collect::<Vec<_>>(),
                    )?,
                }
            } else {
                output::item(&item, format, reveal)?;
            }
        }
        ItemCommand::Create {
            vault,
            title,
            category,
            fields: edits,
        } => {
            let vault = client.vaults().find(&vault).await?.id;
            let (mut fields, mut sections) = (Vec::new(), Vec::new());
            let mut assignments = edits.assignments.clone();
            assignments.extend(generated_password(edits.generate_password.as_deref())?);
            assign::apply(&mut fields, &mut sections, &assignments)?;
            let item = client
                .items()
                .create(ItemCreateParams {
                    fields: Some(fields),
                    sections: Some(sections),
                    notes: edits.notes,
                    tags: edits.tags.as_deref().map(args::split_list),
                    ..ItemCreateParams::new(category, &vault, title)
                })
                .await?;
            output::item(&item, format, false)?;
        }
        ItemCommand::Edit {
            item,
            vault,
            title,
            fields: edits,
        } => {
            let vault = client.vaults().find(&vault).await?.id;
            let id = client.items().find(&vault, &item).await?.id;
            let mut item = client.items().get(&vault, &id).await?;
            let mut assignments = edits.assignments.clone();
            assignments.extend(generated_password(edits.generate_password.as_deref())?);
            assign::apply(&mut item.fields, &mut item.sections, &assignments)?;
            if let Some(title) = title {
                item.title = title;
            }
            if let Some(tags) = edits.tags {
                item.tags = args::split_list(&tags);
            }
            if let Some(notes) = edits.notes {
                item.notes = notes;
            }
            let item = client.items().put(&item).await?;
            output::item(&item, format, false)?;
        }
        ItemCommand::Delete { item, vault } => {
            let vault = client.vaults().find(&vault).await?.id;
            // An item the client cannot decrypt has no overview to find (`find` says so);
            // by the id its warning names, it can still be deleted.
            let unreadable = client
                .unreadable_records()
                .iter()
                .any(|r| r.vault_id == vault && r.item_id.as_deref() == Some(item.as_str()));
            let id = if unreadable {
                item
            } else {
                client.items().find(&vault, &item).await?.id
            };
            client.items().delete(&vault, &id).await?;
            output::done(format, &id, &format!("Deleted item {id}."))?;
        }
        ItemCommand::Share(args) => share::share_item(args, &client, format).await?,
        ItemCommand::Archive { item, vault } => {
            let vault = client.vaults().find(&vault).await?.id;
            let id = client.items().find(&vault, &item).await?.id;
            client.items().archive(&vault, &id).await?;
            output::done(format, &id, &format!("Archived item {id}."))?;
        }
        ItemCommand::File { command } => return file::file(command, ctx).await,
        ItemCommand::List {
            vault,
            tags,
            categories,
            include_archived,
        } => {
            let vault = client.vaults().find(&vault).await?.id;
            let categories = categories
                .as_deref()
                .map(|c| {
                    args::split_list(c)
                        .iter()
                        .map(|c| parse_category(c))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()
                .map_err(Failure::usage)?;
            let filters = ItemListFilters {
                state: include_archived.then_some(ItemListFilter::ByState(
                    ItemListFilterByStateInner {
                        active: true,
                        archived: true,
                    },
                )),
                tag: tags,
                ..ItemListFilters::default()
            };
            let mut items = client.items().list(&vault, &filters).await?;
            if let Some(categories) = categories {
                items.retain(|i| categories.contains(&i.category));
            }
            match format {
                Format::Json => output::json(&items)?,
                Format::Table => output::table(
                    &["ID", "TITLE", "CATEGORY", "STATE", "TAGS"],
                    &items
                        .iter()
                        .map(|i| {
                            vec![
                                i.id.clone(),
                                i.title.clone(),
                                output::enum_name(&i.category),
                                output::enum_name(&i.state),
                                i.tags.join(","),
                            ]
                        })
                        .collect::<Vec<_>>(),
                )?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert_eq!(
            parse_category("api-credentials"),
            Ok(ItemCategory::ApiCredentials)
        );
        assert_eq!(parse_category("LOGIN"), Ok(ItemCategory::Login));
        assert!(parse_category("spaceship").is_err());
    }
}
