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

/// A model type's Go name: its PascalCase words with Go's initialisms upper-cased, as
/// the 1Password Go SDK names them (`OtpFieldDetails` is `OTPFieldDetails`).
fn go_name(name: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for c in name.chars() {
        match words.last_mut() {
            Some(word) if !c.is_ascii_uppercase() => word.push(c),
            _ => words.push(c.to_string()),
        }
    }
    words
        .iter()
        .map(|w| {
            if INITIALISMS.contains(&w.to_ascii_lowercase().as_str()) {
                w.to_ascii_uppercase()
            } else {
                w.clone()
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
            Ty::Named(n) => go_name(n),
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
                    let name = &go_name(name);
                    comment(&mut out, "", &format!("{name}: {doc}"));
                    let _ = writeln!(out, "type {name} string\n\nconst (");
                    for (wire, doc) in values {
                        comment(&mut out, "\t", doc);
                        let _ = writeln!(out, "\t{name}{} {name} = {wire:?}", exported(wire));
                    }
                    out.push_str(")\n");
                }
                Def::Struct { name, doc, fields } => {
                    let name = &go_name(name);
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
                    let name = &go_name(name);
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
        // Vault permissions, bit flags with the 1Password Go SDK's names and values;
        // untyped, so they fit any integer parameter.
        out.push_str("\n// Vault permissions (bit flags), as in the 1Password Go SDK.\nconst (\n\tNoAccess = 0\n");
        for (name, value) in sesame_core::model::permissions::ALL {
            let _ = writeln!(out, "\t{} = {value}", exported(&name.to_ascii_lowercase()));
        }
        out.push_str(")\n");
        for (theirs, ours) in crate::python::ONEPASSWORD_NAMES {
            let _ = writeln!(
                out,
                "\n// {theirs} is the 1Password Go SDK's name for {ours}.\ntype {theirs} = {ours}"
            );
        }
        out
    }

    /// A tagged union as the 1Password Go SDK writes it: `{U}Types` and its
    /// `{U}TypeVariant{V}` constants, a struct with the tag as `Type` and the payload
    /// unexported, read with `u.{V}()` and built with `New{U}TypeVariant{V}(&payload)`.
    fn render_union(
        &self,
        out: &mut String,
        name: &str,
        doc: &str,
        tag: &str,
        content: &str,
        variants: &[crate::ir::Variant],
    ) {
        let name = &go_name(name);
        let tag_field = exported(tag);
        let kinds = format!("{name}Types");
        let _ = writeln!(
            out,
            "// {kinds} names the variants of {name}.\ntype {kinds} string\n\nconst ("
        );
        for v in variants {
            let _ = writeln!(
                out,
                "\t{name}TypeVariant{} {kinds} = {:?}",
                exported(&v.wire),
                v.wire
            );
        }
        out.push_str(")\n\n");
        comment(out, "", &format!("{name}: {doc}"));
        comment(
            out,
            "",
            &format!("{tag_field} says which variant it is; build one with the New{name}TypeVariant… functions."),
        );
        let _ = writeln!(out, "type {name} struct {{\n\t{tag_field} {kinds}");
        for v in variants {
            if let Some(p) = &v.payload {
                let _ = writeln!(
                    out,
                    "\t{} *{}",
                    payload_field(&v.wire),
                    self.go_type(&strip_optional(p))
                );
            }
        }
        out.push_str("}\n");
        for v in variants {
            let variant = exported(&v.wire);
            comment(
                out,
                "",
                &format!("New{name}TypeVariant{variant}: {}", v.doc),
            );
            match &v.payload {
                Some(p) => {
                    let inner = self.go_type(&strip_optional(p));
                    let _ = writeln!(
                        out,
                        "func New{name}TypeVariant{variant}(content *{inner}) {name} {{\n\treturn {name}{{{tag_field}: {name}TypeVariant{variant}, {}: content}}\n}}\n",
                        payload_field(&v.wire)
                    );
                    let _ = writeln!(
                        out,
                        "// {variant} is the {variant} variant's content (nil for another variant).\nfunc (u {name}) {variant}() *{inner} {{ return u.{} }}\n",
                        payload_field(&v.wire)
                    );
                }
                None => {
                    let _ = writeln!(out, "func New{name}TypeVariant{variant}() {name} {{\n\treturn {name}{{{tag_field}: {name}TypeVariant{variant}}}\n}}\n");
                }
            }
        }
        // JSON: {"<tag>": "<variant>", "<content>": …}.
        let _ = writeln!(out, "// MarshalJSON writes {{{tag:?}, {content:?}}}.\nfunc (u {name}) MarshalJSON() ([]byte, error) {{");
        let _ = writeln!(out, "\tswitch u.{tag_field} {{");
        for v in variants {
            let variant = exported(&v.wire);
            match &v.payload {
                Some(_) => {
                    let _ = writeln!(
                        out,
                        "\tcase {name}TypeVariant{variant}:\n\t\treturn json.Marshal(struct {{\n\t\t\tT {kinds} `json:\"{tag}\"`\n\t\t\tC any `json:\"{content}\"`\n\t\t}}{{u.{tag_field}, u.{}}})",
                        payload_field(&v.wire)
                    );
                }
                None => {
                    let _ = writeln!(out, "\tcase {name}TypeVariant{variant}:\n\t\treturn json.Marshal(struct {{\n\t\t\tT {kinds} `json:\"{tag}\"`\n\t\t}}{{u.{tag_field}}})");
                }
            }
        }
        let _ = writeln!(
            out,
            "\t}}\n\treturn nil, fmt.Errorf(\"{name}: unknown variant %q\", u.{tag_field})\n}}\n"
        );
        let _ = writeln!(out, "// UnmarshalJSON reads {{{tag:?}, {content:?}}}.\nfunc (u *{name}) UnmarshalJSON(data []byte) error {{");
        let _ = writeln!(
            out,
            "\tvar raw struct {{\n\t\tT {kinds} `json:\"{tag}\"`\n\t\tC json.RawMessage `json:\"{content}\"`\n\t}}\n\tif err := json.Unmarshal(data, &raw); err != nil {{\n\t\treturn err\n\t}}\n\t*u = {name}{{{tag_field}: raw.T}}\n\tswitch raw.T {{"
        );
        for v in variants {
            if let Some(p) = &v.payload {
                let variant = exported(&v.wire);
                let field = payload_field(&v.wire);
                let _ = writeln!(
                    out,
                    "\tcase {name}TypeVariant{variant}:\n\t\tif len(raw.C) == 0 || string(raw.C) == \"null\" {{\n\t\t\treturn nil\n\t\t}}\n\t\tu.{field} = new({})\n\t\treturn json.Unmarshal(raw.C, u.{field})",
                    self.go_type(&strip_optional(p))
                );
            }
        }
        out.push_str("\t}\n\treturn nil\n}\n");
    }
}

/// The unexported field of a union's variant payload (`otp`, `sshKey`).
fn payload_field(wire: &str) -> String {
    let field = lower_first(&exported(wire));
    // An all-caps initialism lower-cases whole (`OTP` is `otp`, not `oTP`).
    if field.chars().skip(1).all(|c| c.is_ascii_uppercase()) {
        field.to_ascii_lowercase()
    } else {
        field
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
         \t// StatusCode is the HTTP status of the server's answer this error came from (0 when\n\
         \t// it did not come from one).\n\
         \tStatusCode int\n\
         \t// RequestID is the server's id of that answer: quote it when reporting a problem.\n\
         \tRequestID string\n\
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
         // RateLimitExceededError is the 1Password Go SDK's name for RateLimitedError, so that\n\
         // ported errors.As checks work.\n\
         type RateLimitExceededError = RateLimitedError\n\n\
         // errorFromEnvelope is the error of an {\"code\", \"message\", …details} envelope.\n\
         func errorFromEnvelope(envelope map[string]any) error {\n\
         \tcode, _ := envelope[\"code\"].(string)\n\
         \tmessage, _ := envelope[\"message\"].(string)\n\
         \tdetails := map[string]any{}\n\
         \tfor k, v := range envelope {\n\t\tif k != \"code\" && k != \"message\" {\n\t\t\tdetails[k] = v\n\t\t}\n\t}\n\
         \terr := &Error{Code: ErrorCode(code), Message: message, Details: details}\n\
         \tif status, ok := details[\"statusCode\"].(float64); ok {\n\t\terr.StatusCode = int(status)\n\t}\n\
         \terr.RequestID, _ = details[\"requestId\"].(string)\n\
         \tif err.Code == CodeRateLimited {\n\
         \t\tseconds, _ := details[\"retryAfterSeconds\"].(float64)\n\
         \t\treturn &RateLimitedError{Err: err, RetryAfter: time.Duration(seconds * float64(time.Second))}\n\
         \t}\n\
         \treturn err\n\
         }\n",
    );
    out
}

/// The exported name of a group's interface (`ItemsFilesAPI`) and of its package-level
/// value of calls that need no client (`Secrets`), and the unexported name of the struct
/// that implements the interface over an invoker (`itemsFilesCalls`).
fn group_names(group: &str) -> (String, String, String) {
    let base = exported(&group.replace('.', "_"));
    let implementation = format!("{}Calls", lower_first(&base));
    (format!("{base}API"), base, implementation)
}

/// The parameter list of a call's Go method, and whether its last parameter is variadic
/// (an optional struct last: `List(ctx, params ...VaultListParams)`, as in the 1Password
/// Go SDK, so that leaving it out needs no argument at all).
fn go_params(model: &Model<'_>, call: &Call) -> (Vec<String>, bool) {
    let mut args = vec!["ctx context.Context".to_owned()];
    let mut variadic = false;
    for (i, (name, ty, optional)) in call.params.iter().enumerate() {
        let bare = strip_optional(ty);
        if *optional && i + 1 == call.params.len() && matches!(bare, Ty::Named(_)) {
            variadic = true;
            args.push(format!("{} ...{}", go_param(name), model.go_type(&bare)));
            continue;
        }
        let t = if *optional && !matches!(ty, Ty::Optional(_)) {
            Ty::Optional(Box::new(ty.clone()))
        } else {
            ty.clone()
        };
        args.push(format!("{} {}", go_param(name), model.go_type(&t)));
    }
    (args, variadic)
}

fn go_result(model: &Model<'_>, call: &Call) -> String {
    match &call.result {
        Ty::Unit => "error".to_owned(),
        other => format!("({}, error)", model.go_type(other)),
    }
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
         }\n\n\
         // atMostOne is the one optional value of a variadic parameter, if given.\n\
         func atMostOne[T any](name string, values []T) (*T, error) {\n\
         \tswitch len(values) {\n\
         \tcase 0:\n\t\treturn nil, nil\n\
         \tcase 1:\n\t\treturn &values[0], nil\n\
         \tdefault:\n\
         \t\treturn nil, &Error{Code: CodeInvalidInput, Message: \"invalid \" + name + \": give it at most once\", Details: map[string]any{\"argument\": name}}\n\
         \t}\n\
         }\n",
    );
    let mut groups: BTreeMap<&str, Vec<&Call>> = BTreeMap::new();
    for call in calls {
        groups.entry(call.group.as_str()).or_default().push(call);
    }
    let names: Vec<&str> = groups.keys().copied().collect();
    for (group, members) in &groups {
        let (interface, offline_value, implementation) = group_names(group);
        let children = crate::ir::child_groups(names.iter().copied(), group);
        let online: Vec<&&Call> = members.iter().filter(|c| c.needs_client()).collect();
        let offline: Vec<&&Call> = members.iter().filter(|c| !c.needs_client()).collect();
        let is_client = *group == "client";
        // The interface: the client's calls of this group and its child groups.
        if !is_client {
            let _ = writeln!(
                out,
                "\n// {interface} holds the {group} calls.\ntype {interface} interface {{"
            );
            for child in &children {
                let (child_interface, _, _) = group_names(child);
                let attr = exported(child.rsplit('.').next().unwrap_or(child));
                let _ = writeln!(
                    out,
                    "\t// {attr} holds the {child} calls.\n\t{attr}() {child_interface}"
                );
            }
            let members = if online.is_empty() { &offline } else { &online };
            for call in members {
                let (args, _) = go_params(model, call);
                comment(
                    &mut out,
                    "\t",
                    &format!("{} {}", exported(&call.method), lower_first(&call.doc)),
                );
                let _ = writeln!(
                    out,
                    "\t{}({}) {}",
                    exported(&call.method),
                    args.join(", "),
                    go_result(model, call)
                );
            }
            out.push_str("}\n");
        }
        // The implementation over an invoker, with its child groups made once.
        if !online.is_empty() || is_client || !children.is_empty() {
            let _ = writeln!(out, "\ntype {implementation} struct {{\n\tinv invoker");
            for child in &children {
                let (child_interface, _, _) = group_names(child);
                let _ = writeln!(
                    out,
                    "\t{} {child_interface}",
                    lower_first(&exported(child.rsplit('.').next().unwrap_or(child)))
                );
            }
            out.push_str("}\n");
            let _ = writeln!(out, "\nfunc new{}(inv invoker) *{implementation} {{\n\treturn &{implementation}{{\n\t\tinv: inv,", exported(&implementation));
            for child in &children {
                let (_, child_value, child_implementation) = group_names(child);
                let field = lower_first(&exported(child.rsplit('.').next().unwrap_or(child)));
                let has_online = groups
                    .get(child)
                    .is_some_and(|m| m.iter().any(|c| c.needs_client()));
                if has_online {
                    let _ = writeln!(
                        out,
                        "\t\t{field}: new{}(inv),",
                        exported(&child_implementation)
                    );
                } else {
                    let _ = writeln!(out, "\t\t{field}: {child_value},");
                }
            }
            out.push_str("\t}\n}\n");
            for child in &children {
                let (child_interface, _, _) = group_names(child);
                let attr = exported(child.rsplit('.').next().unwrap_or(child));
                let _ = writeln!(
                    out,
                    "\n// {attr} holds the {child} calls.\nfunc (a *{implementation}) {attr}() {child_interface} {{ return a.{} }}",
                    lower_first(&attr)
                );
            }
        }
        // The package-level value of the calls that need no client.
        if !offline.is_empty() {
            let offline_type = format!("{offline_value}Offline");
            let _ = writeln!(
                out,
                "\n// {offline_type} holds the {group} calls that need no client.\ntype {offline_type} struct{{}}\n\n// {offline_value} runs the {group} calls that need no client.\nvar {offline_value} {offline_type}"
            );
        }
        for call in members {
            let receiver = if call.needs_client() {
                format!("a *{implementation}")
            } else {
                format!("{offline_value}Offline")
            };
            render_go_method(model, &mut out, call, &receiver);
        }
    }
    out
}

fn render_go_method(model: &Model<'_>, out: &mut String, call: &Call, receiver: &str) {
    let (args, variadic) = go_params(model, call);
    let result = go_result(model, call);
    out.push('\n');
    comment(
        out,
        "",
        &format!("{} {}", exported(&call.method), lower_first(&call.doc)),
    );
    let _ = writeln!(
        out,
        "func ({receiver}) {}({}) {result} {{",
        exported(&call.method),
        args.join(", ")
    );
    let failed = match &call.result {
        Ty::Unit => "return err".to_owned(),
        other => format!("var zero {}\n\t\treturn zero, err", model.go_type(other)),
    };
    let inv = if call.needs_client() {
        "a.inv"
    } else {
        "offlineInvoker"
    };
    let mut data = "nil".to_owned();
    out.push_str("\tparameters := map[string]any{\n");
    for (i, (name, ty, optional)) in call.params.iter().enumerate() {
        let last_variadic = variadic && i + 1 == call.params.len();
        if crate::ir::beside(model.defs, ty).is_none() && !last_variadic && !optional {
            let _ = writeln!(out, "\t\t{name:?}: {},", go_param(name));
        }
    }
    out.push_str("\t}\n");
    for (i, (name, ty, optional)) in call.params.iter().enumerate() {
        let var = go_param(name);
        if variadic && i + 1 == call.params.len() {
            let _ = writeln!(
                out,
                "\tif one, err := atMostOne({name:?}, {var}); err != nil {{\n\t\t{failed}\n\t}} else if one != nil {{\n\t\tparameters[{name:?}] = *one\n\t}}"
            );
        } else if *optional && crate::ir::beside(model.defs, ty).is_none() {
            // Left out when nil: the call then uses its default (JSON null is refused).
            let _ = writeln!(
                out,
                "\tif {var} != nil {{\n\t\tparameters[{name:?}] = {var}\n\t}}"
            );
        } else if let Some(bytes) = crate::ir::beside(model.defs, ty) {
            // The content goes beside the JSON as raw bytes; the JSON holds an empty
            // string in its place (nil would encode as null).
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
