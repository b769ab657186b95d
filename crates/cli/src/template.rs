//! The template language of `sesame inject`.
//!
//! Rules, in the order the scanner applies them:
//!
//! - `{{ "text" }}` is literal text: `text` is copied as is (no variables, no
//!   references); inside the quotes `\"` is a quote and `\\` a backslash. Use it to write
//!   `op://`, `$` or `{{` literally.
//! - `{{ op://vault/item/field }}` is an enclosed reference: everything up to `}}` on the
//!   same line, trimmed, so names may contain spaces. A `{{` whose content does not start
//!   with `op://` or `"` is left alone (other template languages use `{{` too).
//! - `op://vault/item/field` is an unenclosed reference: it ends at whitespace or at one
//!   of ``" ' ` < > { } ( ) [ ] , ; |``.
//! - `$VAR`, `${VAR}` and `${VAR:-default}` are replaced by the environment variable
//!   (`default` when it is unset or empty), everywhere including inside references. An
//!   unset variable without a default is an error. A `$` not followed by a name or `{`
//!   is literal.
//!
//! Errors give the 1-based line and column (in characters) where the construct starts.

use std::collections::HashMap;
use std::fmt;

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text copied to the output.
    Text(String),
    /// A secret reference (variables expanded), and where it starts.
    Reference {
        reference: String,
        line: usize,
        column: usize,
    },
}

/// A template error at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Line and column (1-based, characters) of byte offset `at`.
pub(crate) fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn error(text: &str, at: usize, message: impl Into<String>) -> TemplateError {
    let (line, column) = position(text, at);
    TemplateError {
        line,
        column,
        message: message.into(),
    }
}

const REFERENCE_END: &[char] = &[
    '"', '\'', '`', '<', '>', '{', '}', '(', ')', '[', ']', ',', ';', '|',
];

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands the variable at `text[at..]` (which starts with `$`): its value and the offset
/// after it, or `None` when the `$` is literal.
fn variable(
    text: &str,
    at: usize,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(String, usize)>, TemplateError> {
    let rest = &text[at + 1..];
    if let Some(braced) = rest.strip_prefix('{') {
        let close = braced
            .find(['}', '\n'])
            .filter(|&i| braced[i..].starts_with('}'))
            .ok_or_else(|| error(text, at, "unclosed ${: add the closing }"))?;
        let inner = &braced[..close];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        if !name.starts_with(is_name_start) || !name.chars().all(is_name) {
            return Err(error(
                text,
                at,
                format!(
                    "${{{inner}}} is not a variable: names are letters, digits and _, \
                     optionally followed by :-default"
                ),
            ));
        }
        let value = match (
            env(name).filter(|v| !v.is_empty() || default.is_none()),
            default,
        ) {
            (Some(value), _) => value,
            (None, Some(default)) => default.to_owned(),
            (None, None) => {
                return Err(error(
                    text,
                    at,
                    format!("variable {name} is not set; set it or give a default: ${{{name}:-…}}"),
                ))
            }
        };
        return Ok(Some((value, at + 2 + close + 1)));
    }
    if !rest.starts_with(is_name_start) {
        return Ok(None);
    }
    let len = rest.find(|c| !is_name(c)).unwrap_or(rest.len());
    let name = &rest[..len];
    let value = env(name).ok_or_else(|| {
        error(
            text,
            at,
            format!("variable {name} is not set; set it or give a default: ${{{name}:-…}}"),
        )
    })?;
    Ok(Some((value, at + 1 + len)))
}

/// Expands every variable in `text[start..end]`.
fn expand(
    text: &str,
    start: usize,
    end: usize,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    let mut out = String::new();
    let mut i = start;
    while i < end {
        let rest = &text[i..end];
        match rest.find('$') {
            None => {
                out.push_str(rest);
                break;
            }
            Some(d) => {
                out.push_str(&rest[..d]);
                let at = i + d;
                match variable(&text[..end], at, env)? {
                    Some((value, next)) => {
                        out.push_str(&value);
                        i = next;
                    }
                    None => {
                        out.push('$');
                        i = at + 1;
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Parses a quoted literal starting at `text[at] == '"'`: its text and the offset after
/// the closing quote.
fn quoted(text: &str, at: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = text[at + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, at + 1 + i + 1)),
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return None,
            },
            '\n' => return None,
            c => out.push(c),
        }
    }
    None
}

/// The length of the unenclosed reference at the start of `rest`: up to whitespace or a
/// delimiter, stepping over `${…}` whose braces are not delimiters.
fn unenclosed_len(rest: &str) -> usize {
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '$' && matches!(chars.peek(), Some((_, '{'))) {
            match rest[i..].find(['}', '\n']) {
                Some(close) if rest[i + close..].starts_with('}') => {
                    while chars.peek().is_some_and(|(j, _)| *j <= i + close) {
                        chars.next();
                    }
                    continue;
                }
                _ => return i,
            }
        }
        if c.is_whitespace() || REFERENCE_END.contains(&c) {
            return i;
        }
    }
    rest.len()
}

/// Splits a template into text and references, expanding variables.
pub(crate) fn parse(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if let Some(after) = rest.strip_prefix("{{") {
            let inner_start = i + 2 + (after.len() - after.trim_start_matches([' ', '\t']).len());
            let inner = &text[inner_start..];
            if inner.starts_with('"') {
                let (value, end) = quoted(text, inner_start)
                    .ok_or_else(|| error(text, i, "unclosed quoted literal {{ \"…\" }}"))?;
                let tail = &text[end..];
                let closing = tail.len() - tail.trim_start_matches([' ', '\t']).len();
                if !tail[closing..].starts_with("}}") {
                    return Err(error(
                        text,
                        i,
                        "a quoted literal must be followed by }}: {{ \"…\" }}",
                    ));
                }
                literal.push_str(&value);
                i = end + closing + 2;
                continue;
            }
            if inner.starts_with("op://") {
                let line_end = inner.find('\n').unwrap_or(inner.len());
                let close = inner[..line_end].find("}}").ok_or_else(|| {
                    error(
                        text,
                        i,
                        "unclosed {{: a reference must end with }} on its line",
                    )
                })?;
                let reference = expand(text, inner_start, inner_start + close, env)?;
                let (line, column) = position(text, i);
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
                pieces.push(Piece::Reference {
                    reference: reference.trim().to_owned(),
                    line,
                    column,
                });
                i = inner_start + close + 2;
                continue;
            }
            literal.push_str("{{");
            i += 2;
            continue;
        }
        if rest.starts_with("op://") {
            let len = unenclosed_len(rest);
            let reference = expand(text, i, i + len, env)?;
            let (line, column) = position(text, i);
            pieces.push(Piece::Text(std::mem::take(&mut literal)));
            pieces.push(Piece::Reference {
                reference,
                line,
                column,
            });
            i += len;
            continue;
        }
        if rest.starts_with('$') {
            match variable(text, i, env)? {
                Some((value, next)) => {
                    literal.push_str(&value);
                    i = next;
                }
                None => {
                    literal.push('$');
                    i += 1;
                }
            }
            continue;
        }
        let c = rest.chars().next().map_or(1, char::len_utf8);
        literal.push_str(&rest[..c]);
        i += c;
    }
    pieces.push(Piece::Text(literal));
    pieces.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
    Ok(pieces)
}

/// The distinct references of a template, in order of first appearance.
pub(crate) fn references(pieces: &[Piece]) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Reference { reference, .. } => Some(reference.as_str()),
            Piece::Text(_) => None,
        })
        .filter(|r| seen.insert(*r))
        .collect()
}

/// The output, given every reference's value.
pub(crate) fn render(pieces: &[Piece], values: &HashMap<String, String>) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Reference { reference, .. } => {
                out.push_str(values.get(reference).map_or("", String::as_str));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "ENV" => Some("prod".into()),
            "EMPTY" => Some(String::new()),
            "HOST" => Some("db.internal".into()),
            _ => None,
        }
    }

    fn parse_ok(text: &str) -> Vec<Piece> {
        parse(text, &env).unwrap()
    }

    fn reference(r: &str, line: usize, column: usize) -> Piece {
        Piece::Reference {
            reference: r.into(),
            line,
            column,
        }
    }

    fn text(t: &str) -> Piece {
        Piece::Text(t.into())
    }

    #[test]
    fn enclosed_references_may_hold_spaces() {
        assert_eq!(
            parse_ok("password: {{ op://Infra/Postgres/one-time password?attribute=otp }}!"),
            vec![
                text("password: "),
                reference("op://Infra/Postgres/one-time password?attribute=otp", 1, 11),
                text("!"),
            ]
        );
        assert_eq!(
            parse_ok("{{op://a/b/c}}"),
            vec![reference("op://a/b/c", 1, 1)]
        );
    }

    #[test]
    fn unenclosed_references_end_at_whitespace_and_delimiters() {
        assert_eq!(
            parse_ok("a=op://v/i/f b=\"op://v/i/g\"\n  op://v/i/h,"),
            vec![
                text("a="),
                reference("op://v/i/f", 1, 3),
                text(" b=\""),
                reference("op://v/i/g", 1, 17),
                text("\"\n  "),
                reference("op://v/i/h", 2, 3),
                text(","),
            ]
        );
    }

    #[test]
    fn variables_expand_everywhere_also_inside_references() {
        assert_eq!(
            parse_ok("host=$HOST ${ENV} {{ op://$ENV/db/password }} op://${ENV}-x/db/user"),
            vec![
                text("host=db.internal prod "),
                reference("op://prod/db/password", 1, 19),
                text(" "),
                reference("op://prod-x/db/user", 1, 47),
            ]
        );
    }

    #[test]
    fn defaults_apply_when_unset_or_empty() {
        assert_eq!(
            parse_ok("${MISSING:-dev} ${EMPTY:-fallback} ${ENV:-x} op://${V:-Infra}/a/b"),
            vec![
                text("dev fallback prod "),
                reference("op://Infra/a/b", 1, 46),
            ]
        );
    }

    #[test]
    fn a_dollar_without_a_name_is_literal() {
        assert_eq!(
            parse_ok("cost: $5, $ and $$"),
            vec![text("cost: $5, $ and $$")]
        );
    }

    #[test]
    fn escapes_are_literal_text() {
        assert_eq!(
            parse_ok(r#"{{ "op://not/a/ref" }} {{ "$ENV {{ x }}" }} {{"say \"hi\" \\"}}"#),
            vec![text(r#"op://not/a/ref $ENV {{ x }} say "hi" \"#)]
        );
    }

    #[test]
    fn other_double_braces_are_left_alone() {
        assert_eq!(
            parse_ok("{{ .Values.x }} {{ op://a/b/c }}"),
            vec![text("{{ .Values.x }} "), reference("op://a/b/c", 1, 17)]
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = parse("ok\n  x {{ op://a/b/c\n", &env).unwrap_err();
        assert_eq!((err.line, err.column), (2, 5), "{err}");
        assert!(err.message.contains("unclosed"), "{err}");
        let err = parse("a\nb $NOPE", &env).unwrap_err();
        assert_eq!((err.line, err.column), (2, 3));
        assert!(err.message.contains("NOPE"), "{err}");
        let err = parse("{{ op://${NOPE}/a/b }}", &env).unwrap_err();
        assert_eq!((err.line, err.column), (1, 9));
        let err = parse("é ${1X}", &env).unwrap_err();
        assert_eq!((err.line, err.column), (1, 3));
        let err = parse("${OPEN", &env).unwrap_err();
        assert!(err.message.contains("unclosed"), "{err}");
        let err = parse(r#"{{ "open }}"#, &env).unwrap_err();
        assert!(err.message.contains("quoted"), "{err}");
        let err = parse(r#"{{ "a" x }}"#, &env).unwrap_err();
        assert!(err.message.contains("followed by }}"), "{err}");
    }

    #[test]
    fn render_substitutes_and_references_are_distinct() {
        let pieces = parse_ok("{{ op://a/b/c }}-op://a/b/c op://a/b/d");
        assert_eq!(references(&pieces), vec!["op://a/b/c", "op://a/b/d"]);
        let values = HashMap::from([
            ("op://a/b/c".to_owned(), "1".to_owned()),
            ("op://a/b/d".to_owned(), "2".to_owned()),
        ]);
        assert_eq!(render(&pieces, &values), "1-1 2");
    }
}
