//! `sesame item file …`: attach, download, list and delete the files of items. Content is
//! streamed both ways with memory bounded by a few chunks (see [`crate::transfer`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;
use sesame_core::model::{FileAttributes, Item, ItemFile};

use crate::assign;
use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output::{self, Format};
use crate::transfer::{self, Transfer};

/// The section files go to when `--section` is not given.
const DEFAULT_SECTION: &str = "Files";

/// `sesame item file …`.
#[derive(Debug, Subcommand)]
pub(crate) enum FileCommand {
    /// Upload a file and attach it to an item.
    #[command(
        after_help = "Examples:\n  sesame item file attach Postgres --vault Infra ./ca.pem\n  \
        sesame item file attach Deploy --vault Infra ./id_ed25519 --name deploy-key --section Keys\n\n\
        The file goes into section --section (default \"Files\"), created if the item lacks it.\n\
        It is encrypted while it is read and uploaded, whatever its size; a progress bar is shown\n\
        when stderr is a terminal. `sesame read op://VAULT/ITEM/NAME` prints it back."
    )]
    Attach {
        /// The item's title or id.
        item: String,
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
        /// The file to upload.
        path: PathBuf,
        /// The file's name in the item (default: the name of PATH).
        #[arg(long)]
        name: Option<String>,
        /// The section to show it in, by title or id (default: Files).
        #[arg(long)]
        section: Option<String>,
    },
    /// Download a file of an item (or a Document item's document).
    #[command(
        after_help = "Examples:\n  sesame item file get Postgres ca.pem --vault Infra > ca.pem\n  \
        sesame item file get Deploy deploy-key --vault Infra -o ~/.ssh/id_deploy --file-mode 0600\n\n\
        FILE is the file's name or id (`sesame item file list` shows both). The content is\n\
        written exactly as stored; with -o it goes to a temporary file that replaces FILE only\n\
        once the whole file arrived and was authenticated."
    )]
    Get {
        /// The item's title or id.
        item: String,
        /// The file's name or id.
        file: String,
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
        /// Write the file here instead of stdout (created or replaced).
        #[arg(short = 'o', long, value_name = "FILE")]
        out_file: Option<PathBuf>,
        /// The mode of the file written by --out-file, in octal.
        #[arg(long, default_value = "0600", value_parser = crate::args::parse_mode)]
        file_mode: u32,
    },
    /// Remove a file from an item; the server deletes its content.
    #[command(after_help = "Example:\n  sesame item file delete Postgres ca.pem --vault Infra")]
    Delete {
        /// The item's title or id.
        item: String,
        /// The file's name or id.
        file: String,
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
    },
    /// List an item's files: name, id, size and section.
    #[command(
        after_help = "Examples:\n  sesame item file list Postgres --vault Infra\n  \
        sesame item file list Postgres --vault Infra --format json"
    )]
    List {
        /// The item's title or id.
        item: String,
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
    },
}

fn section_title(item: &Item, section_id: &str) -> String {
    item.sections
        .iter()
        .find(|s| s.id == section_id)
        .map_or_else(|| section_id.to_owned(), |s| s.title.clone())
}

/// What `item file list --format json` prints: the item's `files` and `document` as in
/// the SDK model.
#[derive(Serialize)]
struct FileList<'a> {
    files: &'a [ItemFile],
    document: Option<&'a FileAttributes>,
}

fn file_rows(item: &Item) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = item
        .files
        .iter()
        .map(|f| {
            vec![
                f.attributes.name.clone(),
                f.attributes.id.clone(),
                f.attributes.size.to_string(),
                section_title(item, &f.section_id),
            ]
        })
        .collect();
    if let Some(d) = &item.document {
        rows.push(vec![
            d.name.clone(),
            d.id.clone(),
            d.size.to_string(),
            "(document)".to_owned(),
        ]);
    }
    rows
}

const FILE_HEADERS: [&str; 4] = ["NAME", "ID", "SIZE", "SECTION"];

pub(crate) async fn file(command: FileCommand, ctx: &mut Ctx) -> CliResult<ExitCode> {
    let client = ctx.client().await?;
    let format = ctx.format;
    match command {
        FileCommand::Attach {
            item,
            vault,
            path,
            name,
            section,
        } => {
            let upload = transfer::open_upload(&path, name)?;
            let vault = client.vaults().find(&vault).await?.id;
            let id = client.items().find(&vault, &item).await?.id;
            let mut item = client.items().get(&vault, &id).await?;
            // A new section is saved in the same item version as the file.
            let section_id = assign::section_for(
                &mut item.sections,
                section.as_deref().unwrap_or(DEFAULT_SECTION),
            );
            let taken: Vec<String> = item
                .fields
                .iter()
                .map(|f| f.id.clone())
                .chain(item.files.iter().map(|f| f.field_id.clone()))
                .collect();
            let field_id = assign::slug(&upload.name, &taken);
            let transfer =
                Transfer::new(format, &format!("uploading {}", upload.name), upload.size);
            let result = client
                .items()
                .files()
                .attach_reader(
                    &item,
                    &upload.name,
                    &section_id,
                    &field_id,
                    upload.size,
                    transfer.wrap(upload.file),
                )
                .await;
            transfer.end(&result);
            let saved = result?;
            let attached = saved
                .files
                .iter()
                .find(|f| f.field_id == field_id)
                .ok_or_else(|| Failure::other("the saved item does not list the new file"))?;
            match format {
                Format::Json => output::json(attached)?,
                Format::Table => output::table(
                    &FILE_HEADERS,
                    &[vec![
                        attached.attributes.name.clone(),
                        attached.attributes.id.clone(),
                        attached.attributes.size.to_string(),
                        section_title(&saved, &attached.section_id),
                    ]],
                )?,
            }
        }
        FileCommand::Get {
            item,
            file,
            vault,
            out_file,
            file_mode,
        } => {
            let vault = client.vaults().find(&vault).await?.id;
            let id = client.items().find(&vault, &item).await?.id;
            let item = client.items().get(&vault, &id).await?;
            let attributes = client.items().files().find(&item, &file)?;
            transfer::download(
                &client,
                &item,
                &attributes,
                out_file.as_deref(),
                file_mode,
                format,
            )
            .await?;
        }
        FileCommand::Delete { item, file, vault } => {
            let vault = client.vaults().find(&vault).await?.id;
            let id = client.items().find(&vault, &item).await?.id;
            let item = client.items().get(&vault, &id).await?;
            let attributes = client.items().files().find(&item, &file)?;
            // An attachment has its place in the item; the document has none.
            let Some(attached) = item.files.iter().find(|f| f.attributes.id == attributes.id)
            else {
                return Err(Failure::usage(format!(
                    "{:?} is the document of Document item {:?}: replace it with `sesame \
                     document edit`, or delete the item",
                    attributes.name, item.title
                )));
            };
            client
                .items()
                .files()
                .delete(&item, &attached.section_id, &attached.field_id)
                .await?;
            output::done(
                format,
                &attributes.id,
                &format!(
                    "Deleted file {} ({}) from item {}.",
                    attributes.name, attributes.id, item.title
                ),
            )?;
        }
        FileCommand::List { item, vault } => {
            let vault = client.vaults().find(&vault).await?.id;
            let id = client.items().find(&vault, &item).await?.id;
            let item = client.items().get(&vault, &id).await?;
            match format {
                Format::Json => output::json(&FileList {
                    files: &item.files,
                    document: item.document.as_ref(),
                })?,
                Format::Table => output::table(&FILE_HEADERS, &file_rows(&item))?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
