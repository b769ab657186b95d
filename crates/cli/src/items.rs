//! `sesame item …`, with the assignment statements of `item create` and `item edit`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use secrecy::ExposeSecret as _;
use serde::Serialize;
use sesame_core::model::ItemListFilters;
use sesame_core::model::{
    Item, ItemCategory, ItemCreateParams, ItemField, ItemFieldType, ItemListFilter,
    ItemListFilterByStateInner, ItemSection,
};
use sesame_core::reference::{ReferencePart, SecretReference};
use sesame_core::Client;

use crate::exit::{CliResult, Failure};
use crate::manage::{done, vault_id};
use crate::output::{self, Format};
use crate::Ctx;

/// One `[section.]field[type]=value` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assignment {
    pub(crate) section: Option<String>,
    pub(crate) field: String,
    /// `None`: text, or concealed for a field named `password`. `Some(None)`: delete.
    pub(crate) field_type: Option<Option<ItemFieldType>>,
    pub(crate) value: String,
}

/// Field types by their assignment names.
fn field_type(name: &str) -> Option<Option<ItemFieldType>> {
    Some(Some(
        match name.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "text" | "string" => ItemFieldType::Text,
            "password" | "concealed" => ItemFieldType::Concealed,
            "email" => ItemFieldType::Email,
            "url" => ItemFieldType::Url,
            "phone" => ItemFieldType::Phone,
            "date" => ItemFieldType::Date,
            "monthyear" => ItemFieldType::MonthYear,
            "otp" | "totp" => ItemFieldType::Totp,
            "menu" => ItemFieldType::Menu,
            "reference" => ItemFieldType::Reference,
            "sshkey" => ItemFieldType::SshKey,
            "delete" => return Some(None),
            _ => return None,
        },
    ))
}

/// Parses `[section.]field[type]=value`; `\` escapes `.`, `=`, `[`, `]` and `\` in the
/// name part. The value is taken as written.
pub(crate) fn parse_assignment(text: &str) -> Result<Assignment, String> {
    let mut parts: Vec<String> = vec![String::new()];
    let mut kind: Option<String> = None;
    let mut chars = text.char_indices();
    let value_at = loop {
        let Some((i, c)) = chars.next() else {
            return Err(format!(
                "{text:?} is not an assignment [section.]field[type]=value"
            ));
        };
        match c {
            '\\' => match chars.next() {
                Some((_, e)) if kind.is_none() => {
                    if let Some(last) = parts.last_mut() {
                        last.push(e);
                    }
                }
                Some((_, e)) => kind.get_or_insert_with(String::new).push(e),
                None => return Err(format!("{text:?} ends with a lone \\")),
            },
            '=' => break i + 1,
            '.' if kind.is_none() && parts.len() == 1 => parts.push(String::new()),
            '[' if kind.is_none() => kind = Some(String::new()),
            ']' if kind.is_some() => match chars.next() {
                Some((i, '=')) => break i + 1,
                _ => return Err(format!("{text:?}: [type] must come just before =")),
            },
            c => match kind.as_mut() {
                Some(kind) => kind.push(c),
                None => {
                    if let Some(last) = parts.last_mut() {
                        last.push(c);
                    }
                }
            },
        }
    };
    let (section, field) = match parts.len() {
        2 => (Some(parts[0].clone()), parts[1].clone()),
        _ => (None, parts[0].clone()),
    };
    if field.is_empty() || section.as_deref() == Some("") {
        return Err(format!(
            "{text:?}: the field (and section) names must not be empty"
        ));
    }
    let field_type = match kind {
        None => None,
        Some(kind) => Some(field_type(&kind).ok_or_else(|| {
            format!(
                "{text:?}: unknown field type {kind:?}; use text, password, email, url, phone, \
                 date, monthYear, otp, menu, reference, sshKey or delete"
            )
        })?),
    };
    Ok(Assignment {
        section,
        field,
        field_type,
        value: text[value_at..].to_owned(),
    })
}

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

/// A lowercase id made from a title, unique among `taken`.
pub(crate) fn slug(title: &str, taken: &[String]) -> String {
    let mut base: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if base.is_empty() {
        base = "field".to_owned();
    }
    let mut id = base.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// Applies assignments to fields and sections.
fn apply(
    fields: &mut Vec<ItemField>,
    sections: &mut Vec<ItemSection>,
    assignments: &[Assignment],
) -> CliResult {
    for a in assignments {
        let section_id = a.section.as_ref().map(|title| {
            match sections
                .iter()
                .find(|s| s.id == *title || s.title.eq_ignore_ascii_case(title))
            {
                Some(s) => s.id.clone(),
                None => {
                    let taken: Vec<String> = sections.iter().map(|s| s.id.clone()).collect();
                    let id = slug(title, &taken);
                    sections.push(ItemSection {
                        id: id.clone(),
                        title: title.clone(),
                    });
                    id
                }
            }
        });
        let existing = fields.iter().position(|f| {
            f.section_id == section_id
                && (f.id == a.field || f.title.eq_ignore_ascii_case(&a.field))
        });
        match (a.field_type, existing) {
            (Some(None), Some(i)) => {
                fields.remove(i);
            }
            (Some(None), None) => {
                return Err(Failure::new(
                    crate::exit::Kind::NotFound,
                    format!(
                        "cannot delete field {:?}: the item has no such field",
                        a.field
                    ),
                ))
            }
            (kind, Some(i)) => {
                fields[i].value.clone_from(&a.value);
                if let Some(Some(kind)) = kind {
                    fields[i].field_type = kind;
                }
                fields[i].details = None;
            }
            (kind, None) => {
                let kind = kind
                    .flatten()
                    .unwrap_or(if a.field.eq_ignore_ascii_case("password") {
                        ItemFieldType::Concealed
                    } else {
                        ItemFieldType::Text
                    });
                let taken: Vec<String> = fields.iter().map(|f| f.id.clone()).collect();
                let mut field = ItemField::new(slug(&a.field, &taken), &a.field, kind, &a.value);
                field.section_id = section_id;
                fields.push(field);
            }
        }
    }
    Ok(())
}

/// `--generate-password[=RECIPE]` as an assignment to the `password` field.
fn generated_password(recipe: Option<&str>) -> CliResult<Option<Assignment>> {
    let Some(spec) = recipe else {
        return Ok(None);
    };
    let recipe = crate::tools::parse_recipe(spec).map_err(Failure::usage)?;
    let generated = sesame_core::password::generate_password(&recipe)?;
    Ok(Some(Assignment {
        section: None,
        field: "password".to_owned(),
        field_type: Some(Some(ItemFieldType::Concealed)),
        value: generated.password().expose_secret().to_owned(),
    }))
}

pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What `item create` and `item edit` share.
#[derive(Debug, Args)]
pub(crate) struct ItemFieldsArgs {
    /// Assignments `[section.]field[type]=value` (escape . = [ ] \ in names with \).
    /// Types: text, password, email, url, phone, date, monthYear, otp, menu, reference,
    /// sshKey; `field[delete]=` removes a field (edit).
    #[arg(value_name = "ASSIGNMENT", value_parser = parse_assignment)]
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
    Share(crate::shares::ShareItemArgs),
    /// Attach, download, list and delete an item's files.
    #[command(
        after_help = "Examples:\n  sesame item file attach Postgres --vault Infra ./ca.pem\n  \
        sesame item file get Postgres ca.pem --vault Infra -o ca.pem\n  \
        sesame item file list Postgres --vault Infra"
    )]
    File {
        #[command(subcommand)]
        command: crate::files::FileCommand,
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

/// The id of the item named or identified by `wanted` in `vault`, archived ones included.
pub(crate) async fn item_id(client: &Client, vault: &str, wanted: &str) -> CliResult<String> {
    let filters = ItemListFilters {
        state: Some(ItemListFilter::ByState(ItemListFilterByStateInner {
            active: true,
            archived: true,
        })),
        ..ItemListFilters::default()
    };
    let items = client.items().list(vault, &filters).await?;
    // An item the client cannot decrypt is not listed; by its id it can still be deleted.
    if client
        .unreadable_records()
        .iter()
        .any(|r| r.vault_id == vault && r.item_id.as_deref() == Some(wanted))
    {
        return Ok(wanted.to_owned());
    }
    let mut active: Vec<_> = items
        .iter()
        .filter(|i| i.state == sesame_core::model::ItemState::Active)
        .cloned()
        .collect();
    // Prefer active items when a title also names archived ones.
    if !active
        .iter()
        .any(|i| i.id == wanted || i.title.eq_ignore_ascii_case(wanted))
    {
        active = items;
    }
    Ok(crate::manage::pick_item(wanted, active)?.id)
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
        // A title shared with another field of the same section would be ambiguous.
        let shared = item
            .fields
            .iter()
            .filter(|f| {
                f.section_id == field.section_id && f.title.eq_ignore_ascii_case(&field.title)
            })
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

pub(crate) fn print_item(item: &Item, format: Format, reveal: bool) -> CliResult {
    if format == Format::Json {
        return output::json(item);
    }
    let kind = |v: &dyn erased::ToJson| v.name();
    let mut rows = vec![
        vec!["ID".to_owned(), item.id.clone()],
        vec!["Title".to_owned(), item.title.clone()],
        vec!["Vault".to_owned(), item.vault_id.clone()],
        vec!["Category".to_owned(), kind(&item.category)],
        vec!["Version".to_owned(), item.version.to_string()],
    ];
    if !item.tags.is_empty() {
        rows.push(vec!["Tags".to_owned(), item.tags.join(", ")]);
    }
    if !item.notes.is_empty() {
        rows.push(vec!["Notes".to_owned(), item.notes.clone()]);
    }
    rows.extend(field_rows(&item.fields, &item.sections, reveal));
    output::table(&["FIELD", "VALUE"], &rows)
}

/// One table row per field, `section.title (type)` and its value; concealed values (and
/// one-time password secrets) only with `reveal`.
pub(crate) fn field_rows(
    fields: &[sesame_core::model::ItemField],
    sections: &[sesame_core::model::ItemSection],
    reveal: bool,
) -> Vec<Vec<String>> {
    let kind = |v: &dyn erased::ToJson| v.name();
    fields
        .iter()
        .map(|field| {
            let section = field
                .section_id
                .as_ref()
                .and_then(|id| sections.iter().find(|s| &s.id == id))
                .map(|s| format!("{}.", s.title))
                .unwrap_or_default();
            let hidden = matches!(
                field.field_type,
                ItemFieldType::Concealed | ItemFieldType::Totp | ItemFieldType::SshKey
            );
            let value = if hidden && !reveal {
                "[concealed; --reveal shows it]".to_owned()
            } else {
                field.value.clone()
            };
            vec![
                format!("{section}{} ({})", field.title, kind(&field.field_type)),
                value,
            ]
        })
        .collect()
}

/// Serde names of model enums, for tables.
mod erased {
    pub(crate) trait ToJson {
        fn name(&self) -> String;
    }

    impl<T: serde::Serialize> ToJson for T {
        fn name(&self) -> String {
            serde_json::to_value(self)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }
    }
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
            let vault = vault_id(&client, &vault).await?;
            let id = item_id(&client, &vault, &item).await?;
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
                print_item(&item, format, reveal)?;
            }
        }
        ItemCommand::Create {
            vault,
            title,
            category,
            fields: args,
        } => {
            let vault = vault_id(&client, &vault).await?;
            let (mut fields, mut sections) = (Vec::new(), Vec::new());
            let mut assignments = args.assignments.clone();
            assignments.extend(generated_password(args.generate_password.as_deref())?);
            apply(&mut fields, &mut sections, &assignments)?;
            let item = client
                .items()
                .create(ItemCreateParams {
                    fields: Some(fields),
                    sections: Some(sections),
                    notes: args.notes,
                    tags: args.tags.as_deref().map(split_list),
                    ..ItemCreateParams::new(category, &vault, title)
                })
                .await?;
            print_item(&item, format, false)?;
        }
        ItemCommand::Edit {
            item,
            vault,
            title,
            fields: args,
        } => {
            let vault = vault_id(&client, &vault).await?;
            let id = item_id(&client, &vault, &item).await?;
            let mut item = client.items().get(&vault, &id).await?;
            let mut assignments = args.assignments.clone();
            assignments.extend(generated_password(args.generate_password.as_deref())?);
            apply(&mut item.fields, &mut item.sections, &assignments)?;
            if let Some(title) = title {
                item.title = title;
            }
            if let Some(tags) = args.tags {
                item.tags = split_list(&tags);
            }
            if let Some(notes) = args.notes {
                item.notes = notes;
            }
            let item = client.items().put(&item).await?;
            print_item(&item, format, false)?;
        }
        ItemCommand::Delete { item, vault } => {
            let vault = vault_id(&client, &vault).await?;
            let id = item_id(&client, &vault, &item).await?;
            client.items().delete(&vault, &id).await?;
            done(format, &id, &format!("Deleted item {id}."))?;
        }
        ItemCommand::Share(args) => crate::shares::share_item(args, &client, format).await?,
        ItemCommand::Archive { item, vault } => {
            let vault = vault_id(&client, &vault).await?;
            let id = item_id(&client, &vault, &item).await?;
            client.items().archive(&vault, &id).await?;
            done(format, &id, &format!("Archived item {id}."))?;
        }
        ItemCommand::File { command } => return crate::files::file(command, ctx).await,
        ItemCommand::List {
            vault,
            tags,
            categories,
            include_archived,
        } => {
            let vault = vault_id(&client, &vault).await?;
            let categories = categories
                .as_deref()
                .map(|c| {
                    split_list(c)
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
                                erased::ToJson::name(&i.category),
                                erased::ToJson::name(&i.state),
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

    fn a(text: &str) -> Assignment {
        parse_assignment(text).unwrap()
    }

    #[test]
    fn assignments_with_sections_types_and_escapes() {
        assert_eq!(
            a("username=admin"),
            Assignment {
                section: None,
                field: "username".into(),
                field_type: None,
                value: "admin".into()
            }
        );
        let x = a("admin.host[url]=https://db?x=1");
        assert_eq!(x.section.as_deref(), Some("admin"));
        assert_eq!(x.field, "host");
        assert_eq!(x.field_type, Some(Some(ItemFieldType::Url)));
        assert_eq!(x.value, "https://db?x=1");
        let x = a(r"my\.dotted\=name\[1\]=v");
        assert_eq!((x.section, x.field.as_str()), (None, "my.dotted=name[1]"));
        assert_eq!(a("old[delete]=").field_type, Some(None));
        assert_eq!(
            a("x[password]=").field_type,
            Some(Some(ItemFieldType::Concealed))
        );
        assert!(parse_assignment("novalue").is_err());
        assert!(parse_assignment("f[nope]=1").unwrap_err().contains("nope"));
        assert!(parse_assignment("f[text]x=1").is_err());
        assert!(parse_assignment(".f=1").is_err());
    }

    #[test]
    fn apply_adds_replaces_and_deletes() {
        let (mut fields, mut sections) = (Vec::new(), Vec::new());
        apply(
            &mut fields,
            &mut sections,
            &[a("password=one"), a("Admin.host=h"), a("user=u")],
        )
        .unwrap();
        assert_eq!(fields[0].field_type, ItemFieldType::Concealed);
        assert_eq!(sections[0].title, "Admin");
        assert_eq!(fields[1].section_id.as_deref(), Some("admin"));
        apply(
            &mut fields,
            &mut sections,
            &[a("password=two"), a("user[delete]=")],
        )
        .unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].value, "two");
        assert!(apply(&mut fields, &mut sections, &[a("nope[delete]=")]).is_err());
    }

    #[test]
    fn categories_and_slugs() {
        assert_eq!(
            parse_category("api-credentials"),
            Ok(ItemCategory::ApiCredentials)
        );
        assert_eq!(parse_category("LOGIN"), Ok(ItemCategory::Login));
        assert!(parse_category("spaceship").is_err());
        assert_eq!(slug("One-time Password!", &[]), "one-time-password");
        assert_eq!(slug("x", &["x".to_owned()]), "x-2");
        assert_eq!(slug("ü", &[]), "field");
    }
}
