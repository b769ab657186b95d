//! `client.items().files()`: attach, read, delete and replace files, streamed.
//!
//! A file is encrypted with its own key as a chunked stream
//! ([`FileEncryptor`]) while it is uploaded, and decrypted chunk by chunk
//! ([`FileDecryptor`]) while it is downloaded, so memory stays at a few chunks on both
//! ends whatever the file size. Attaching uploads the blob first under a fresh file id,
//! then saves the item version that references it: an interrupted upload or a failed save
//! leaves the item as it was (see the "Files" section of [`crate::api`]).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::Method;

use crate::crypto::{
    ciphertext_len, EnvelopeContext, FileDecryptor, FileEncryptor, FileKey, VaultKey,
};
use crate::id::Id;
use crate::model::{
    DocumentCreateParams, FileAttributes, FileCreateParams, Item, ItemCreateParams, ItemFile,
};
use crate::Resource;
use crate::{Error, Result};

use super::lookup;
use super::sealed::{DetailsPlain, SealedFileKey};
use super::{parse_id, Client, Inner};

/// Chunks buffered between the reader or writer thread and the network: with 64 KiB
/// chunks, a quarter of a MiB in flight per transfer.
const CHANNEL_CHUNKS: usize = 4;
/// The slowest transfer rate a file transfer's timeout allows for, in bytes per second.
const MIN_TRANSFER_RATE: u64 = 1024 * 1024;

/// File attachments and documents, from [`Items::files`](super::Items::files).
///
/// The byte methods ([`attach`](Self::attach), [`read`](Self::read),
/// [`replace_document`](Self::replace_document)) mirror the 1Password SDK and hold the
/// whole file in memory; the streaming ones ([`attach_reader`](Self::attach_reader),
/// [`read_to_writer`](Self::read_to_writer)) move any size with memory bounded by a few
/// 64 KiB chunks.
#[derive(Debug, Clone, Copy)]
pub struct Files<'a> {
    pub(super) client: &'a Client,
}

impl Files<'_> {
    /// Attaches a file to `item` (which must be at its current version) in section
    /// `file.section_id` as field `file.field_id`, and returns the saved item.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty name, an unknown section, a field id already
    /// in use, or a file larger than the server accepts (checked before uploading);
    /// [`Error::Conflict`] when the item changed since it was read (nothing is attached);
    /// [`Error::PermissionDenied`] without `UPDATE_ITEMS`.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, item: sesame_core::model::Item) -> sesame_core::Result<()> {
    /// use sesame_core::model::FileCreateParams;
    /// let item = client.items().files().attach(&item, FileCreateParams {
    ///     name: "cert.pem".into(),
    ///     content: b"-----BEGIN CERTIFICATE-----".to_vec(),
    ///     section_id: "tls".into(),
    ///     field_id: "cert".into(),
    /// }).await?;
    /// assert_eq!(item.files.last().map(|f| f.attributes.name.as_str()), Some("cert.pem"));
    /// # Ok(()) }
    /// ```
    pub async fn attach(&self, item: &Item, file: FileCreateParams) -> Result<Item> {
        let size = file.content.len() as u64;
        self.attach_reader(
            item,
            &file.name,
            &file.section_id,
            &file.field_id,
            size,
            io::Cursor::new(file.content),
        )
        .await
    }

    /// [`attach`](Self::attach) streaming the content from `reader`, which must yield
    /// exactly `size` bytes; memory stays bounded whatever the size.
    ///
    /// # Errors
    ///
    /// As [`attach`](Self::attach); also [`Error::InvalidInput`] when `reader` fails or
    /// yields more or fewer than `size` bytes (the upload is abandoned, nothing attached).
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, item: sesame_core::model::Item) -> sesame_core::Result<()> {
    /// let file = std::fs::File::open("backup.tar").map_err(|e| sesame_core::Error::invalid_input("path", e.to_string()))?;
    /// let size = file.metadata().map_err(|e| sesame_core::Error::invalid_input("path", e.to_string()))?.len();
    /// client.items().files().attach_reader(&item, "backup.tar", "files", "backup", size, file).await?;
    /// # Ok(()) }
    /// ```
    pub async fn attach_reader<R: Read + Send + 'static>(
        &self,
        item: &Item,
        name: &str,
        section_id: &str,
        field_id: &str,
        size: u64,
        reader: R,
    ) -> Result<Item> {
        check_file_params(item, name, section_id, field_id)?;
        let inner = &self.client.inner;
        let vault = parse_id("item.vault_id", &item.vault_id)?;
        let id = parse_id("item.id", &item.id)?;
        let key = inner.vault_key(&vault).await?;
        let (attributes, sealed) = inner
            .upload_file(&vault, &id, &key, name, size, reader)
            .await?;
        let mut updated = item.clone();
        updated.files.push(ItemFile {
            attributes,
            section_id: section_id.to_owned(),
            field_id: field_id.to_owned(),
        });
        self.client
            .items()
            .put_with_keys(&updated, vec![sealed])
            .await
    }

    /// The content of a file of an item (an attachment or the document), decrypted and
    /// authenticated. `attributes` comes from [`Item::files`] or [`Item::document`].
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when the item has no such file; [`Error::Integrity`] when the
    /// stored content was tampered with or truncated (no content is returned).
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, item: sesame_core::model::Item) -> sesame_core::Result<()> {
    /// let content = client.items().files().read(&item.vault_id, &item.id, &item.files[0].attributes).await?;
    /// # drop(content); Ok(()) }
    /// ```
    pub async fn read(
        &self,
        vault_id: &str,
        item_id: &str,
        attributes: &FileAttributes,
    ) -> Result<Vec<u8>> {
        let capacity = usize::try_from(attributes.size.min(64 * 1024 * 1024)).unwrap_or(0);
        self.read_to_writer(vault_id, item_id, attributes, Vec::with_capacity(capacity))
            .await
    }

    /// [`read`](Self::read) streaming the content into `writer`, which is returned when
    /// the whole file was written and authenticated; memory stays bounded whatever the
    /// size.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read). Chunks are written as they are authenticated, so after an
    /// error `writer` may hold a prefix of the file: discard it (for example write to a
    /// temporary file and rename it only on success).
    pub async fn read_to_writer<W: Write + Send + 'static>(
        &self,
        vault_id: &str,
        item_id: &str,
        attributes: &FileAttributes,
        writer: W,
    ) -> Result<W> {
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", vault_id)?;
        let item = parse_id("item_id", item_id)?;
        let key = inner.vault_key(&vault).await?;
        let (_, details, _) = inner.fetch_item(&vault, &item, &key).await?;
        inner
            .download_file(&vault, &item, &key, &details, &attributes.id, writer)
            .await
    }

    /// [`read`](Self::read) into the file at `path`, replaced only once the whole content
    /// arrived and was authenticated (see [`OutputFile`]): a new file gets `mode`
    /// (default `0o600`, owner only) before any content is written, and an existing one
    /// is replaced by a file of that mode. After an error nothing is left at `path` that
    /// was not there before. Returns the number of bytes written. Memory stays bounded
    /// whatever the size.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read); [`Error::InvalidInput`] (`path`) when the file cannot be
    /// created, written or renamed into place, or `mode` is above `0o7777`.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, item: sesame_core::model::Item) -> sesame_core::Result<()> {
    /// let key = client.items().files().find(&item, "id_deploy")?;
    /// let files = client.items().files();
    /// files.read_to_path(&item.vault_id, &item.id, &key, "id_deploy", Some(0o600)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn read_to_path(
        &self,
        vault_id: &str,
        item_id: &str,
        attributes: &FileAttributes,
        path: impl AsRef<Path>,
        mode: Option<u32>,
    ) -> Result<u64> {
        let path = path.as_ref();
        let failed = |e: io::Error| {
            Error::invalid_input("path", format!("cannot write {}: {e}", path.display()))
        };
        let out = OutputFile::create(path, mode).map_err(failed)?;
        let out = self
            .read_to_writer(vault_id, item_id, attributes, out)
            .await?;
        out.commit().map_err(failed)
    }

    /// The file of `item` (an attachment, or a Document item's document) that
    /// `name_or_id` names, by the rule secret references follow (DESIGN.md §4): the file
    /// with that id, else the one file whose name equals it ignoring case (Unicode
    /// lowercase folding). Offline: it looks only at `item`.
    ///
    /// The result is what [`read`](Self::read) takes; the attachment's place in the item
    /// (for [`delete`](Self::delete)) is the entry of [`Item::files`] with its id, and
    /// there is none when it is the document.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no file of `item` has that id or name;
    /// [`Error::Ambiguous`], listing their ids, when several names match.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, item: sesame_core::model::Item) -> sesame_core::Result<()> {
    /// let files = client.items().files();
    /// let cert = files.find(&item, "CERT.pem")?; // the file named "cert.pem"
    /// let content = files.read(&item.vault_id, &item.id, &cert).await?;
    /// # drop(content); Ok(()) }
    /// ```
    pub fn find(&self, item: &Item, name_or_id: &str) -> Result<FileAttributes> {
        let candidates = item
            .files
            .iter()
            .map(|f| &f.attributes)
            .chain(item.document.as_ref());
        lookup::find(
            Resource::File,
            name_or_id,
            candidates,
            |f| f.id.as_str(),
            |f| f.name.as_str(),
            || {
                format!(
                    "item {:?} has no file named {name_or_id:?} or with that id",
                    item.title
                )
            },
        )
        .cloned()
    }

    /// Removes the file shown as `field_id` in `section_id` from `item` and returns the
    /// saved item; the server frees its content.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when the item has no file there; [`Error::Conflict`] when the
    /// item changed since it was read.
    pub async fn delete(&self, item: &Item, section_id: &str, field_id: &str) -> Result<Item> {
        let mut updated = item.clone();
        let before = updated.files.len();
        updated
            .files
            .retain(|f| !(f.section_id == section_id && f.field_id == field_id));
        if updated.files.len() == before {
            return Err(Error::NotFound {
                what: crate::Resource::File,
                name: None,
                message: format!(
                    "item {:?} has no file in section {section_id:?} as field {field_id:?}",
                    item.title
                ),
            });
        }
        self.client.items().put(&updated).await
    }

    /// Creates a Document item whose document is `size` bytes streamed from `reader`
    /// (`params.document` must be `None`); memory stays bounded whatever the size. The
    /// document is uploaded before the item is created, so a failure creates no item.
    ///
    /// # Errors
    ///
    /// As [`Items::create`](super::Items::create) and [`attach_reader`](Self::attach_reader);
    /// [`Error::InvalidInput`] when `params` is not of the Document category or already
    /// carries a document.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, vault_id: &str) -> sesame_core::Result<()> {
    /// use sesame_core::model::{ItemCategory, ItemCreateParams};
    /// let file = std::fs::File::open("id_ed25519").map_err(|e| sesame_core::Error::invalid_input("path", e.to_string()))?;
    /// let size = file.metadata().map_err(|e| sesame_core::Error::invalid_input("path", e.to_string()))?.len();
    /// let params = ItemCreateParams::new(ItemCategory::Document, vault_id, "Deploy key");
    /// let item = client.items().files().create_document_reader(params, "id_ed25519", size, file).await?;
    /// assert_eq!(item.document.map(|d| d.size), Some(size));
    /// # Ok(()) }
    /// ```
    pub async fn create_document_reader<R: Read + Send + 'static>(
        &self,
        params: ItemCreateParams,
        name: &str,
        size: u64,
        reader: R,
    ) -> Result<Item> {
        if params.document.is_some() {
            return Err(Error::invalid_input(
                "params.document",
                "give the document either in params or as the reader, not both",
            ));
        }
        self.client
            .items()
            .create_streaming(
                params,
                Some(StreamedDocument {
                    name: name.to_owned(),
                    size,
                    reader: Box::new(reader),
                }),
            )
            .await
    }

    /// Replaces the document of a Document item and returns the saved item; the server
    /// frees the old content.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the item is not of the Document category or the file
    /// is larger than the server accepts; [`Error::Conflict`] when the item changed since
    /// it was read.
    pub async fn replace_document(
        &self,
        item: &Item,
        document: DocumentCreateParams,
    ) -> Result<Item> {
        let size = document.content.len() as u64;
        self.replace_document_reader(
            item,
            &document.name,
            size,
            io::Cursor::new(document.content),
        )
        .await
    }

    /// [`replace_document`](Self::replace_document) streaming the content from `reader`,
    /// which must yield exactly `size` bytes.
    ///
    /// # Errors
    ///
    /// As [`replace_document`](Self::replace_document) and
    /// [`attach_reader`](Self::attach_reader).
    pub async fn replace_document_reader<R: Read + Send + 'static>(
        &self,
        item: &Item,
        name: &str,
        size: u64,
        reader: R,
    ) -> Result<Item> {
        if item.category != crate::model::ItemCategory::Document {
            return Err(Error::invalid_input(
                "item",
                format!(
                    "{:?} is a {:?} item; only Document items have a document (attach files \
                     to other items with files().attach)",
                    item.title, item.category
                ),
            ));
        }
        check_name(name)?;
        let inner = &self.client.inner;
        let vault = parse_id("item.vault_id", &item.vault_id)?;
        let id = parse_id("item.id", &item.id)?;
        let key = inner.vault_key(&vault).await?;
        let (attributes, sealed) = inner
            .upload_file(&vault, &id, &key, name, size, reader)
            .await?;
        let mut updated = item.clone();
        updated.document = Some(attributes);
        self.client
            .items()
            .put_with_keys(&updated, vec![sealed])
            .await
    }
}

/// A file being written at a path, for content that must arrive whole or not at all (a
/// downloaded file, a secret, a rendered template): the content goes to a temporary file
/// beside the path, created with the file's mode before anything is written, and
/// [`commit`](Self::commit) flushes it to disk and renames it over the path. Dropped
/// without a commit (after an error, say), the temporary file is deleted and the path is
/// left as it was.
///
/// A path that is a symbolic link keeps the link: its target is replaced. A path that
/// exists and is not a regular file (a FIFO, `/dev/stdout`) is written in place instead,
/// and its mode is left alone. On other systems than Unix the mode is not set.
///
/// ```
/// use std::io::Write as _;
/// use sesame_core::client::OutputFile;
/// # let dir = std::env::temp_dir().join(sesame_core::id::Id::generate().as_str());
/// # std::fs::create_dir(&dir)?;
/// let path = dir.join("secret.txt");
/// let mut out = OutputFile::create(&path, Some(0o600))?;
/// out.write_all(b"s3cr3t")?;
/// assert!(!path.exists()); // not before the commit
/// assert_eq!(out.commit()?, 6);
/// assert_eq!(std::fs::read(&path)?, b"s3cr3t");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct OutputFile {
    file: std::fs::File,
    /// The temporary file and the path it replaces; `None` when writing in place.
    pending: Option<(PathBuf, PathBuf)>,
    written: u64,
}

impl OutputFile {
    /// The mode of a file created without one: readable and writable by its owner only.
    pub const DEFAULT_MODE: u32 = 0o600;

    /// Starts writing `path` with `mode` (default [`DEFAULT_MODE`](Self::DEFAULT_MODE)).
    ///
    /// # Errors
    ///
    /// The I/O error of resolving `path` or creating the temporary file beside it;
    /// [`io::ErrorKind::InvalidInput`] for a `mode` above `0o7777`.
    pub fn create(path: impl AsRef<Path>, mode: Option<u32>) -> io::Result<Self> {
        let path = path.as_ref();
        let mode = mode.unwrap_or(Self::DEFAULT_MODE);
        if mode > 0o7777 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{mode:o} is not a file mode (0 to 7777, octal)"),
            ));
        }
        let target = match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                let file = std::fs::OpenOptions::new().write(true).open(path)?;
                return Ok(Self {
                    file,
                    pending: None,
                    written: 0,
                });
            }
            // Through symbolic links, so that a link stays and its target is replaced.
            Ok(_) => std::fs::canonicalize(path)?,
            Err(_) => path.to_path_buf(),
        };
        let dir = parent_dir(&target).to_path_buf();
        let mut attempts = 0;
        loop {
            let temp = dir.join(format!(".sesame-download-{}", Id::generate()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(mode);
            }
            match options.open(&temp) {
                Ok(file) => {
                    // From here on, dropping `out` deletes the temporary file.
                    let out = Self {
                        file,
                        pending: Some((temp, target)),
                        written: 0,
                    };
                    // Exactly `mode`, whatever the umask took away at creation.
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt as _;
                        out.file
                            .set_permissions(std::fs::Permissions::from_mode(mode))?;
                    }
                    #[cfg(not(unix))]
                    let _ = mode;
                    return Ok(out);
                }
                // A random name taken already: try another, a few times.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 3 => {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Makes the content durable and puts it at the path; the number of bytes written.
    ///
    /// # Errors
    ///
    /// The I/O error of flushing, syncing or renaming; the temporary file is then
    /// deleted and the path left as it was.
    pub fn commit(mut self) -> io::Result<u64> {
        self.file.flush()?;
        let Some((temp, target)) = self.pending.take() else {
            return Ok(self.written);
        };
        if let Err(e) = self
            .file
            .sync_all()
            .and_then(|()| std::fs::rename(&temp, &target))
        {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        // The rename itself is durable once the directory is. Best effort: not every
        // system opens a directory as a file.
        if let Ok(dir) = std::fs::File::open(parent_dir(&target)) {
            let _ = dir.sync_all();
        }
        Ok(self.written)
    }
}

/// The directory a path is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some((temp, _)) = self.pending.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid_input("name", "a file needs a name"));
    }
    Ok(())
}

/// A new file must have a name, go in one of the item's sections and use a field id that
/// no field or file of the item uses.
fn check_file_params(item: &Item, name: &str, section_id: &str, field_id: &str) -> Result<()> {
    check_name(name)?;
    if field_id.is_empty() {
        return Err(Error::invalid_input("field_id", "a file needs a field id"));
    }
    if !item.sections.iter().any(|s| s.id == section_id) {
        return Err(Error::invalid_input(
            "section_id",
            format!(
                "file {name:?} is in section {section_id:?}, which item {:?} does not have; \
                 add the section first",
                item.title
            ),
        ));
    }
    let taken = item.fields.iter().any(|f| f.id == field_id)
        || item.files.iter().any(|f| f.field_id == field_id);
    if taken {
        return Err(Error::invalid_input(
            "field_id",
            format!(
                "field id {field_id:?} is already used in item {:?}; choose another",
                item.title
            ),
        ));
    }
    Ok(())
}

/// How long a transfer of `length` bytes may take: the client timeout, plus one second
/// per MiB.
fn transfer_timeout(base: Duration, length: u64) -> Duration {
    base + Duration::from_secs(length / MIN_TRANSFER_RATE)
}

/// An `io::Error` from a transfer pipeline as the crate's error: integrity and network
/// failures keep their kind, anything else is the caller's reader or writer.
fn pipeline_error(e: io::Error, what: &str) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        if let Some(inner) = e.into_inner() {
            if let Ok(error) = inner.downcast::<Error>() {
                return *error;
            }
        }
        return Error::Server(format!("the {what} failed"));
    }
    Error::invalid_input(what, format!("failed: {e}"))
}

/// Sends each written buffer into the upload body.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<io::Result<Vec<u8>>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx.blocking_send(Ok(buf.to_vec())).map_err(|_| {
            io::Error::other(Error::Network(
                "the upload connection closed before the file was sent".into(),
            ))
        })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads the download body as it arrives.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    offset: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.offset == self.current.len() {
            match self.rx.blocking_recv() {
                Some(Ok(bytes)) => {
                    self.current = bytes;
                    self.offset = 0;
                }
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let rest = &self.current[self.offset..];
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.offset += n;
        Ok(n)
    }
}

/// Encrypts exactly `size` bytes of `reader` into the channel; on any failure it sends an
/// error into the channel, so the request body breaks off and the server stores nothing.
fn encrypt_into<R: Read>(
    reader: R,
    size: u64,
    key: &FileKey,
    file: &Id,
    tx: tokio::sync::mpsc::Sender<io::Result<Vec<u8>>>,
) -> Result<()> {
    let abort = tx.clone();
    let result = (|| {
        let mut encryptor = FileEncryptor::new(ChannelWriter { tx }, key, file)
            .map_err(|e| pipeline_error(e, "upload"))?;
        let mut limited = reader.take(size);
        let copied = io::copy(&mut limited, &mut encryptor).map_err(|e| {
            if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
                pipeline_error(e, "upload")
            } else {
                Error::invalid_input("content", format!("could not be read: {e}"))
            }
        })?;
        let mut extra = [0u8; 1];
        let longer = limited
            .into_inner()
            .read(&mut extra)
            .map_err(|e| Error::invalid_input("content", format!("could not be read: {e}")))?;
        if copied != size || longer != 0 {
            return Err(Error::invalid_input(
                "content",
                format!(
                    "the reader yielded {} bytes, but the file was declared as {size} bytes; \
                     nothing was attached",
                    if longer == 0 {
                        copied.to_string()
                    } else {
                        "more than that".to_owned()
                    }
                ),
            ));
        }
        encryptor
            .finish()
            .map(|_| ())
            .map_err(|e| pipeline_error(e, "upload"))
    })();
    if result.is_err() {
        let _ = abort.blocking_send(Err(io::Error::other("the upload was abandoned")));
    }
    result
}

/// Decrypts the channel into `writer`, checking that exactly `size` bytes come out.
fn decrypt_from<W: Write>(
    rx: tokio::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    key: &FileKey,
    file: &Id,
    size: u64,
    mut writer: W,
) -> Result<W> {
    let reader = ChannelReader {
        rx,
        current: Vec::new(),
        offset: 0,
    };
    let mut decryptor =
        FileDecryptor::new(reader, key, file).map_err(|e| pipeline_error(e, "download"))?;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        let n = decryptor
            .read(&mut buffer)
            .map_err(|e| pipeline_error(e, "download"))?;
        if n == 0 {
            break;
        }
        written += n as u64;
        if written > size {
            break;
        }
        writer
            .write_all(&buffer[..n])
            .map_err(|e| Error::invalid_input("writer", format!("could not be written: {e}")))?;
    }
    if written != size {
        return Err(Error::integrity(format!(
            "file {file} decrypted to {written} bytes, but the item records {size}; the \
             server sent another file's content"
        )));
    }
    writer
        .flush()
        .map_err(|e| Error::invalid_input("writer", format!("could not be written: {e}")))?;
    Ok(writer)
}

impl Inner {
    /// Encrypts and uploads `size` bytes of `reader` as a new file of `item` (which may
    /// not exist yet), returning its attributes and its sealed key. Nothing references
    /// the upload until an item version lists it.
    pub(crate) async fn upload_file<R: Read + Send + 'static>(
        &self,
        vault: &Id,
        item: &Id,
        vault_key: &VaultKey,
        name: &str,
        size: u64,
        reader: R,
    ) -> Result<(FileAttributes, SealedFileKey)> {
        let max = self
            .max_file_size
            .load(std::sync::atomic::Ordering::Relaxed);
        if size > max {
            return Err(Error::invalid_input(
                "content",
                format!(
                    "file {name:?} is {size} bytes; this server accepts files of at most {max} \
                     bytes (its max_file_bytes setting)"
                ),
            ));
        }
        let file = Id::generate();
        let file_key = FileKey::generate();
        let sealed = file_key.wrap(
            vault_key,
            &EnvelopeContext::file_key(*self.account(), *vault, *item, file),
        )?;
        let length = ciphertext_len(size);
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Vec<u8>>>(CHANNEL_CHUNKS);
        let producer =
            tokio::task::spawn_blocking(move || encrypt_into(reader, size, &file_key, &file, tx));
        let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async {
            let next = rx.recv().await?;
            Some((next, rx))
        }));
        let (bearer, _) = self.session(None).await?;
        let sent = self
            .transport
            .send_stream(
                Method::PUT,
                &format!("/v1/vaults/{vault}/items/{item}/files/{file}"),
                &bearer,
                Some((body, length)),
                transfer_timeout(self.config.timeout, length),
                Resource::Vault,
            )
            .await;
        let produced = producer
            .await
            .map_err(|e| Error::Server(format!("the upload task failed: {e}")))?;
        match (produced, sent) {
            // The server answered (403, 404, 413 …) before it took the whole body, which
            // closed the channel under the encryptor: the answer says why.
            (Err(Error::Network(_)), Err(answer)) => return Err(answer),
            // Otherwise the reader's own failure explains a broken-off request better than
            // the network.
            (Err(e), _) | (Ok(()), Err(e)) => return Err(e),
            (Ok(()), Ok(_)) => {}
        }
        Ok((
            FileAttributes {
                name: name.to_owned(),
                id: file.to_string(),
                size,
            },
            SealedFileKey {
                file_id: file.to_string(),
                key: crate::api::Ciphertext(sealed),
            },
        ))
    }

    /// Downloads, authenticates and decrypts file `file_id` of an item whose current
    /// `details` are given into `writer`.
    pub(crate) async fn download_file<W: Write + Send + 'static>(
        &self,
        vault: &Id,
        item: &Id,
        vault_key: &VaultKey,
        details: &DetailsPlain,
        file_id: &str,
        writer: W,
    ) -> Result<W> {
        let attributes = details
            .file_attributes()
            .find(|f| f.id == file_id)
            .ok_or_else(|| Error::NotFound {
                what: crate::Resource::File,
                name: Some(file_id.to_string()),
                message: format!("item {item} has no file with id {file_id:?}"),
            })?;
        let sealed = details.file_key(file_id).ok_or_else(|| {
            Error::integrity(format!(
                "the details of item {item} list file {file_id:?} without its key"
            ))
        })?;
        let file = parse_id("file id", file_id)?;
        let file_key = FileKey::unwrap(
            vault_key,
            &EnvelopeContext::file_key(*self.account(), *vault, *item, file),
            &sealed.key.0,
        )?;
        let size = attributes.size;
        let (bearer, _) = self.session(None).await?;
        let response = self
            .transport
            .send_stream(
                Method::GET,
                &format!("/v1/vaults/{vault}/items/{item}/files/{file}"),
                &bearer,
                None,
                transfer_timeout(self.config.timeout, ciphertext_len(size)),
                Resource::File,
            )
            .await?;
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Vec<u8>>>(CHANNEL_CHUNKS);
        let consumer =
            tokio::task::spawn_blocking(move || decrypt_from(rx, &file_key, &file, size, writer));
        let mut body = response.bytes_stream();
        while let Some(frame) = body.next().await {
            let frame = frame.map(|b| b.to_vec()).map_err(|e| {
                io::Error::other(Error::Network(format!(
                    "the download of file {file} broke off: {e}"
                )))
            });
            let failed = frame.is_err();
            if tx.send(frame).await.is_err() || failed {
                break;
            }
        }
        drop(tx);
        consumer
            .await
            .map_err(|e| Error::Server(format!("the download task failed: {e}")))?
    }
}

/// A document to upload while creating an item: `size` bytes from `reader`.
pub(crate) struct StreamedDocument {
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) reader: Box<dyn std::io::Read + Send>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary one.
    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sesame-output-{}", Id::generate()));
        std::fs::create_dir(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn output_files_appear_whole_with_their_mode_or_not_at_all() {
        let dir = scratch();
        let path = dir.join("out.bin");
        let mut out = OutputFile::create(&path, Some(0o640)).unwrap();
        out.write_all(b"hello").unwrap();
        assert!(!path.exists(), "nothing at the path before the commit");
        assert_eq!(out.commit().unwrap(), 5);
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o640);

        // Replacing a world-readable file: the default mode, the whole new content.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let mut out = OutputFile::create(&path, None).unwrap();
        out.write_all(b"bye").unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"bye");
        #[cfg(unix)]
        assert_eq!(mode(&path), OutputFile::DEFAULT_MODE);

        // Dropped without a commit: the old content stays, the temporary file goes.
        let mut out = OutputFile::create(&path, None).unwrap();
        out.write_all(b"partial").unwrap();
        drop(out);
        assert_eq!(std::fs::read(&path).unwrap(), b"bye");
        assert_eq!(names(&dir), ["out.bin"]);

        let err = OutputFile::create(&path, Some(0o10000)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(OutputFile::create(dir.join("no/such/dir"), None).is_err());
        assert_eq!(names(&dir), ["out.bin"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn output_files_keep_symlinks_and_write_devices_in_place() {
        let dir = scratch();
        let real = dir.join("real");
        std::fs::write(&real, "old").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut out = OutputFile::create(&link, None).unwrap();
        out.write_all(b"new").unwrap();
        out.commit().unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        assert_eq!(mode(&real), 0o600);

        let mut out = OutputFile::create("/dev/null", Some(0o600)).unwrap();
        out.write_all(b"gone").unwrap();
        assert_eq!(out.commit().unwrap(), 4);
        assert_eq!(names(&dir), ["link", "real"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
