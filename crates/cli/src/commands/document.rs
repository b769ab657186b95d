//! `sesame document …`: create, get and edit Document items, whose one file is streamed
//! both ways with memory bounded by a few chunks (see [`crate::transfer`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use sesame_core::model::{Item, ItemCategory, ItemCreateParams};
use sesame_core::{Client, Error};

use crate::ctx::Ctx;
use crate::exit::{CliResult, Failure};
use crate::output;
use crate::transfer::{self, Transfer};

/// `sesame document …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DocumentCommand {
    /// Create a Document item from a file.
    #[command(
        after_help = "Examples:\n  sesame document create --vault Infra --title 'TLS bundle' ./bundle.pem\n  \
        sesame document create --vault Infra --title Backup ./db.tar.gz --tags prod,db --format json"
    )]
    Create {
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
        /// The item's title.
        #[arg(long)]
        title: String,
        /// The file to upload.
        path: PathBuf,
        /// The document's file name (default: the name of PATH).
        #[arg(long)]
        name: Option<String>,
        /// Tags, comma-separated.
        #[arg(long)]
        tags: Option<String>,
    },
    /// Download a Document item's document.
    #[command(
        after_help = "Examples:\n  sesame document get 'TLS bundle' --vault Infra > bundle.pem\n  \
        sesame document get Backup --vault Infra -o db.tar.gz --file-mode 0640"
    )]
    Get {
        /// The Document item's title or id.
        document: String,
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
        /// Write the document here instead of stdout (created or replaced).
        #[arg(short = 'o', long, value_name = "FILE")]
        out_file: Option<PathBuf>,
        /// The mode of the file written by --out-file, in octal.
        #[arg(long, default_value = "0600", value_parser = crate::args::parse_mode)]
        file_mode: u32,
    },
    /// Replace a Document item's document with a new file.
    #[command(
        after_help = "Example:\n  sesame document edit 'TLS bundle' --vault Infra ./bundle-2025.pem"
    )]
    Edit {
        /// The Document item's title or id.
        document: String,
        /// The vault's name or id.
        #[arg(long)]
        vault: String,
        /// The new file.
        path: PathBuf,
        /// The document's new file name (default: the name of PATH).
        #[arg(long)]
        name: Option<String>,
    },
}

/// The Document item titled or identified by `wanted`.
async fn document_item(client: &Client, vault: &str, wanted: &str) -> CliResult<Item> {
    let id = client.items().find(vault, wanted).await?.id;
    let item = client.items().get(vault, &id).await?;
    if item.category != ItemCategory::Document {
        return Err(Failure::usage(format!(
            "{:?} is not a Document item; its files are under `sesame item file`",
            item.title
        )));
    }
    Ok(item)
}

pub(crate) async fn document(command: DocumentCommand, ctx: &mut Ctx) -> CliResult<ExitCode> {
    let client = ctx.client().await?;
    let format = ctx.format;
    match command {
        DocumentCommand::Create {
            vault,
            title,
            path,
            name,
            tags,
        } => {
            let upload = transfer::open_upload(&path, name)?;
            let vault = client.vaults().find(&vault).await?.id;
            let params = ItemCreateParams {
                tags: tags.as_deref().map(crate::args::split_list),
                ..ItemCreateParams::new(ItemCategory::Document, &vault, title)
            };
            let transfer =
                Transfer::new(format, &format!("uploading {}", upload.name), upload.size);
            let result = client
                .items()
                .files()
                .create_document_reader(
                    params,
                    &upload.name,
                    upload.size,
                    transfer.wrap(upload.file),
                )
                .await;
            transfer.end(&result);
            output::item(&result?, format, false)?;
        }
        DocumentCommand::Get {
            document,
            vault,
            out_file,
            file_mode,
        } => {
            let vault = client.vaults().find(&vault).await?.id;
            let item = document_item(&client, &vault, &document).await?;
            let attributes = item.document.clone().ok_or_else(|| Error::NotFound {
                what: sesame_core::Resource::File,
                name: None,
                message: format!("Document item {:?} has no document", item.title),
            })?;
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
        DocumentCommand::Edit {
            document,
            vault,
            path,
            name,
        } => {
            let upload = transfer::open_upload(&path, name)?;
            let vault = client.vaults().find(&vault).await?.id;
            let item = document_item(&client, &vault, &document).await?;
            let transfer =
                Transfer::new(format, &format!("uploading {}", upload.name), upload.size);
            let result = client
                .items()
                .files()
                .replace_document_reader(
                    &item,
                    &upload.name,
                    upload.size,
                    transfer.wrap(upload.file),
                )
                .await;
            transfer.end(&result);
            output::item(&result?, format, false)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
