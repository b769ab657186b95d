//! Go: `types.go` (structs with JSON tags, string constants, tagged unions with their own
//! JSON methods), `errors.go` (`*Error` with `Code`, sentinels for `errors.Is`, and
//! `*RateLimitedError` for `errors.As`) and `calls.go` (a method per call taking a
//! `context.Context`, over an invoker the package provides).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::ir::{pascal, snake, Call, Def, Ty};
use crate::PREAMBLE;

/// Go's initialisms, upper-cased in exported names (`VaultID`, `URL`).
const INITIALISMS: &[&str] = &[
    "id", "url", "uri", "ssh", "otp", "totp", "api", "json", "http", "ttl",
];

/// An exported Go name for a JSON or snake_case name.
fn exported(name: &str) -> String {
    snake(name)
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            if INITIALISMS.contains(&w) {
                w.to_ascii_uppercase()
            } else {
                pascal(w)
            }
        })
        .collect()
}

fn comment(out: &mut String, indent: &str, doc: &str) {
    for line in doc.trim().lines() {
        if line.is_empty() {
            let _ = writeln!(out, "{indent}//");
        } else {
            let _ = writeln!(out, "{indent}// {line}");
        }
    }
}

struct Model<'a> {
    defs: &'a BTreeMap<String, Def>,
}

impl Model<'_> {
    fn go_type(&self, ty: &Ty) -> String {
        match ty {
            Ty::String => "string".into(),
            Ty::Integer => "int64".into(),
            Ty::Number => "float64".into(),
            Ty::Boolean => "bool".into(),
            Ty::Bytes => "[]byte".into(),
            Ty::Timestamp => "time.Time".into(),
            Ty::Any | Ty::Unit => "json.RawMessage".into(),
            Ty::List(t) => format!("[]{}", self.go_type(t)),
            Ty::Map(t) => format!("map[string]{}", self.go_type(t)),
            Ty::Optional(t) => match **t {
                Ty::List(_) | Ty::Map(_) | Ty::Bytes | Ty::Any => self.go_type(t),
                _ => format!("*{}", self.go_type(t)),
            },
            Ty::Named(n) => n.clone(),
        }
    }

    fn render_types(&self) -> String {
        let mut out = format!("// {PREAMBLE}\n\n");
        out.push_str(
            "package sesame\n\n\
             import (\n\t\"encoding/json\"\n\t\"fmt\"\n\t\"time\"\n)\n\n\
             // Keep the imports used whatever the model holds.\n\
             var (\n\t_ = time.Time{}\n\t_ = fmt.Errorf\n\t_ json.RawMessage\n)\n",
        );
        // ErrorCode is declared with the errors (errors.go).
        for def in self
            .defs
            .values()
            .filter(|d| !matches!(d, Def::Enum { name, .. } if name == "ErrorCode"))
        {
            out.push('\n');
            match def {
                Def::Enum { name, doc, values } => {
                    comment(&mut out, "", &format!("{name}: {doc}"));
                    let _ = writeln!(out, "type {name} string\n\nconst (");
                    for (wire, doc) in values {
                        comment(&mut out, "\t", doc);
                        let _ = writeln!(out, "\t{name}{} {name} = {wire:?}", exported(wire));
                    }
                    out.push_str(")\n");
                }
                Def::Struct { name, doc, fields } => {
                    comment(&mut out, "", &format!("{name}: {doc}"));
                    let _ = writeln!(out, "type {name} struct {{");
                    for field in fields {
                        comment(&mut out, "\t", &field.doc);
                        let ty = if field.optional {
                            Ty::Optional(Box::new(field.ty.clone()))
                        } else {
                            field.ty.clone()
                        };
                        let omit = if field.optional { ",omitempty" } else { "" };
                        let _ = writeln!(
                            out,
                            "\t{} {} `json:\"{}{omit}\"`",
                            exported(&field.wire),
                            self.go_type(&ty),
                            field.wire
                        );
                    }
                    out.push_str("}\n");
                }
                Def::Alias { name, doc, ty } => {
                    comment(&mut out, "", &format!("{name}: {doc}"));
                    let _ = writeln!(out, "type {name} = {}", self.go_type(ty));
                }
                Def::Union {
                    name,
                    doc,
                    tag,
                    content,
                    variants,
                } => self.render_union(&mut out, name, doc, tag, content, variants),
            }
        }
        out
    }

    fn render_union(
        &self,
        out: &mut String,
        name: &str,
        doc: &str,
        tag: &str,
        content: &str,
        variants: &[crate::ir::Variant],
    ) {
        let kinds = format!("{name}Types");
        let _ = writeln!(
            out,
            "// {kinds} names the variants of {name}.\ntype {kinds} string\n\nconst ("
        );
        for v in variants {
            let _ = writeln!(
                out,
                "\t{name}Type{} {kinds} = {:?}",
                exported(&v.wire),
                v.wire
            );
        }
        out.push_str(")\n\n");
        comment(out, "", &format!("{name}: {doc}"));
        comment(
            out,
            "",
            &format!(
                "Exactly one variant is set, as {}; build one with the New{name}… functions.",
                exported(tag)
            ),
        );
        let _ = writeln!(out, "type {name} struct {{\n\t{} {kinds}", exported(tag));
        for v in variants {
            if let Some(p) = &v.payload {
                let _ = writeln!(
                    out,
                    "\t{} *{}",
                    exported(&v.wire),
                    self.go_type(&strip_optional(p))
                );
            }
        }
        out.push_str("}\n");
        for v in variants {
            let variant = exported(&v.wire);
            comment(out, "", &format!("New{name}{variant}: {}", v.doc));
            match &v.payload {
                Some(p) => {
                    let _ = writeln!(
                        out,
                        "func New{name}{variant}(value {}) {name} {{\n\treturn {name}{{{}: {name}Type{variant}, {variant}: &value}}\n}}\n",
                        self.go_type(&strip_optional(p)),
                        exported(tag)
                    );
                }
                None => {
                    let _ = writeln!(out, "func New{name}{variant}() {name} {{\n\treturn {name}{{{}: {name}Type{variant}}}\n}}\n", exported(tag));
                }
            }
        }
        // JSON: {"<tag>": "<variant>", "<content>": …}.
        let _ = writeln!(out, "// MarshalJSON writes {{{tag:?}, {content:?}}}.\nfunc (u {name}) MarshalJSON() ([]byte, error) {{");
        let _ = writeln!(out, "\tswitch u.{} {{", exported(tag));
        for v in variants {
            let variant = exported(&v.wire);
            match &v.payload {
                Some(_) => {
                    let _ = writeln!(
                        out,
                        "\tcase {name}Type{variant}:\n\t\treturn json.Marshal(struct {{\n\t\t\tT {kinds} `json:\"{tag}\"`\n\t\t\tC any `json:\"{content}\"`\n\t\t}}{{u.{}, u.{variant}}})",
                        exported(tag)
                    );
                }
                None => {
                    let _ = writeln!(out, "\tcase {name}Type{variant}:\n\t\treturn json.Marshal(struct {{\n\t\t\tT {kinds} `json:\"{tag}\"`\n\t\t}}{{u.{}}})", exported(tag));
                }
            }
        }
        let _ = writeln!(
            out,
            "\t}}\n\treturn nil, fmt.Errorf(\"{name}: unknown variant %q\", u.{})\n}}\n",
            exported(tag)
        );
        let _ = writeln!(out, "// UnmarshalJSON reads {{{tag:?}, {content:?}}}.\nfunc (u *{name}) UnmarshalJSON(data []byte) error {{");
        let _ = writeln!(
            out,
            "\tvar raw struct {{\n\t\tT {kinds} `json:\"{tag}\"`\n\t\tC json.RawMessage `json:\"{content}\"`\n\t}}\n\tif err := json.Unmarshal(data, &raw); err != nil {{\n\t\treturn err\n\t}}\n\t*u = {name}{{{}: raw.T}}\n\tswitch raw.T {{",
            exported(tag)
        );
        for v in variants {
            if let Some(p) = &v.payload {
                let variant = exported(&v.wire);
                let _ = writeln!(
                    out,
                    "\tcase {name}Type{variant}:\n\t\tif len(raw.C) == 0 || string(raw.C) == \"null\" {{\n\t\t\treturn nil\n\t\t}}\n\t\tu.{variant} = new({})\n\t\treturn json.Unmarshal(raw.C, u.{variant})",
                    self.go_type(&strip_optional(p))
                );
            }
        }
        out.push_str("\t}\n\treturn nil\n}\n");
    }
}

fn strip_optional(ty: &Ty) -> Ty {
    match ty {
        Ty::Optional(t) => (**t).clone(),
        other => other.clone(),
    }
}

fn render_errors(codes: &[(&str, u32, &str)]) -> String {
    let mut out = format!("// {PREAMBLE}\n\n");
    out.push_str(
        "package sesame\n\n\
         import (\n\t\"fmt\"\n\t\"time\"\n)\n\n\
         // ErrorCode is a stable error code, shared by every Sesame SDK.\n\
         type ErrorCode string\n\n\
         // The codes, and their stable numbers (the C ABI's statuses; never reused).\n\
         const (\n",
    );
    for (code, _, description) in codes {
        comment(&mut out, "\t", description);
        let _ = writeln!(out, "\tCode{} ErrorCode = {code:?}", pascal(code));
    }
    out.push_str(")\n\n// ErrorNumbers maps each code to its stable number.\nvar ErrorNumbers = map[ErrorCode]int{\n");
    for (code, number, _) in codes {
        let _ = writeln!(out, "\tCode{}: {number},", pascal(code));
    }
    out.push_str(
        "}\n\n\
         // Error is every Sesame failure: match it with errors.Is(err, sesame.ErrNotFound) and\n\
         // friends, or errors.As(err, &rateLimited) for the wait a rate limit asks for.\n\
         type Error struct {\n\
         \t// Code is stable across releases and languages.\n\
         \tCode ErrorCode\n\
         \t// Message says what went wrong and what to do; it never holds a secret.\n\
         \tMessage string\n\
         \t// StatusCode is the HTTP status behind the error, when there was one.\n\
         \tStatusCode int\n\
         \t// Details are the error's facts as data (resource, name, candidates, …).\n\
         \tDetails map[string]any\n\
         }\n\n\
         func (e *Error) Error() string { return e.Message }\n\n\
         // Is matches a sentinel of the same code.\n\
         func (e *Error) Is(target error) bool {\n\
         \tif s, ok := target.(*sentinel); ok {\n\t\treturn s.code == e.Code\n\t}\n\
         \treturn false\n\
         }\n\n\
         type sentinel struct{ code ErrorCode }\n\n\
         func (s *sentinel) Error() string { return fmt.Sprintf(\"sesame: %s\", s.code) }\n\n\
         // The sentinels, one per code, for errors.Is.\n\
         var (\n",
    );
    for (code, _, _) in codes {
        let _ = writeln!(
            out,
            "\tErr{} error = &sentinel{{Code{}}}",
            pascal(code),
            pascal(code)
        );
    }
    out.push_str(
        ")\n\n\
         // RateLimitedError is the error of code rate_limited, with the wait the server asked for.\n\
         type RateLimitedError struct {\n\
         \t// Err is the error itself (errors.Is(err, ErrRateLimited) holds).\n\
         \tErr *Error\n\
         \t// RetryAfter is how long to wait before retrying (zero when the server did not say).\n\
         \tRetryAfter time.Duration\n\
         }\n\n\
         func (e *RateLimitedError) Error() string { return e.Err.Message }\n\n\
         func (e *RateLimitedError) Unwrap() error { return e.Err }\n\n\
         // errorFromEnvelope is the error of an {\"code\", \"message\", …details} envelope.\n\
         func errorFromEnvelope(envelope map[string]any) error {\n\
         \tcode, _ := envelope[\"code\"].(string)\n\
         \tmessage, _ := envelope[\"message\"].(string)\n\
         \tdetails := map[string]any{}\n\
         \tfor k, v := range envelope {\n\t\tif k != \"code\" && k != \"message\" {\n\t\t\tdetails[k] = v\n\t\t}\n\t}\n\
         \terr := &Error{Code: ErrorCode(code), Message: message, Details: details}\n\
         \tif err.Code == CodeRateLimited {\n\
         \t\tseconds, _ := details[\"retryAfterSeconds\"].(float64)\n\
         \t\treturn &RateLimitedError{Err: err, RetryAfter: time.Duration(seconds * float64(time.Second))}\n\
         \t}\n\
         \treturn err\n\
         }\n",
    );
    out
}

fn render_calls(model: &Model<'_>, calls: &[Call]) -> String {
    let mut out = format!("// {PREAMBLE}\n\n");
    out.push_str(
        "package sesame\n\n\
         import (\n\t\"context\"\n\t\"encoding/json\"\n)\n\n\
         // invoker runs one call: {name, parameters}, with raw bytes beside when there are any.\n\
         type invoker interface {\n\
         \tinvoke(ctx context.Context, name string, parameters map[string]any, data []byte) (json.RawMessage, []byte, error)\n\
         }\n\n\
         // offlineInvoker runs calls that need no client; the package sets it.\n\
         var offlineInvoker invoker\n\n\
         func decode[T any](raw json.RawMessage, err error) (T, error) {\n\
         \tvar value T\n\
         \tif err != nil {\n\t\treturn value, err\n\t}\n\
         \terr = json.Unmarshal(raw, &value)\n\
         \treturn value, err\n\
         }\n",
    );
    let mut groups: BTreeMap<&str, Vec<&Call>> = BTreeMap::new();
    for call in calls {
        groups.entry(call.group.as_str()).or_default().push(call);
    }
    for (group, members) in &groups {
        let type_name = format!(
            "{}API",
            if *group == "client" {
                "Client".to_owned()
            } else {
                exported(&group.replace('.', "_"))
            }
        );
        let offline_name = format!("{}Offline", exported(&group.replace('.', "_")));
        if members.iter().any(|c| c.needs_client()) {
            let _ = writeln!(out, "\n// {type_name} holds the {group} calls.\ntype {type_name} struct{{ inv invoker }}");
        }
        if members.iter().any(|c| !c.needs_client()) {
            let _ = writeln!(
                out,
                "\n// {offline_name} holds the {group} calls that need no client.\ntype {offline_name} struct{{}}\n\n// {} runs the {group} calls that need no client.\nvar {} {offline_name}",
                exported(&group.replace('.', "_")),
                exported(&group.replace('.', "_"))
            );
        }
        for call in members {
            let receiver = if call.needs_client() {
                format!("a *{type_name}")
            } else {
                offline_name.clone()
            };
            let mut args = vec!["ctx context.Context".to_owned()];
            for (name, ty, optional) in &call.params {
                let t = if *optional && !matches!(ty, Ty::Optional(_)) {
                    Ty::Optional(Box::new(ty.clone()))
                } else {
                    ty.clone()
                };
                args.push(format!("{} {}", go_param(name), model.go_type(&t)));
            }
            let result = match &call.result {
                Ty::Unit => "error".to_owned(),
                other => format!("({}, error)", model.go_type(other)),
            };
            out.push('\n');
            comment(
                &mut out,
                "",
                &format!("{} {}", exported(&call.method), lower_first(&call.doc)),
            );
            let _ = writeln!(
                out,
                "func ({receiver}) {}({}) {result} {{",
                exported(&call.method),
                args.join(", ")
            );
            let inv = if call.needs_client() {
                "a.inv"
            } else {
                "offlineInvoker"
            };
            let mut data = "nil".to_owned();
            out.push_str("\tparameters := map[string]any{\n");
            for (name, ty, _) in &call.params {
                if crate::ir::beside(model.defs, ty).is_none() {
                    let _ = writeln!(out, "\t\t{name:?}: {},", go_param(name));
                }
            }
            out.push_str("\t}\n");
            for (name, ty, _) in &call.params {
                if let Some(bytes) = crate::ir::beside(model.defs, ty) {
                    // The content goes beside the JSON as raw bytes; the JSON holds an
                    // empty string in its place (nil would encode as null).
                    let var = go_param(name);
                    let field = exported(&bytes.wire);
                    let _ = writeln!(
                        out,
                        "\tdata := {var}.{field}\n\t{var}.{field} = []byte{{}}\n\tparameters[{name:?}] = {var}"
                    );
                    data = "data".to_owned();
                }
            }
            let invoke = format!("{inv}.invoke(ctx, {:?}, parameters, {data})", call.name);
            match &call.result {
                Ty::Unit => {
                    let _ = writeln!(out, "\t_, _, err := {invoke}\n\treturn err\n}}");
                }
                Ty::Bytes => {
                    let _ = writeln!(
                        out,
                        "\t_, content, err := {invoke}\n\treturn content, err\n}}"
                    );
                }
                other => {
                    let _ = writeln!(
                        out,
                        "\traw, _, err := {invoke}\n\treturn decode[{}](raw, err)\n}}",
                        model.go_type(other)
                    );
                }
            }
        }
    }
    out
}

/// A Go parameter name: lower camelCase with Go's initialisms (`vaultID`, `id`).
fn go_param(name: &str) -> String {
    let mut words = snake(name)
        .split('_')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter();
    let first = words.next().unwrap_or_default();
    let param = first + &words.map(|w| exported(&w)).collect::<String>();
    match param.as_str() {
        "type" | "func" | "range" | "map" | "go" | "select" | "default" => format!("{param}_"),
        _ => param,
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// `source` as gofmt writes it (the Go toolchain's formatter is the only correct one).
fn gofmt(path: &str, source: String) -> Result<String, String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("gofmt")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run gofmt ({e}): the Go toolchain is needed to generate {path}")
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(source.as_bytes())
            .map_err(|e| format!("gofmt: {e}"))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("gofmt: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "gofmt rejected the generated {path}: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("gofmt: {e}"))
}

/// The Go files.
pub fn render(
    defs: &BTreeMap<String, Def>,
    calls: &[Call],
    codes: &[(&str, u32, &str)],
) -> Result<Vec<(PathBuf, String)>, String> {
    let model = Model { defs };
    Ok(vec![
        (
            PathBuf::from("go/types.go"),
            gofmt("go/types.go", model.render_types())?,
        ),
        (
            PathBuf::from("go/errors.go"),
            gofmt("go/errors.go", render_errors(codes))?,
        ),
        (
            PathBuf::from("go/calls.go"),
            gofmt("go/calls.go", render_calls(&model, calls))?,
        ),
    ])
}
