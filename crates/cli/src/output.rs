//! Output for people (aligned tables) and for programs (`--format json`).
//!
//! JSON output is stable: objects are the SDK models serialized as the SDKs name their
//! fields (`id`, `title`, `vaultId`, …), one JSON document per command. Tables may change
//! between releases. Colour (bold headers) is used only when stdout is a terminal and
//! `NO_COLOR` is unset.

use std::io::{IsTerminal as _, Write as _};

use serde::Serialize;

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
}
