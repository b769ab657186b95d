//! Python: `types.py` (plain classes and enums, no pydantic and no `dataclasses`: the
//! methods are written out here rather than built with `exec` at import, so import stays
//! fast),
//! `errors.py` (the exception hierarchy, from `ErrorCode`) and `_calls.py` (async and sync
//! wrappers of every call over an invoker the package provides).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::ir::{error_class, snake, Call, Def, Field, Ty};
use crate::PREAMBLE;

/// The built-in exception each error class also inherits, so `except LookupError` works.
fn builtin_base(code: &str) -> Option<&'static str> {
    match code {
        "invalid_reference" | "invalid_token" | "invalid_input" => Some("ValueError"),
        "not_found" | "ambiguous" => Some("LookupError"),
        "permission_denied" => Some("PermissionError"),
        "network" => Some("ConnectionError"),
        _ => None,
    }
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// A Python identifier for a JSON name.
fn ident(wire: &str) -> String {
    let name = snake(wire);
    if KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    }
}

/// `SECURE_NOTE` for `SecureNote`, `DIGITS_AND_SYMBOLS` for `digitsAndSymbols`.
/// An enum member's name as the 1Password SDK spells it: the wire value in capitals, so
/// `SecureNote` is `SECURENOTE` and `not_found` is `NOT_FOUND`.
fn member(wire: &str) -> String {
    let name: String = wire
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{name}")
    } else {
        name
    }
}

fn docstring(out: &mut String, indent: &str, doc: &str) {
    let doc = doc.trim();
    if doc.is_empty() {
        return;
    }
    let doc = doc.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
    if doc.contains('\n') {
        let _ = writeln!(out, "{indent}\"\"\"");
        for line in doc.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "{indent}{line}");
            }
        }
        let _ = writeln!(out, "{indent}\"\"\"");
    } else {
        let _ = writeln!(out, "{indent}\"\"\"{doc}\"\"\"");
    }
}

/// Types the 1Password SDK names differently: (its name, ours).
pub const ONEPASSWORD_NAMES: &[(&str, &str)] = &[("GeneratePasswordResponse", "GeneratedPassword")];

/// One attribute of a generated class.
struct Attr {
    name: String,
    annotation: String,
    /// Optional attributes default to `None` and come after the required ones.
    optional: bool,
    doc: String,
    /// Shown in `repr()` by its size only.
    secret: bool,
}

/// A model class: slots, documented attributes, and the `__init__` (keyword or
/// positional, required first), `__repr__` and `__eq__` a dataclass would have, written
/// out. `class_attrs` are constant class-level lines (a union variant's tag).
fn plain_class(out: &mut String, name: &str, doc: &str, class_attrs: &[String], attrs: &[Attr]) {
    let _ = writeln!(out, "\n\nclass {name}:");
    docstring(out, "    ", doc);
    let mut ordered: Vec<&Attr> = attrs.iter().filter(|a| !a.optional).collect();
    ordered.extend(attrs.iter().filter(|a| a.optional));
    let slots: Vec<String> = ordered.iter().map(|a| format!("\"{}\"", a.name)).collect();
    let trailing = if slots.len() == 1 { "," } else { "" };
    let _ = writeln!(out, "\n    __slots__ = ({}{trailing})", slots.join(", "));
    for line in class_attrs {
        let _ = writeln!(out, "    {line}");
    }
    for attr in &ordered {
        let _ = writeln!(out, "    {}: {}", attr.name, attr.annotation);
        docstring(out, "    ", &attr.doc);
    }
    let params: Vec<String> = ordered
        .iter()
        .map(|a| {
            let default = if a.optional { " = None" } else { "" };
            format!("{}: {}{default}", a.name, a.annotation)
        })
        .collect();
    let mut signature = vec!["self".to_owned()];
    signature.extend(params);
    let _ = writeln!(out, "\n    def __init__({}) -> None:", signature.join(", "));
    if ordered.is_empty() {
        out.push_str("        pass\n");
    }
    for attr in &ordered {
        let _ = writeln!(out, "        self.{0} = {0}", attr.name);
    }
    let shown: Vec<String> = ordered
        .iter()
        .map(|a| {
            if a.secret {
                format!("{0}={{_redacted(self.{0})}}", a.name)
            } else {
                format!("{0}={{self.{0}!r}}", a.name)
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "\n    def __repr__(self) -> str:\n        return f\"{name}({})\"",
        shown.join(", ")
    );
    let values = |who: &str| -> String {
        let items: Vec<String> = ordered
            .iter()
            .map(|a| format!("{who}.{}", a.name))
            .collect();
        format!(
            "({}{})",
            items.join(", "),
            if items.len() == 1 { "," } else { "" }
        )
    };
    let _ = writeln!(
        out,
        "\n    def __eq__(self, other: object) -> bool:\n        \
         if not isinstance(other, {name}):\n            return NotImplemented\n        \
         return {} == {}",
        values("self"),
        values("other")
    );
    // Mutable and compared by value, like a dataclass: not hashable.
    let _ = writeln!(out, "\n    __hash__ = None  # type: ignore[assignment]");
}

/// How the renderer sees each model type.
struct Model<'a> {
    defs: &'a BTreeMap<String, Def>,
    /// Types whose file content a call sends beside the JSON: their content may be a path
    /// or a file object to stream from, not only bytes.
    streamed: BTreeSet<String>,
}

impl Model<'_> {
    fn annotation(&self, ty: &Ty) -> String {
        match ty {
            Ty::String => "str".into(),
            Ty::Integer => "int".into(),
            Ty::Number => "float".into(),
            Ty::Boolean => "bool".into(),
            Ty::Bytes => "bytes".into(),
            Ty::Timestamp => "datetime.datetime".into(),
            Ty::Any => "Any".into(),
            Ty::Unit => "None".into(),
            Ty::List(t) => format!("List[{}]", self.annotation(t)),
            Ty::Map(t) => format!("Dict[str, {}]", self.annotation(t)),
            Ty::Optional(t) => format!("Optional[{}]", self.annotation(t)),
            Ty::Named(n) => match self.defs.get(n) {
                Some(Def::Alias { ty, .. }) => self.annotation(ty),
                _ => n.clone(),
            },
        }
    }

    /// The expression turning `expr` (of type `ty`) into JSON-ready data.
    fn encode(&self, expr: &str, ty: &Ty) -> String {
        match ty {
            Ty::Timestamp => format!("_timestamp_out({expr})"),
            Ty::Bytes => format!("base64.b64encode({expr}).decode(\"ascii\")"),
            Ty::List(t) if self.encode("x", t) == "x" => expr.to_owned(),
            Ty::List(t) => format!("[{} for x in {expr}]", self.encode("x", t)),
            Ty::Map(t) if self.encode("v", t) == "v" => expr.to_owned(),
            Ty::Map(t) => format!("{{k: {} for k, v in {expr}.items()}}", self.encode("v", t)),
            Ty::Optional(t) if self.encode(expr, t) == expr => expr.to_owned(),
            Ty::Optional(t) => format!("None if {expr} is None else {}", self.encode(expr, t)),
            Ty::Named(n) => match self.defs.get(n) {
                Some(Def::Alias { ty, .. }) => self.encode(expr, ty),
                Some(Def::Enum { .. }) => format!("_enum_out({expr})"),
                Some(_) => format!("{expr}._to_wire()"),
                None => expr.to_owned(),
            },
            _ => expr.to_owned(),
        }
    }

    /// The expression turning JSON data `expr` into a value of type `ty`.
    fn decode(&self, expr: &str, ty: &Ty) -> String {
        match ty {
            Ty::Timestamp => format!("_timestamp_in({expr})"),
            // Strict: bad base64 is an error, never silently different bytes.
            Ty::Bytes => format!("base64.b64decode({expr}, validate=True)"),
            Ty::List(t) if self.decode("x", t) == "x" => expr.to_owned(),
            Ty::List(t) => format!("[{} for x in {expr}]", self.decode("x", t)),
            Ty::Map(t) if self.decode("v", t) == "v" => expr.to_owned(),
            Ty::Map(t) => format!("{{k: {} for k, v in {expr}.items()}}", self.decode("v", t)),
            Ty::Optional(t) if self.decode(expr, t) == expr => expr.to_owned(),
            Ty::Optional(t) => format!("None if {expr} is None else {}", self.decode(expr, t)),
            Ty::Named(n) => match self.defs.get(n) {
                Some(Def::Alias { ty, .. }) => self.decode(expr, ty),
                Some(Def::Enum { .. }) => format!("{n}({expr})"),
                Some(Def::Union { .. }) => format!("_{n}_from_wire({expr})"),
                Some(Def::Struct { .. }) => format!("{n}._from_wire({expr})"),
                None => expr.to_owned(),
            },
            _ => expr.to_owned(),
        }
    }

    fn field_annotation(&self, field: &Field) -> String {
        let ty = self.annotation(&field.ty);
        if field.optional {
            format!("Optional[{ty}]")
        } else {
            ty
        }
    }

    /// Whether `field` of struct `owner` is file content that may be streamed.
    fn streamed(&self, owner: &str, field: &Field) -> bool {
        field.ty == Ty::Bytes && self.streamed.contains(owner)
    }

    fn render_struct(&self, out: &mut String, name: &str, doc: &str, fields: &[Field]) {
        let attrs: Vec<Attr> = fields
            .iter()
            .map(|field| Attr {
                name: ident(&field.wire),
                annotation: if self.streamed(name, field) {
                    "Content".to_owned()
                } else {
                    self.field_annotation(field)
                },
                optional: field.optional,
                doc: field.doc.clone(),
                secret: field.secret,
            })
            .collect();
        plain_class(out, name, doc, &[], &attrs);
        self.render_to_wire(out, name, fields, "_to_wire", "", false);
        if fields.iter().any(|f| self.streamed(name, f)) {
            // For calls that send the content beside the JSON: never read or base64 a
            // file only to drop it.
            self.render_to_wire(
                out,
                name,
                fields,
                "_to_wire_beside",
                "Without its content, which travels beside the JSON as raw bytes.",
                true,
            );
        }
        let _ = writeln!(
            out,
            "\n    @classmethod\n    def _from_wire(cls, data: Dict[str, Any]) -> \"{name}\":"
        );
        let _ = writeln!(out, "        return cls(");
        for field in fields {
            let value = if field.optional {
                let got = format!("data.get(\"{}\")", field.wire);
                format!(
                    "None if {got} is None else {}",
                    self.decode(&format!("data[\"{}\"]", field.wire), &field.ty)
                )
            } else {
                self.decode(&format!("data[\"{}\"]", field.wire), &field.ty)
            };
            let _ = writeln!(out, "            {}={value},", ident(&field.wire));
        }
        let _ = writeln!(out, "        )");
    }

    /// `_to_wire` (or `_to_wire_beside`, without the streamed content).
    fn render_to_wire(
        &self,
        out: &mut String,
        name: &str,
        fields: &[Field],
        method: &str,
        doc: &str,
        beside: bool,
    ) {
        let _ = writeln!(out, "\n    def {method}(self) -> Dict[str, Any]:");
        if !doc.is_empty() {
            docstring(out, "        ", doc);
        }
        let _ = writeln!(out, "        out: Dict[str, Any] = {{}}");
        for field in fields {
            if beside && self.streamed(name, field) {
                continue;
            }
            let attr = format!("self.{}", ident(&field.wire));
            let value = if self.streamed(name, field) {
                format!("_content_out({attr})")
            } else {
                self.encode(&attr, &field.ty)
            };
            if field.optional {
                let _ = writeln!(
                    out,
                    "        if {attr} is not None:\n            out[\"{}\"] = {value}",
                    field.wire
                );
            } else {
                let _ = writeln!(out, "        out[\"{}\"] = {value}", field.wire);
            }
        }
        let _ = writeln!(out, "        return out");
    }

    fn render_types(&self) -> String {
        let mut out = format!("# {PREAMBLE}\n");
        out.push_str(
            "\"\"\"The Sesame model: every type that crosses the language boundary, as plain\n\
             classes and enums named and shaped like the 1Password SDK's.\"\"\"\n\n\
             from __future__ import annotations\n\n\
             import base64\nimport datetime\nimport enum\nimport os\n\
             from typing import Any, BinaryIO, ClassVar, Dict, List, Optional, Union\n\n\
             Content = Union[bytes, bytearray, memoryview, \"os.PathLike[str]\", BinaryIO]\n\
             \"\"\"File content to upload: bytes, or a path or binary file object to stream from\n\
             (calls that send content beside the request read it in chunks).\"\"\"\n\n\
             Destination = Union[str, \"os.PathLike[str]\", BinaryIO]\n\
             \"\"\"Where downloaded content goes: a path (written whole or not at all, owner-only)\n\
             or a binary file object opened for writing.\"\"\"\n\n\n\
             def _content_out(value: Content) -> str:\n\
             \x20   # Content inside the JSON (an item created with its files) is base64.\n\
             \x20   if isinstance(value, (bytes, bytearray, memoryview)):\n\
             \x20       data = bytes(value)\n\
             \x20   elif isinstance(value, (str, os.PathLike)):\n\
             \x20       with open(value, \"rb\") as file:\n\
             \x20           data = file.read()\n\
             \x20   else:\n\
             \x20       data = value.read()\n\
             \x20   return base64.b64encode(data).decode(\"ascii\")\n\n\n\
             def _timestamp_out(value: Union[datetime.datetime, str]) -> str:\n\
             \x20   if isinstance(value, datetime.datetime):\n\
             \x20       if value.tzinfo is None:\n\
             \x20           value = value.replace(tzinfo=datetime.timezone.utc)\n\
             \x20       return value.isoformat().replace(\"+00:00\", \"Z\")\n\
             \x20   return value\n\n\n\
             def _timestamp_in(value: str) -> datetime.datetime:\n\
             \x20   # Before Python 3.11, fromisoformat reads no trailing Z and exactly 3 or 6\n\
             \x20   # fractional digits; the server writes up to 9 (datetime keeps 6).\n\
             \x20   text = value.replace(\"Z\", \"+00:00\")\n\
             \x20   dot = text.find(\".\", 19)\n\
             \x20   if dot != -1:\n\
             \x20       end = dot + 1\n\
             \x20       while end < len(text) and text[end].isdigit():\n\
             \x20           end += 1\n\
             \x20       text = text[: dot + 1] + text[dot + 1 : end][:6].ljust(6, \"0\") + text[end:]\n\
             \x20   return datetime.datetime.fromisoformat(text)\n\n\n\
             def _redacted(value: Any) -> str:\n\
             \x20   # A secret in repr(): its size, never its value (as Debug in Rust).\n\
             \x20   if value is None:\n\
             \x20       return \"None\"\n\
             \x20   if isinstance(value, (str, bytes, bytearray)):\n\
             \x20       return f\"<redacted {len(value)} {'chars' if isinstance(value, str) else 'bytes'}>\"\n\
             \x20   return \"<redacted>\"\n\n\n\
             def _enum_out(value: Any) -> Any:\n\
             \x20   return value.value if isinstance(value, enum.Enum) else value\n",
        );
        let mut unions = String::new();
        // The public names, so that `from sesame.types import *` brings the model and
        // nothing this module imports.
        let mut public: Vec<String> = self.defs.keys().cloned().collect();
        public.extend(["Content".to_owned(), "Destination".to_owned()]);
        for def in self.defs.values() {
            match def {
                Def::Enum { name, doc, values } => {
                    let _ = writeln!(out, "\n\nclass {name}(str, enum.Enum):");
                    docstring(&mut out, "    ", doc);
                    for (wire, doc) in values {
                        let _ = writeln!(out, "    {} = \"{wire}\"", member(wire));
                        docstring(&mut out, "    ", doc);
                    }
                    if values.iter().any(|(w, _)| w == "Unsupported") {
                        let _ = writeln!(
                            out,
                            "\n    @classmethod\n    def _missing_(cls, value: object) -> \"{name}\":\n        \
                             # A value a newer server knows and this version does not.\n        \
                             return cls.UNSUPPORTED"
                        );
                    }
                }
                Def::Struct { name, doc, fields } => {
                    self.render_struct(&mut out, name, doc, fields)
                }
                Def::Alias { name, doc, ty } => {
                    let _ = writeln!(out, "\n\n{name} = {}", self.annotation(ty));
                    docstring(&mut out, "", doc);
                }
                Def::Union {
                    name,
                    doc,
                    tag,
                    content,
                    variants,
                } => {
                    let mut names = Vec::new();
                    for variant in variants {
                        let class = format!("{name}{}", variant.wire);
                        let content_attr = ident(content);
                        let attrs: Vec<Attr> = variant
                            .payload
                            .iter()
                            .map(|payload| Attr {
                                name: content_attr.clone(),
                                annotation: self.annotation(payload),
                                optional: false,
                                doc: String::new(),
                                secret: false,
                            })
                            .collect();
                        let tag_line =
                            format!("{}: ClassVar[str] = \"{}\"", ident(tag), variant.wire);
                        plain_class(&mut out, &class, &variant.doc, &[tag_line], &attrs);
                        let _ = writeln!(out, "\n    def _to_wire(self) -> Dict[str, Any]:");
                        match &variant.payload {
                            Some(payload) => {
                                let value = self.encode(&format!("self.{content_attr}"), payload);
                                let _ = writeln!(
                                    out,
                                    "        return {{\"{tag}\": \"{}\", \"{content}\": {value}}}",
                                    variant.wire
                                );
                            }
                            None => {
                                let _ = writeln!(
                                    out,
                                    "        return {{\"{tag}\": \"{}\"}}",
                                    variant.wire
                                );
                            }
                        }
                        public.push(class.clone());
                        names.push((variant, class));
                    }
                    let _ = writeln!(
                        unions,
                        "\n\n{name} = Union[{}]",
                        names
                            .iter()
                            .map(|(_, c)| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    docstring(&mut unions, "", doc);
                    let _ = writeln!(
                        unions,
                        "\n\ndef _{name}_from_wire(data: Dict[str, Any]) -> {name}:"
                    );
                    let _ = writeln!(unions, "    kind = data.get(\"{tag}\")");
                    for (variant, class) in &names {
                        match &variant.payload {
                            Some(payload) => {
                                let value = self.decode(&format!("data[\"{content}\"]"), payload);
                                let _ = writeln!(
                                    unions,
                                    "    if kind == \"{}\":\n        return {class}({value})",
                                    variant.wire
                                );
                            }
                            None => {
                                let _ = writeln!(
                                    unions,
                                    "    if kind == \"{}\":\n        return {class}()",
                                    variant.wire
                                );
                            }
                        }
                    }
                    let fallback = names
                        .iter()
                        .find(|(v, _)| v.wire == "Unsupported" && v.payload.is_none())
                        .map(|(_, c)| format!("    return {c}()\n"))
                        .unwrap_or_else(|| {
                            format!("    raise ValueError(f\"unknown {name} type {{kind!r}}\")\n")
                        });
                    unions.push_str(&fallback);
                }
            }
        }
        out.push_str(&unions);
        // Vault permissions, bit flags with the 1Password SDK's names and values.
        out.push_str(
            "\n\n# Vault permissions (bit flags), as in the 1Password SDK.\nNO_ACCESS = 0\n",
        );
        public.push("NO_ACCESS".to_owned());
        for (name, value) in sesame_core::model::permissions::ALL {
            let _ = writeln!(out, "{name} = {value}");
            public.push(name.to_owned());
        }
        // The 1Password SDK's names for types Sesame names otherwise, so ported
        // annotations keep working.
        out.push_str("\n\n# The 1Password SDK's names for the same types.\n");
        for (theirs, ours) in ONEPASSWORD_NAMES {
            if self.defs.contains_key(*ours) {
                let _ = writeln!(out, "{theirs} = {ours}");
                public.push((*theirs).to_owned());
            }
        }
        public.sort_unstable();
        out.push_str("\n\n__all__ = [\n");
        for name in public {
            let _ = writeln!(out, "    \"{name}\",");
        }
        out.push_str("]\n");
        out
    }
}

fn render_errors(codes: &[(&str, u32, &str)]) -> String {
    let mut out = format!("# {PREAMBLE}\n");
    out.push_str(
        "\"\"\"Sesame's exceptions: one class per stable error code, each also the matching\n\
         built-in (`NotFoundError` is a `LookupError`, `InvalidInputError` a `ValueError`, …).\n\
         Every exception carries `.code`, `.message` and `.details` (the error's facts as\n\
         data), and pickles.\"\"\"\n\n\
         from __future__ import annotations\n\n\
         from typing import Any, Dict, Optional, Type\n\n\n\
         class SesameError(Exception):\n\
         \x20   \"\"\"A Sesame failure; `code` is stable across releases and languages.\"\"\"\n\n\
         \x20   code: str = \"unknown\"\n\
         \x20   number: int = 0\n\n\
         \x20   def __init__(\n\
         \x20       self,\n\
         \x20       message: str,\n\
         \x20       *,\n\
         \x20       details: Optional[Dict[str, Any]] = None,\n\
         \x20       status_code: Optional[int] = None,\n\
         \x20       request_id: Optional[str] = None,\n\
         \x20       code: Optional[str] = None,\n\
         \x20   ) -> None:\n\
         \x20       super().__init__(message)\n\
         \x20       if code is not None:\n\
         \x20           # A code this version has no class for (from a newer core) is kept.\n\
         \x20           self.code = code\n\
         \x20       self.message = message\n\
         \x20       self.details: Dict[str, Any] = dict(details or {})\n\
         \x20       self.status_code = status_code\n\
         \x20       self.request_id = request_id\n\n\
         \x20   def __str__(self) -> str:\n\
         \x20       return self.message\n\n\
         \x20   def __reduce__(self) -> Any:\n\
         \x20       return (\n\
         \x20           _rebuild,\n\
         \x20           (type(self), self.message, self.details, self.status_code, self.request_id, self.code),\n\
         \x20       )\n\n\n\
         def _rebuild(\n\
         \x20   cls: Type[SesameError],\n\
         \x20   message: str,\n\
         \x20   details: Dict[str, Any],\n\
         \x20   status_code: Optional[int],\n\
         \x20   request_id: Optional[str],\n\
         \x20   code: str,\n\
         ) -> SesameError:\n\
         \x20   return cls(message, details=details, status_code=status_code, request_id=request_id, code=code)\n",
    );
    for (code, number, description) in codes {
        let class = error_class(code);
        let bases = match builtin_base(code) {
            Some(base) => format!("SesameError, {base}"),
            None => "SesameError".to_owned(),
        };
        let _ = writeln!(out, "\n\nclass {class}({bases}):");
        docstring(&mut out, "    ", description);
        let _ = writeln!(out, "\n    code = \"{code}\"\n    number = {number}");
        if *code == "rate_limited" {
            out.push_str(
                "\n    @property\n    def retry_after(self) -> Optional[float]:\n        \
                 \"\"\"Seconds the server asked to wait before retrying, when it said.\"\"\"\n        \
                 seconds = self.details.get(\"retryAfterSeconds\")\n        \
                 return None if seconds is None else float(seconds)\n",
            );
        }
    }
    out.push_str("\n\nERRORS_BY_CODE: Dict[str, Type[SesameError]] = {\n");
    for (code, _, _) in codes {
        let _ = writeln!(out, "    \"{code}\": {},", error_class(code));
    }
    out.push_str(
        "}\n\n\n\
         def error_from_envelope(error: Dict[str, Any]) -> SesameError:\n\
         \x20   \"\"\"The exception for an `{\"code\", \"message\", …details}` error envelope.\"\"\"\n\
         \x20   details = {k: v for k, v in error.items() if k not in (\"code\", \"message\")}\n\
         \x20   code = str(error.get(\"code\", \"unknown\"))\n\
         \x20   cls = ERRORS_BY_CODE.get(code, SesameError)\n\
         \x20   return cls(\n\
         \x20       str(error.get(\"message\", \"\")),\n\
         \x20       details=details,\n\
         \x20       # Set when the error came from the server's answer.\n\
         \x20       status_code=details.get(\"statusCode\"),\n\
         \x20       request_id=details.get(\"requestId\"),\n\
         \x20       code=code,\n\
         \x20   )\n\n\n\
         # The 1Password SDK's name for the same failure, so ported `except` clauses work.\n\
         RateLimitExceededException = RateLimitedError\n",
    );
    let mut names: Vec<String> = codes.iter().map(|(code, _, _)| error_class(code)).collect();
    names.extend(
        [
            "SesameError",
            "ERRORS_BY_CODE",
            "error_from_envelope",
            "RateLimitExceededException",
        ]
        .map(str::to_owned),
    );
    names.sort_unstable();
    out.push_str("\n\n__all__ = [\n");
    for name in names {
        let _ = writeln!(out, "    \"{name}\",");
    }
    out.push_str("]\n");
    out
}

/// Each group's class name (`items.files` → `ItemsFiles`).
fn group_class(group: &str) -> String {
    crate::ir::pascal(group)
}

fn render_calls(model: &Model<'_>, calls: &[Call]) -> String {
    let mut out = format!("# {PREAMBLE}\n");
    out.push_str(
        "\"\"\"Every Sesame call as a method, over an invoker the package provides: async\n\
         classes (`Secrets`, `Items`, …) and their synchronous twins (`SyncSecrets`, …).\"\"\"\n\n\
         from __future__ import annotations\n\n\
         import base64  # noqa: F401\n\
         import datetime  # noqa: F401\n\
         from typing import Any, Dict, List, Optional, Protocol, Tuple\n\n\
         from .types import *  # noqa: F403\n\
         from .types import _timestamp_out, _enum_out  # noqa: F401\n",
    );
    // Union helpers are module-private in types.py; import the ones results need.
    let mut helpers: Vec<String> = model
        .defs
        .values()
        .filter_map(|d| match d {
            Def::Union { name, .. } => Some(format!("_{name}_from_wire")),
            _ => None,
        })
        .collect();
    helpers.sort();
    if !helpers.is_empty() {
        let _ = writeln!(
            out,
            "from .types import {}  # noqa: F401",
            helpers.join(", ")
        );
    }
    out.push_str(
        "\n\nclass AsyncInvoker(Protocol):\n\
         \x20   async def invoke(\n\
         \x20       self,\n\
         \x20       name: str,\n\
         \x20       parameters: Dict[str, Any],\n\
         \x20       data: Optional[Content] = None,\n\
         \x20       sink: Optional[Destination] = None,\n\
         \x20   ) -> Tuple[Any, Optional[bytes]]: ...\n\n\n\
         class SyncInvoker(Protocol):\n\
         \x20   def invoke(\n\
         \x20       self,\n\
         \x20       name: str,\n\
         \x20       parameters: Dict[str, Any],\n\
         \x20       data: Optional[Content] = None,\n\
         \x20       sink: Optional[Destination] = None,\n\
         \x20   ) -> Tuple[Any, Optional[bytes]]: ...\n\n\n\
         _offline_invoker: Optional[SyncInvoker] = None\n\n\n\
         def _offline() -> SyncInvoker:\n\
         \x20   # Calls that need no client run on the package's process-level invoker,\n\
         \x20   # imported on first use (the offline calls are hot: keep it cached).\n\
         \x20   global _offline_invoker\n\
         \x20   if _offline_invoker is None:\n\
         \x20       from ._invoker import offline_invoker\n\n\
         \x20       _offline_invoker = offline_invoker()\n\
         \x20   return _offline_invoker\n\n\n\
         def _process() -> SyncInvoker:\n\
         \x20   # Calls that need no client but do I/O, from a thread that may block.\n\
         \x20   from ._invoker import process_invoker\n\n\
         \x20   return process_invoker()\n\n\n\
         def _anonymous() -> AsyncInvoker:\n\
         \x20   # Calls that need no client but do I/O (opening a share link) run on the\n\
         \x20   # package's process-level async invoker.\n\
         \x20   from ._invoker import anonymous_invoker\n\n\
         \x20   return anonymous_invoker()\n",
    );
    let mut groups: BTreeMap<&str, Vec<&Call>> = BTreeMap::new();
    for call in calls {
        groups.entry(call.group.as_str()).or_default().push(call);
    }
    // Where each call of the table lives, for tools that go from a call's name to its
    // method (the shared scenarios' runner).
    out.push_str(
        "\n\n# Each call of the table: (group path from the client, method, needs a client).\n\
         CALLS: Dict[str, Tuple[str, str, bool]] = {\n",
    );
    for call in calls {
        let _ = writeln!(
            out,
            "    \"{}\": (\"{}\", \"{}\", {}),",
            call.name,
            call.group,
            ident(&call.method),
            if call.needs_client() { "True" } else { "False" }
        );
    }
    out.push_str("}\n");
    for sync in [false, true] {
        let prefix = if sync { "Sync" } else { "" };
        for (group, members) in &groups {
            let class = if *group == "client" {
                format!("{prefix}ClientCalls")
            } else {
                format!("{prefix}{}", group_class(group))
            };
            let _ = writeln!(out, "\n\nclass {class}:");
            docstring(&mut out, "    ", &format!("The `{group}` calls."));
            let invoker = if sync { "SyncInvoker" } else { "AsyncInvoker" };
            let _ = writeln!(out, "\n    def __init__(self, invoker: {invoker}) -> None:");
            let _ = writeln!(out, "        self._invoker = invoker");
            let children = crate::ir::child_groups(groups.keys().copied(), group);
            for child in children {
                let attr = child.rsplit('.').next().unwrap_or(child);
                let _ = writeln!(
                    out,
                    "        self.{attr} = {prefix}{}(invoker)",
                    group_class(child)
                );
            }
            for call in members {
                render_method(model, &mut out, call, sync);
                if call.result == Ty::Bytes {
                    render_download(&mut out, call, sync, model);
                }
            }
        }
    }
    out
}

/// `{method}_to(…, destination)`: a call returning file content, streamed to a path or a
/// file object instead of held in memory.
fn render_download(out: &mut String, call: &Call, sync: bool, model: &Model<'_>) {
    let mut args = vec!["self".to_owned()];
    for (name, ty, _) in &call.params {
        args.push(format!("{}: {}", ident(name), model.annotation(ty)));
    }
    args.push("destination: Destination".to_owned());
    let def = if sync { "def" } else { "async def" };
    let _ = writeln!(
        out,
        "\n    {def} {}_to({}) -> None:",
        ident(&call.method),
        args.join(", ")
    );
    docstring(
        out,
        "        ",
        &format!(
            "`{}`, written to `destination` as it arrives (memory stays bounded): a path gets\n\
             the whole content or nothing (owner-only permissions), a file object gets it in\n\
             chunks.",
            ident(&call.method)
        ),
    );
    let _ = writeln!(out, "        parameters: Dict[str, Any] = {{}}");
    for (name, ty, _) in &call.params {
        let _ = writeln!(
            out,
            "        parameters[\"{name}\"] = {}",
            model.encode(&ident(name), ty)
        );
    }
    let wait = if sync { "" } else { "await " };
    let _ = writeln!(
        out,
        "        {wait}self._invoker.invoke(\"{}\", parameters, None, destination)",
        call.name
    );
}

fn render_method(model: &Model<'_>, out: &mut String, call: &Call, sync: bool) {
    let mut args = Vec::new();
    for (name, ty, optional) in &call.params {
        let annotation = model.annotation(ty);
        if *optional {
            let annotation = if matches!(ty, Ty::Optional(_)) {
                annotation
            } else {
                format!("Optional[{annotation}]")
            };
            args.push(format!("{}: {annotation} = None", ident(name)));
        } else {
            args.push(format!("{}: {annotation}", ident(name)));
        }
    }
    let result = model.annotation(&call.result);
    use sesame_invoke::Needs;
    let static_call = !call.needs_client();
    let (def, receiver) = match (call.needs, sync) {
        (Needs::Client, true) => ("    def", "self".to_owned()),
        (Needs::Client, false) => ("    async def", "self".to_owned()),
        // I/O without a client: a coroutine in the async class, blocking in the sync one.
        (Needs::Anonymous, false) => ("    @staticmethod\n    async def", String::new()),
        _ => ("    @staticmethod\n    def", String::new()),
    };
    let mut all_args = Vec::new();
    if !receiver.is_empty() {
        all_args.push(receiver);
    }
    all_args.extend(args);
    let _ = writeln!(
        out,
        "\n{def} {}({}) -> {result}:",
        ident(&call.method),
        all_args.join(", ")
    );
    docstring(out, "        ", &call.doc);
    // File content in a parameter travels beside the JSON as raw bytes.
    let mut data = None;
    let _ = writeln!(out, "        parameters: Dict[str, Any] = {{}}");
    for (name, ty, optional) in &call.params {
        let var = ident(name);
        let value = model.encode(&var, ty);
        if let Some(bytes) = crate::ir::beside(model.defs, ty) {
            // Encoded without its content (never base64 a file only to drop it), which
            // goes beside the JSON as raw bytes.
            let attr = ident(&bytes.wire);
            data = Some(format!("{var}.{attr}"));
            let _ = writeln!(
                out,
                "        parameters[\"{name}\"] = {var}._to_wire_beside()"
            );
            continue;
        }
        if *optional {
            let _ = writeln!(
                out,
                "        if {var} is not None:\n            parameters[\"{name}\"] = {value}"
            );
        } else {
            let _ = writeln!(out, "        parameters[\"{name}\"] = {value}");
        }
    }
    let data_arg = data.map(|d| format!(", {d}")).unwrap_or_default();
    let invoke = match (static_call, sync, call.needs) {
        (true, false, Needs::Anonymous) => {
            format!(
                "await _anonymous().invoke(\"{}\", parameters{data_arg})",
                call.name
            )
        }
        // I/O without a client, blocking: the process-level invoker that may wait.
        (true, true, Needs::Anonymous) => {
            format!("_process().invoke(\"{}\", parameters{data_arg})", call.name)
        }
        (true, _, _) => format!("_offline().invoke(\"{}\", parameters{data_arg})", call.name),
        (false, true, _) => format!(
            "self._invoker.invoke(\"{}\", parameters{data_arg})",
            call.name
        ),
        (false, false, _) => format!(
            "await self._invoker.invoke(\"{}\", parameters{data_arg})",
            call.name
        ),
    };
    match &call.result {
        Ty::Unit => {
            let _ = writeln!(out, "        {invoke}");
        }
        Ty::Bytes => {
            let _ = writeln!(out, "        _, content = {invoke}");
            let _ = writeln!(out, "        return content or b\"\"");
        }
        result => {
            let _ = writeln!(out, "        result, _ = {invoke}");
            let value = model.decode("result", result);
            // The JSON result is `Any`; returned as is, strict mypy wants it noted.
            let ignore = if value == "result" {
                "  # type: ignore[no-any-return]"
            } else {
                ""
            };
            let _ = writeln!(out, "        return {value}{ignore}");
        }
    }
}

/// The Python files.
pub fn render(
    defs: &BTreeMap<String, Def>,
    calls: &[Call],
    codes: &[(&str, u32, &str)],
) -> Result<Vec<(PathBuf, String)>, String> {
    let streamed = calls
        .iter()
        .flat_map(|call| &call.params)
        .filter(|(_, ty, _)| crate::ir::beside(defs, ty).is_some())
        .filter_map(|(_, ty, _)| match ty {
            Ty::Named(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    let model = Model { defs, streamed };
    Ok(vec![
        (
            PathBuf::from("python/sesame/types.py"),
            model.render_types(),
        ),
        (
            PathBuf::from("python/sesame/errors.py"),
            render_errors(codes),
        ),
        (
            PathBuf::from("python/sesame/_calls.py"),
            render_calls(&model, calls),
        ),
    ])
}
