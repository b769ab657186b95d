//! `.env` files for `sesame run --env-file`.
//!
//! - Blank lines and lines starting with `#` are ignored; `export ` before a name is
//!   allowed. Each entry is `NAME=value`, `NAME` of letters, digits and `_`.
//! - Unquoted values are trimmed; ` #` starts a comment.
//! - `"double"` values may span lines and know the escapes `\n`, `\t`, `\"`, `\\` and `\$`.
//! - `'single'` values may span lines and are taken literally.
//! - `$VAR`, `${VAR}` and `${VAR:-default}` are expanded in unquoted and double-quoted
//!   values (never in single-quoted ones), from the entries read so far (earlier in this
//!   file or an earlier file) and then the process environment; an unset variable is
//!   empty.
//! - A value may not expand past 128 KiB, nor all of them past 2 MiB: what Linux passes to
//!   a command it starts (`MAX_ARG_STRLEN` and a typical `ARG_MAX`). Without the bound, a
//!   few lines such as `A=$A$A` repeated would grow a value exponentially.

use std::collections::HashMap;

/// A `.env` syntax error at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DotenvError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl std::fmt::Display for DotenvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The longest value, in bytes, once expanded (Linux's `MAX_ARG_STRLEN`).
const MAX_VALUE: usize = 128 * 1024;
/// The most bytes all values of the files may hold together.
const MAX_TOTAL: usize = 2 * 1024 * 1024;

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands variables in `text`; `None` when the result would pass [`MAX_VALUE`].
fn expand(
    text: &str,
    defined: &HashMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let lookup = |name: &str| defined.get(name).cloned().or_else(|| env(name));
    let mut out = String::new();
    let mut rest = text;
    while let Some(d) = rest.find('$') {
        if out.len() > MAX_VALUE {
            return None;
        }
        out.push_str(&rest[..d]);
        let after = &rest[d + 1..];
        if let Some(braced) = after.strip_prefix('{') {
            if let Some(close) = braced.find('}') {
                let inner = &braced[..close];
                let value = match inner.split_once(":-") {
                    Some((name, default)) => lookup(name)
                        .filter(|v| !v.is_empty())
                        .unwrap_or_else(|| default.to_owned()),
                    None => lookup(inner).unwrap_or_default(),
                };
                out.push_str(&value);
                rest = &braced[close + 1..];
                continue;
            }
        } else if after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            let len = after.find(|c| !is_name(c)).unwrap_or(after.len());
            out.push_str(&lookup(&after[..len]).unwrap_or_default());
            rest = &after[len..];
            continue;
        }
        out.push('$');
        rest = after;
    }
    out.push_str(rest);
    (out.len() <= MAX_VALUE).then_some(out)
}

/// Parses one file's text, adding its entries to `defined` (later entries win).
pub(crate) fn parse_into(
    text: &str,
    defined: &mut HashMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), DotenvError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].trim_start();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let error = |message: String| DotenvError {
            line: number,
            message,
        };
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| error("expected NAME=value".into()))?;
        let name = name.trim_end();
        if name.is_empty()
            || name.starts_with(|c: char| c.is_ascii_digit())
            || !name.chars().all(is_name)
        {
            return Err(error(format!(
                "{name:?} is not a variable name (letters, digits and _, not starting with a digit)"
            )));
        }
        let value = value.trim_start();
        let parsed = if let Some(quote @ ('"' | '\'')) = value.chars().next() {
            // Gather lines until the closing quote.
            let mut body = value[1..].to_owned();
            let closing = loop {
                if let Some(at) = closing_quote(&body, quote) {
                    break at;
                }
                match lines.get(i) {
                    Some(next) => {
                        body.push('\n');
                        body.push_str(next);
                        i += 1;
                    }
                    None => return Err(error(format!("unclosed {quote} quote"))),
                }
            };
            let trailing = body[closing + 1..].trim();
            if !(trailing.is_empty() || trailing.starts_with('#')) {
                return Err(error(format!(
                    "unexpected text after the closing quote: {trailing:?}"
                )));
            }
            let inner = &body[..closing];
            if quote == '\'' {
                Some(inner.to_owned())
            } else {
                expand(&unescape(inner), defined, env).map(|v| v.replace(DOLLAR, "$"))
            }
        } else {
            let value = match value.find(" #") {
                Some(comment) => &value[..comment],
                None => value,
            };
            expand(value.trim(), defined, env)
        };
        let parsed = parsed.filter(|v| v.len() <= MAX_VALUE).ok_or_else(|| {
            error(format!(
                "the value of {name} is longer than {} KiB once its variables are expanded, \
                 more than a command can be given; shorten it",
                MAX_VALUE / 1024
            ))
        })?;
        let total: usize = defined
            .iter()
            .filter(|(k, _)| k.as_str() != name)
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
            + name.len()
            + parsed.len();
        if total > MAX_TOTAL {
            return Err(error(format!(
                "the values read so far hold more than {} MiB, more than a command can be \
                 given; split the files or shorten the values",
                MAX_TOTAL / (1024 * 1024)
            )));
        }
        defined.insert(name.to_owned(), parsed);
    }
    Ok(())
}

/// The byte index of the closing quote in `body`, skipping `\`-escapes in `"` strings.
fn closing_quote(body: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if quote == '"' && escaped {
            escaped = false;
        } else if quote == '"' && c == '\\' {
            escaped = true;
        } else if c == quote {
            return Some(i);
        }
    }
    None
}

/// Stands for an escaped `\$` until variables are expanded (a private-use character).
const DOLLAR: char = '\u{E000}';

/// Resolves the escapes of a double-quoted value; `\$` becomes [`DOLLAR`], so that
/// [`expand`] leaves it alone.
fn unescape(inner: &str) -> String {
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('$') => out.push(DOLLAR),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "SHELL_VAR").then(|| "from-shell".to_owned())
    }

    fn parse(text: &str) -> HashMap<String, String> {
        let mut defined = HashMap::new();
        parse_into(text, &mut defined, &env).unwrap();
        defined
    }

    #[test]
    fn comments_blank_lines_and_export_are_skipped() {
        let vars = parse("# a comment\n\n  export A=1\nB = two words  # trailing\nC=x#y\n");
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "two words");
        assert_eq!(vars["C"], "x#y");
        assert_eq!(vars.len(), 3);
    }

    #[test]
    fn quotes_and_multi_line_values() {
        let vars = parse(
            "D=\"line1\\nline2 \\\"q\\\" # not a comment\"\nM=\"first\nsecond\"\nK='-----BEGIN-----\nabc\n-----END-----' # c\n",
        );
        assert_eq!(vars["D"], "line1\nline2 \"q\" # not a comment");
        assert!(parse_into("S='it''s'", &mut HashMap::new(), &env).is_err());
        assert_eq!(vars["M"], "first\nsecond");
        assert_eq!(vars["K"], "-----BEGIN-----\nabc\n-----END-----");
    }

    #[test]
    fn variables_expand_except_in_single_quotes() {
        let vars = parse(
            "HOST=db\nURL=postgres://$HOST:${PORT:-5432}/x\nQ=\"${HOST}-$SHELL_VAR \\$HOST\"\nLIT='$HOST ${HOST}'\nNONE=$MISSING.\n",
        );
        assert_eq!(vars["URL"], "postgres://db:5432/x");
        assert_eq!(vars["Q"], "db-from-shell $HOST");
        assert_eq!(vars["LIT"], "$HOST ${HOST}");
        assert_eq!(vars["NONE"], ".");
    }

    #[test]
    fn later_entries_and_files_win() {
        let mut defined = HashMap::new();
        parse_into("A=1\nA=2\nB=b1", &mut defined, &env).unwrap();
        parse_into("B=b2\nC=$B", &mut defined, &env).unwrap();
        assert_eq!(defined["A"], "2");
        assert_eq!(defined["B"], "b2");
        assert_eq!(defined["C"], "b2");
    }

    #[test]
    fn values_cannot_grow_past_what_a_command_can_be_given() {
        let mut text = String::from("A=xxxxxxxxxxxxxxxx\n");
        for _ in 0..20 {
            text.push_str("A=$A$A$A$A\n");
        }
        let mut defined = HashMap::new();
        let err = parse_into(&text, &mut defined, &env).unwrap_err();
        assert!(err.message.contains("128 KiB"), "{err}");
        let mut many = String::new();
        for i in 0..40 {
            many.push_str(&format!("V{i}={}\n", "x".repeat(100 * 1024)));
        }
        let err = parse_into(&many, &mut HashMap::new(), &env).unwrap_err();
        assert!(err.message.contains("2 MiB"), "{err}");
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse_into("A=1\nnot an entry\n", &mut HashMap::new(), &env).unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse_into("A=1\n\nB=\"open\nstill open", &mut HashMap::new(), &env).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("unclosed"));
        let err = parse_into("1A=x", &mut HashMap::new(), &env).unwrap_err();
        assert!(err.message.contains("not a variable name"));
        let err = parse_into("A=\"x\" y", &mut HashMap::new(), &env).unwrap_err();
        assert!(err.message.contains("after the closing quote"));
    }
}
