//! `sesame item file …` (files attached to items) and `sesame document …` (Document
//! items). Content is streamed both ways with memory bounded by a few chunks, with a
//! progress bar when stderr is a terminal.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;
use sesame_core::model::{
    FileAttributes, Item, ItemCategory, ItemCreateParams, ItemFile, ItemSection,
};
use sesame_core::{Client, Error};

use crate::exit::{CliResult, Failure, Kind};
use crate::items::{item_id, print_item, slug, split_list};
use crate::manage::{done, pick, vault_id};
use crate::output::{self, Format};
use crate::progress::Transfer;
use crate::secrets::parse_mode;
use crate::Ctx;

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
        #[arg(long, default_value = "0600", value_parser = parse_mode)]
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
        #[arg(long, default_value = "0600", value_parser = parse_mode)]
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

/// A file to upload: opened, with its size and its name in the item.
struct Upload {
    file: File,
    size: u64,
    name: String,
}

fn open_upload(path: &Path, name: Option<String>) -> CliResult<Upload> {
    let fail = |e: std::io::Error| Failure::other(format!("cannot read {}: {e}", path.display()));
    let file = File::open(path).map_err(fail)?;
    let metadata = file.metadata().map_err(fail)?;
    if !metadata.is_file() {
        return Err(Failure::usage(format!(
            "{} is not a regular file; give the path of a file to upload",
            path.display()
        )));
    }
    let name = match name {
        Some(name) => name,
        None => path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                Failure::usage(format!(
                    "{} has no UTF-8 file name; give one with --name",
                    path.display()
                ))
            })?,
    };
    if name.trim().is_empty() {
        return Err(Failure::usage("the file name must not be empty"));
    }
    Ok(Upload {
        file,
        size: metadata.len(),
        name,
    })
}

/// Where downloaded content goes: stdout; a temporary file beside the target, renamed
/// over it only when the download completed; or, for a target that exists and is not a
/// regular file (`/dev/stdout`, a FIFO), the target itself.
pub(crate) enum Sink {
    Stdout(std::io::Stdout),
    File {
        temp: tempfile::NamedTempFile,
        target: PathBuf,
    },
    Direct(File),
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File { temp, .. } => temp.write(buf),
            Self::Direct(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File { temp, .. } => temp.flush(),
            Self::Direct(file) => file.flush(),
        }
    }
}

impl Sink {
    /// Stdout, or where to write `path` with `mode`.
    pub(crate) fn open(path: Option<&Path>, mode: u32) -> CliResult<Self> {
        let Some(path) = path else {
            return Ok(Self::Stdout(std::io::stdout()));
        };
        let fail =
            |e: std::io::Error| Failure::other(format!("cannot write {}: {e}", path.display()));
        let target = match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(fail)?;
                return Ok(Self::Direct(file));
            }
            // Through symlinks, so that the link stays and its target is replaced.
            Ok(_) => std::fs::canonicalize(path).map_err(fail)?,
            Err(_) => path.to_path_buf(),
        };
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = tempfile::Builder::new()
            .prefix(".sesame-download-")
            .tempfile_in(dir)
            .map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))
                .map_err(fail)?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(Self::File { temp, target })
    }

    /// Makes the content durable and moves a temporary file to its target. Dropping a
    /// sink without finishing it deletes its temporary file.
    pub(crate) fn finish(self) -> CliResult {
        match self {
            Self::File { temp, target } => {
                let fail = |e: std::io::Error| {
                    Failure::other(format!("cannot write {}: {e}", target.display()))
                };
                temp.as_file().sync_all().map_err(fail)?;
                temp.persist(&target).map_err(|e| fail(e.error))?;
                Ok(())
            }
            Self::Direct(mut file) => file
                .flush()
                .map_err(|e| Failure::other(format!("cannot write the output file: {e}"))),
            Self::Stdout(mut out) => out
                .flush()
                .map_err(|e| Failure::other(format!("cannot write to stdout: {e}"))),
        }
    }
}

/// Downloads `attributes` of `item` into stdout or `out_file`.
async fn download(
    client: &Client,
    item: &Item,
    attributes: &FileAttributes,
    out_file: Option<&Path>,
    mode: u32,
    format: Format,
) -> CliResult {
    let sink = Sink::open(out_file, mode)?;
    let transfer = Transfer::new(
        format,
        &format!("downloading {}", attributes.name),
        attributes.size,
    );
    let result = client
        .items()
        .files()
        .read_to_writer(&item.vault_id, &item.id, attributes, transfer.wrap(sink))
        .await;
    finished(&transfer, &result);
    result?.into_inner().finish()
}

/// The item's files and its document, as one list of candidates.
fn all_files(item: &Item) -> Vec<(FileAttributes, Option<&ItemFile>)> {
    let mut all: Vec<(FileAttributes, Option<&ItemFile>)> = item
        .files
        .iter()
        .map(|f| (f.attributes.clone(), Some(f)))
        .collect();
    if let Some(document) = &item.document {
        all.push((document.clone(), None));
    }
    all
}

/// The file of `item` whose id or name is `wanted`: `(attributes, None)` for the
/// document.
fn find_file<'a>(
    item: &'a Item,
    wanted: &str,
) -> CliResult<(FileAttributes, Option<&'a ItemFile>)> {
    pick(
        sesame_core::Resource::File,
        wanted,
        all_files(item),
        |(a, _)| a.id.clone(),
        |(a, _)| a.name.clone(),
    )
    .map_err(|e| {
        if e.kind == Kind::NotFound {
            Failure::new(
                Kind::NotFound,
                format!(
                    "file not found: item {:?} has no file named {wanted:?} or with that id \
                     (`sesame item file list` shows its files)",
                    item.title
                ),
            )
        } else {
            e
        }
    })
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

/// The section of `item` titled or identified by `wanted`, added to `item` if missing.
fn section_for(item: &mut Item, wanted: &str) -> String {
    if let Some(s) = item
        .sections
        .iter()
        .find(|s| s.id == wanted || s.title.eq_ignore_ascii_case(wanted))
    {
        return s.id.clone();
    }
    let taken: Vec<String> = item.sections.iter().map(|s| s.id.clone()).collect();
    let id = slug(wanted, &taken);
    item.sections.push(ItemSection {
        id: id.clone(),
        title: wanted.to_owned(),
    });
    id
}

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
            let upload = open_upload(&path, name)?;
            let vault = vault_id(&client, &vault).await?;
            let id = item_id(&client, &vault, &item).await?;
            let mut item = client.items().get(&vault, &id).await?;
            // A new section is saved in the same item version as the file.
            let section_id = section_for(&mut item, section.as_deref().unwrap_or(DEFAULT_SECTION));
            let taken: Vec<String> = item
                .fields
                .iter()
                .map(|f| f.id.clone())
                .chain(item.files.iter().map(|f| f.field_id.clone()))
                .collect();
            let field_id = slug(&upload.name, &taken);
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
            finished(&transfer, &result);
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
            let vault = vault_id(&client, &vault).await?;
            let id = item_id(&client, &vault, &item).await?;
            let item = client.items().get(&vault, &id).await?;
            let (attributes, _) = find_file(&item, &file)?;
            download(
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
            let vault = vault_id(&client, &vault).await?;
            let id = item_id(&client, &vault, &item).await?;
            let item = client.items().get(&vault, &id).await?;
            let (attributes, attached) = find_file(&item, &file)?;
            let Some(attached) = attached else {
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
            done(
                format,
                &attributes.id,
                &format!(
                    "Deleted file {} ({}) from item {}.",
                    attributes.name, attributes.id, item.title
                ),
            )?;
        }
        FileCommand::List { item, vault } => {
            let vault = vault_id(&client, &vault).await?;
            let id = item_id(&client, &vault, &item).await?;
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

/// The Document item titled or identified by `wanted`.
async fn document_item(client: &Client, vault: &str, wanted: &str) -> CliResult<Item> {
    let id = item_id(client, vault, wanted).await?;
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
            let upload = open_upload(&path, name)?;
            let vault = vault_id(&client, &vault).await?;
            let params = ItemCreateParams {
                tags: tags.as_deref().map(split_list),
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
            finished(&transfer, &result);
            print_item(&result?, format, false)?;
        }
        DocumentCommand::Get {
            document,
            vault,
            out_file,
            file_mode,
        } => {
            let vault = vault_id(&client, &vault).await?;
            let item = document_item(&client, &vault, &document).await?;
            let attributes = item.document.clone().ok_or_else(|| Error::NotFound {
                what: sesame_core::Resource::File,
                message: format!("Document item {:?} has no document", item.title),
            })?;
            download(
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
            let upload = open_upload(&path, name)?;
            let vault = vault_id(&client, &vault).await?;
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
            finished(&transfer, &result);
            print_item(&result?, format, false)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Leaves a successful transfer's bar on the terminal and removes a failed one's.
fn finished<T>(transfer: &Transfer, result: &sesame_core::Result<T>) {
    if result.is_ok() {
        transfer.finish();
    } else {
        transfer.abandon();
    }
}
