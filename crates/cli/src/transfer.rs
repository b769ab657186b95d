//! File uploads and downloads of `sesame item file` and `sesame document`, with progress
//! bars drawn on stderr only when stderr is a terminal and the output is for people, so
//! scripts, pipes and CI logs never see one.

use std::fs::File;
use std::io::{IsTerminal as _, Read, Write};
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sesame_core::model::{FileAttributes, Item};
use sesame_core::Client;

use crate::exit::{CliResult, Failure};
use crate::output::{Format, Sink};

/// A file to upload: opened, with its size and its name in the item.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) file: File,
    pub(crate) size: u64,
    pub(crate) name: String,
}

/// Opens the regular file at `path` for upload as `name` (default: its file name).
pub(crate) fn open_upload(path: &Path, name: Option<String>) -> CliResult<Upload> {
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

/// Downloads `attributes` of `item` into stdout or `out_file` (with `mode`), which is
/// replaced only once the whole file arrived and was authenticated.
pub(crate) async fn download(
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
    transfer.end(&result);
    result?.into_inner().finish()
}

/// The bar of one transfer; a hidden one costs a counter update per buffer.
#[derive(Debug, Clone)]
pub(crate) struct Transfer {
    bar: ProgressBar,
}

/// Whether to draw progress bars: on a terminal, for people, unless `SESAME_NO_PROGRESS`.
pub(crate) fn wanted(format: Format) -> bool {
    format == Format::Table
        && std::io::stderr().is_terminal()
        && std::env::var_os("SESAME_NO_PROGRESS").is_none()
}

impl Transfer {
    /// A bar for `total` bytes, labelled `label` (e.g. `uploading report.pdf`).
    pub(crate) fn new(format: Format, label: &str, total: u64) -> Self {
        let bar = if wanted(format) {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(label.to_owned());
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar }
    }

    /// `inner`, counting the bytes read from or written to it.
    pub(crate) fn wrap<T>(&self, inner: T) -> Counted<T> {
        Counted {
            inner,
            bar: self.bar.clone(),
        }
    }

    /// Leaves a successful transfer's bar on the terminal and removes a failed one's
    /// (the error follows on its own line).
    pub(crate) fn end<T>(&self, result: &sesame_core::Result<T>) {
        if result.is_ok() {
            self.bar.finish();
        } else {
            self.bar.finish_and_clear();
        }
    }
}

/// A reader or writer whose bytes advance a [`Transfer`]'s bar.
#[derive(Debug)]
pub(crate) struct Counted<T> {
    inner: T,
    bar: ProgressBar,
}

impl<T> Counted<T> {
    /// The wrapped reader or writer.
    pub(crate) fn into_inner(self) -> T {
        self.inner
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_passes_bytes_through_and_json_never_draws() {
        let transfer = Transfer::new(Format::Json, "test", 5);
        assert!(transfer.bar.is_hidden());
        let mut reader = transfer.wrap(&b"hello"[..]);
        let mut out = Vec::new();
        std::io::copy(&mut reader, &mut out).unwrap();
        let mut writer = transfer.wrap(Vec::new());
        writer.write_all(&out).unwrap();
        assert_eq!(writer.into_inner(), b"hello");
        assert_eq!(transfer.bar.position(), 10);
    }
}
