//! Output for people (aligned tables) and for programs (`--format json`).
//!
//! JSON output is stable: objects are the SDK models serialized as the SDKs name their
//! fields (`id`, `title`, `vaultId`, …), one JSON document per command. Tables may change
//! between releases. Colour (bold headers) is used only when stdout is a terminal and
//! `NO_COLOR` is unset.
//!
//! Shared by the commands: the tables of items and fields, the `{"id"}` of a deletion,
//! and the [`Sink`] that content (a secret, a file, a rendered template) goes to.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sesame_core::client::OutputFile;
use sesame_core::model::{Item, ItemField, ItemFieldType, ItemSection};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::exit::{CliResult, Failure};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON document, with the SDK's field names, for programs.
    Json,
}

fn write_out(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::other(format!("cannot write to stdout: {e}")))
}

/// Prints `value` as pretty JSON and a newline.
pub(crate) fn json(value: &impl Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::other(format!("cannot encode the output as JSON: {e}")))?;
    write_out(&format!("{text}\n"))
}

/// Whether to colour stdout.
fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Renders rows under headers, columns padded to their widest cell.
pub(crate) fn render_table(headers: &[&str], rows: &[Vec<String>], colour: bool) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let last = i + 1 == cells.len();
            text.push_str(cell);
            if !last {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.push('\n');
        text
    };
    let mut out = line(headers.to_vec());
    if colour {
        out = format!("\x1b[1m{}\x1b[0m\n", out.trim_end_matches('\n'));
    }
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// Prints a table.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> CliResult {
    write_out(&render_table(headers, rows, colour()))
}

/// Prints a line.
pub(crate) fn line(text: &str) -> CliResult {
    write_out(&format!("{text}\n"))
}

/// Writes `data` to stdout.
pub(crate) fn bytes(data: &[u8]) -> CliResult {
    let mut out = std::io::stdout().lock();
    out.write_all(data)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::other(format!("cannot write to stdout: {e}")))
}

/// Reports a deletion-like command: `{"id"}` in JSON, `text` for people.
pub(crate) fn done(format: Format, id: &str, text: &str) -> CliResult {
    #[derive(Serialize)]
    struct Done<'a> {
        id: &'a str,
    }
    match format {
        Format::Json => json(&Done { id }),
        Format::Table => line(text),
    }
}

/// Where content goes: stdout, or the file of `-o PATH`, which the core client's
/// [`OutputFile`] replaces only once the content is complete (see there: temporary file,
/// mode set before writing, rename; a FIFO or `/dev/stdout` is written in place).
#[derive(Debug)]
pub(crate) enum Sink {
    Stdout(std::io::Stdout),
    File { out: OutputFile, path: PathBuf },
}

fn cannot_write(path: &Path, e: &std::io::Error) -> Failure {
    Failure::other(format!("cannot write {}: {e}", path.display()))
}

impl Sink {
    /// Stdout, or the file at `path` with `mode`.
    pub(crate) fn open(path: Option<&Path>, mode: u32) -> CliResult<Self> {
        match path {
            None => Ok(Self::Stdout(std::io::stdout())),
            Some(path) => OutputFile::create(path, Some(mode))
                .map(|out| Self::File {
                    out,
                    path: path.to_owned(),
                })
                .map_err(|e| cannot_write(path, &e)),
        }
    }

    /// Flushes stdout, or puts the file in place. Dropping a sink without finishing it
    /// leaves the path as it was.
    pub(crate) fn finish(self) -> CliResult {
        match self {
            Self::Stdout(mut out) => out
                .flush()
                .map_err(|e| Failure::other(format!("cannot write to stdout: {e}"))),
            Self::File { out, path } => out.commit().map(drop).map_err(|e| cannot_write(&path, &e)),
        }
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File { out, .. } => out.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File { out, .. } => out.flush(),
        }
    }
}

/// A time as RFC 3339, for tables.
pub(crate) fn time_text(t: &OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The JSON name of a model enum (`Login`, `Concealed`, `serviceAccount`), for tables.
pub(crate) fn enum_name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Prints an item: JSON, or a table of its fields (concealed values only with `reveal`).
pub(crate) fn item(item: &Item, format: Format, reveal: bool) -> CliResult {
    if format == Format::Json {
        return json(item);
    }
    let mut rows = vec![
        vec!["ID".to_owned(), item.id.clone()],
        vec!["Title".to_owned(), item.title.clone()],
        vec!["Vault".to_owned(), item.vault_id.clone()],
        vec!["Category".to_owned(), enum_name(&item.category)],
        vec!["Version".to_owned(), item.version.to_string()],
    ];
    if !item.tags.is_empty() {
        rows.push(vec!["Tags".to_owned(), item.tags.join(", ")]);
    }
    if !item.notes.is_empty() {
        rows.push(vec!["Notes".to_owned(), item.notes.clone()]);
    }
    rows.extend(field_rows(&item.fields, &item.sections, reveal));
    table(&["FIELD", "VALUE"], &rows)
}

/// One table row per field, `section.title (type)` and its value; concealed values (and
/// one-time password secrets) only with `reveal`.
pub(crate) fn field_rows(
    fields: &[ItemField],
    sections: &[ItemSection],
    reveal: bool,
) -> Vec<Vec<String>> {
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
                format!(
                    "{section}{} ({})",
                    field.title,
                    enum_name(&field.field_type)
                ),
                value,
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_colour_only_when_asked() {
        let rows = vec![
            vec!["a".to_owned(), "Infra".to_owned()],
            vec!["bbbb".to_owned(), "x".to_owned()],
        ];
        let plain = render_table(&["ID", "TITLE"], &rows, false);
        assert_eq!(plain, "ID    TITLE\na     Infra\nbbbb  x\n");
        assert!(!plain.contains('\x1b'));
        assert!(render_table(&["ID"], &[], true).starts_with("\x1b[1m"));
    }

    #[test]
    fn concealed_values_only_when_revealed() {
        let mut password = ItemField::new("p", "password", ItemFieldType::Concealed, "s3cr3t");
        password.section_id = Some("s".into());
        let sections = [ItemSection {
            id: "s".into(),
            title: "Admin".into(),
        }];
        let hidden = field_rows(std::slice::from_ref(&password), &sections, false);
        assert_eq!(hidden[0][0], "Admin.password (Concealed)");
        assert!(!hidden[0][1].contains("s3cr3t"));
        assert_eq!(field_rows(&[password], &sections, true)[0][1], "s3cr3t");
    }
}
