//! What the renderers work from: the model's types and the call table, reduced to the few
//! shapes every language can express. Built from the JSON Schemas (`schema.rs`) and from
//! the Rust type names the call table writes (`Ty::parse`).

/// A type as a field, parameter or result has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// A floating-point number.
    Number,
    /// True or false.
    Boolean,
    /// Bytes: standard base64 inside JSON, raw beside it as a call's result.
    Bytes,
    /// An RFC 3339 timestamp (a string in JSON).
    Timestamp,
    /// Any JSON.
    Any,
    /// No value (a call without a result).
    Unit,
    /// A list.
    List(Box<Ty>),
    /// An object with string keys.
    Map(Box<Ty>),
    /// A value that may be absent or null.
    Optional(Box<Ty>),
    /// A model type, by its Rust name.
    Named(String),
}

impl Ty {
    /// Parses a Rust type as the call table writes it (`Vec<String>`, `Option<Item>`,
    /// `HashMap<String, Item>`, `u32`, `()`, `Bytes`, a model type's name).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        Self::parse_compact(&text)
    }

    fn parse_compact(text: &str) -> Result<Self, String> {
        if let Some(inner) = generic(text, "Vec") {
            return Ok(Self::List(Box::new(Self::parse_compact(inner)?)));
        }
        if let Some(inner) = generic(text, "Option") {
            return Ok(Self::Optional(Box::new(Self::parse_compact(inner)?)));
        }
        if let Some(inner) = generic(text, "HashMap") {
            let value = inner
                .strip_prefix("String,")
                .ok_or_else(|| format!("{text}: only String keys are supported"))?;
            return Ok(Self::Map(Box::new(Self::parse_compact(value)?)));
        }
        Ok(match text {
            "String" | "str" | "&str" => Self::String,
            "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" => Self::Integer,
            "f32" | "f64" => Self::Number,
            "bool" => Self::Boolean,
            "()" => Self::Unit,
            "Bytes" => Self::Bytes,
            name if name.chars().all(|c| c.is_ascii_alphanumeric()) => Self::Named(name.to_owned()),
            other => return Err(format!("the call table's type {other:?} has no mapping")),
        })
    }

    /// The model types this type mentions.
    pub fn names(&self, out: &mut Vec<String>) {
        match self {
            Self::List(t) | Self::Map(t) | Self::Optional(t) => t.names(out),
            Self::Named(n) => out.push(n.clone()),
            _ => {}
        }
    }
}

fn generic<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.strip_prefix(name)?
        .strip_prefix('<')?
        .strip_suffix('>')
}

/// A field of a struct.
#[derive(Debug, Clone)]
pub struct Field {
    /// Its JSON name (camelCase).
    pub wire: String,
    /// Its type (never `Optional`: see `optional`).
    pub ty: Ty,
    /// Whether it may be absent or null.
    pub optional: bool,
    /// Its documentation.
    pub doc: String,
    /// Whether it holds a secret (`x-secret` in the schema): bindings keep it out of
    /// their `repr`/`inspect`/`String` output, as `Debug` does in Rust.
    pub secret: bool,
}

/// A variant of a tagged union: `{"<tag>": wire, "<content>": payload}`.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The tag's value.
    pub wire: String,
    /// The content's type, if the variant has one.
    pub payload: Option<Ty>,
    /// Its documentation.
    pub doc: String,
}

/// A model type.
#[derive(Debug, Clone)]
pub enum Def {
    /// An object with named fields.
    Struct {
        /// The type's name.
        name: String,
        /// Its documentation.
        doc: String,
        /// Its fields, in declaration order.
        fields: Vec<Field>,
    },
    /// One of a fixed set of strings.
    Enum {
        /// The type's name.
        name: String,
        /// Its documentation.
        doc: String,
        /// Each value and its documentation.
        values: Vec<(String, String)>,
    },
    /// An adjacently tagged union: `{"type": "Pin", "parameters": {…}}`.
    Union {
        /// The type's name.
        name: String,
        /// Its documentation.
        doc: String,
        /// The tag's key (`type`).
        tag: String,
        /// The content's key (`parameters`, `content`).
        content: String,
        /// Its variants.
        variants: Vec<Variant>,
    },
    /// Another name for a type (`Id` is a `String`).
    Alias {
        /// The type's name.
        name: String,
        /// Its documentation.
        doc: String,
        /// What it stands for.
        ty: Ty,
    },
}

/// A call of the table, with its types parsed.
#[derive(Debug, Clone)]
pub struct Call {
    /// The request name (`SecretsResolve`).
    pub name: String,
    /// Its group path (`items.files`).
    pub group: String,
    /// Its method in snake_case.
    pub method: String,
    /// Its documentation.
    pub doc: String,
    /// Parameters: JSON name (snake_case), type, optional.
    pub params: Vec<(String, Ty, bool)>,
    /// The result type.
    pub result: Ty,
    /// Whether it needs a client; if not, whether it is offline (static and synchronous)
    /// or does I/O (static and asynchronous).
    pub needs: sesame_invoke::Needs,
}

/// The groups directly under `group`: `items.files` and `items.shares` under `items`;
/// under `client`, the client's own, every top-level group but itself.
pub fn child_groups<'a>(groups: impl IntoIterator<Item = &'a str>, group: &str) -> Vec<&'a str> {
    groups
        .into_iter()
        .filter(|g| {
            if group == "client" {
                !g.contains('.') && *g != "client"
            } else {
                g.strip_prefix(group)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|rest| !rest.contains('.'))
            }
        })
        .collect()
}

/// The field of a parameter of type `ty` whose bytes travel beside the JSON rather than
/// in it (the content of `FileCreateParams` and `DocumentCreateParams`).
pub fn beside<'a>(defs: &'a std::collections::BTreeMap<String, Def>, ty: &Ty) -> Option<&'a Field> {
    let Ty::Named(name) = ty else { return None };
    match defs.get(name) {
        Some(Def::Struct { fields, .. }) => {
            fields.iter().find(|f| f.ty == Ty::Bytes && !f.optional)
        }
        _ => None,
    }
}

impl Call {
    /// Whether the call runs against a client.
    pub fn needs_client(&self) -> bool {
        self.needs == sesame_invoke::Needs::Client
    }
}

/// The calls of the table.
pub fn calls() -> Result<Vec<Call>, String> {
    sesame_invoke::CALLS
        .iter()
        .map(|c| {
            Ok(Call {
                name: c.name.to_owned(),
                group: c.group.to_owned(),
                method: c.method.to_owned(),
                // `/// text` lines arrive as " text": one line each, without the space.
                doc: c
                    .doc
                    .lines()
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("\n")
                    .trim()
                    .to_owned(),
                // Required parameters first: no language takes a required argument after
                // an optional one.
                params: {
                    let mut params = c
                        .params
                        .iter()
                        .map(|p| Ok((p.name.to_owned(), Ty::parse(p.ty)?, p.optional())))
                        .collect::<Result<Vec<_>, String>>()?;
                    params.sort_by_key(|(_, _, optional)| *optional);
                    params
                },
                result: Ty::parse(c.result)?,
                needs: c.needs,
            })
        })
        .collect()
}

/// The error codes, from the core's one declaration: (name, number, description).
pub fn error_codes() -> Vec<(&'static str, u32, &'static str)> {
    sesame_core::ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str(), c.number(), c.description()))
        .collect()
}

/// `snake_case` → `PascalCase`.
pub fn pascal(snake: &str) -> String {
    snake
        .split(['_', '.', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `snake_case` → `camelCase`.
pub fn camel(snake: &str) -> String {
    let p = pascal(snake);
    let mut chars = p.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `camelCase` or `PascalCase` → `snake_case`.
pub fn snake(camel: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = camel.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_ascii_uppercase())) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if *c == '-' || *c == ' ' {
            out.push('_');
        } else {
            out.push(*c);
        }
    }
    out
}

/// The class name every language gives the error of `code`.
pub fn error_class(code: &str) -> String {
    match code {
        // The 1Password-style name people look for.
        "unauthenticated" => "AuthenticationError".to_owned(),
        other => format!("{}Error", pascal(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_types_parse() {
        assert_eq!(Ty::parse("Vec<String>"), Ok(Ty::List(Box::new(Ty::String))));
        assert_eq!(
            Ty::parse("Option<RateLimitState>"),
            Ok(Ty::Optional(Box::new(Ty::Named("RateLimitState".into()))))
        );
        assert_eq!(Ty::parse("()"), Ok(Ty::Unit));
        assert!(Ty::parse("HashMap<u32, String>").is_err());
        assert!(calls().is_ok());
    }

    #[test]
    fn names_convert() {
        assert_eq!(pascal("resolve_all"), "ResolveAll");
        assert_eq!(camel("secret_reference"), "secretReference");
        assert_eq!(snake("entropyBits"), "entropy_bits");
        assert_eq!(snake("ItemShareAccountPolicy"), "item_share_account_policy");
        assert_eq!(snake("SSHKey"), "ssh_key");
        assert_eq!(snake("vaultId"), "vault_id");
        assert_eq!(error_class("not_found"), "NotFoundError");
        assert_eq!(error_class("unauthenticated"), "AuthenticationError");
    }
}
