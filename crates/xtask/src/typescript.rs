//! TypeScript: `types.ts` (interfaces, string enums and tagged unions, with converters
//! between the JSON wire form and `Date`/`Uint8Array`), `errors.ts` (an `Error` subclass
//! per code) and `calls.ts` (Promise-returning wrappers of every call over an invoker the
//! package provides).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::ir::{camel, error_class, pascal, Call, Def, Field, Ty};
use crate::PREAMBLE;

fn jsdoc(out: &mut String, indent: &str, doc: &str) {
    let doc = doc.trim();
    if doc.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}/**");
    for line in doc.lines() {
        let _ = writeln!(out, "{indent} * {}", line.replace("*/", "*\\/")).map(|_| ());
    }
    let _ = writeln!(out, "{indent} */");
}

/// A member name for an enum value: `SecureNote`, `DigitsAndSymbols`.
fn member(wire: &str) -> String {
    let p = pascal(&crate::ir::snake(wire));
    if p.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{p}")
    } else {
        p
    }
}

/// A property name: as on the wire when it is an identifier, quoted otherwise.
fn property(wire: &str) -> String {
    if wire.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !wire.starts_with(|c: char| c.is_ascii_digit())
    {
        wire.to_owned()
    } else {
        format!("{wire:?}")
    }
}

struct Model<'a> {
    defs: &'a BTreeMap<String, Def>,
    /// How code refers to the model's converters: `""` inside types.ts, `types.` outside.
    ns: &'a str,
}

impl Model<'_> {
    fn annotation(&self, ty: &Ty) -> String {
        match ty {
            Ty::String => "string".into(),
            Ty::Integer | Ty::Number => "number".into(),
            Ty::Boolean => "boolean".into(),
            Ty::Bytes => "Uint8Array".into(),
            Ty::Timestamp => "Date".into(),
            Ty::Any => "unknown".into(),
            Ty::Unit => "void".into(),
            Ty::List(t) => format!("{}[]", self.wrapped(t)),
            Ty::Map(t) => format!("Record<string, {}>", self.annotation(t)),
            Ty::Optional(t) => format!("{} | undefined", self.annotation(t)),
            Ty::Named(n) => n.clone(),
        }
    }

    fn wrapped(&self, ty: &Ty) -> String {
        let a = self.annotation(ty);
        if a.contains(' ') {
            format!("({a})")
        } else {
            a
        }
    }

    /// Whether converting `ty` changes anything (timestamps and bytes inside).
    fn converts(&self, ty: &Ty, seen: &mut Vec<String>) -> bool {
        match ty {
            Ty::Timestamp | Ty::Bytes => true,
            Ty::List(t) | Ty::Map(t) | Ty::Optional(t) => self.converts(t, seen),
            Ty::Named(n) => {
                if seen.contains(n) {
                    return false;
                }
                seen.push(n.clone());
                match self.defs.get(n) {
                    Some(Def::Struct { fields, .. }) => {
                        fields.iter().any(|f| self.converts(&f.ty, seen))
                    }
                    Some(Def::Union { variants, .. }) => variants
                        .iter()
                        .any(|v| v.payload.as_ref().is_some_and(|p| self.converts(p, seen))),
                    Some(Def::Alias { ty, .. }) => self.converts(ty, seen),
                    _ => false,
                }
            }
            _ => false,
        }
    }

    fn convert(&self, expr: &str, ty: &Ty, out: bool) -> String {
        if !self.converts(ty, &mut Vec::new()) {
            return expr.to_owned();
        }
        match ty {
            // A `Date`, or an ISO string (an item that went through JSON).
            Ty::Timestamp if out => format!("new Date({expr} as Date | string).toISOString()"),
            Ty::Timestamp => format!("new Date({expr} as string)"),
            Ty::Bytes if out => format!("bytesToBase64({expr} as Uint8Array)"),
            Ty::Bytes => format!("base64ToBytes({expr} as string)"),
            Ty::List(t) => format!("({expr} as unknown[]).map((x) => {})", self.convert("x", t, out)),
            Ty::Map(t) => format!(
                "Object.fromEntries(Object.entries({expr} as Record<string, unknown>).map(([k, v]) => [k, {}]))",
                self.convert("v", t, out)
            ),
            Ty::Optional(t) => format!("({expr} == null ? undefined : {})", self.convert(expr, t, out)),
            Ty::Named(n) => {
                let direction = if out { "toWire" } else { "fromWire" };
                format!("{}{direction}{n}({expr} as never)", self.ns)
            }
            _ => expr.to_owned(),
        }
    }

    fn render_types(&self) -> String {
        let mut out = format!("// {PREAMBLE}\n");
        out.push_str(
            "/* eslint-disable */\n\
             // The Sesame model: every type that crosses the language boundary, named and shaped\n\
             // like the 1Password JS SDK's (timestamps are `Date`, bytes `Uint8Array`).\n\n\
             import { InvalidInputError } from \"./errors\";\n\n\
             /** Standard base64 of `bytes`. */\n\
             export function bytesToBase64(bytes: Uint8Array): string {\n\
             \x20 if (!(bytes instanceof Uint8Array)) {\n\
             \x20   throw new InvalidInputError(\n\
             \x20     `content must be a Uint8Array (or Buffer), not ${Array.isArray(bytes) ? \"an array\" : bytes === null ? \"null\" : typeof bytes}; a Blob streams only as the content of items.files.attach and replaceDocument`,\n\
             \x20     { argument: \"content\" },\n\
             \x20   );\n\
             \x20 }\n\
             \x20 let text = \"\";\n\
             \x20 for (const b of bytes) text += String.fromCharCode(b);\n\
             \x20 return btoa(text);\n\
             }\n\n\
             /** The bytes of standard base64 `text`. */\n\
             export function base64ToBytes(text: string): Uint8Array {\n\
             \x20 const raw = atob(text);\n\
             \x20 const bytes = new Uint8Array(raw.length);\n\
             \x20 for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);\n\
             \x20 return bytes;\n\
             }\n\n\
             /**\n\
             \x20* File content to upload: bytes in memory, or a `Blob` (such as\n\
             \x20* `await fs.openAsBlob(path)`), streamed in chunks so memory stays bounded.\n\
             \x20*/\n\
             export type Content = Uint8Array | Blob;\n\n\
             /** Parameters whose `content` is uploaded beside the request: it may be streamed. */\n\
             export type Streamed<T extends { content: Uint8Array }> = Omit<T, \"content\"> & { content: Content };\n",
        );
        out.push_str(
            "\n// Vault permissions (bit flags), as in the 1Password SDK.\nexport const NO_ACCESS = 0;\n",
        );
        for (name, value) in sesame_core::model::permissions::ALL {
            let _ = writeln!(out, "export const {name} = {value};");
        }
        for (theirs, ours) in crate::python::ONEPASSWORD_NAMES {
            let _ = writeln!(
                out,
                "\n/** The 1Password SDK's name for `{ours}`. */\nexport type {theirs} = {ours};"
            );
        }
        for def in self.defs.values() {
            out.push('\n');
            match def {
                Def::Enum { name, doc, values } => {
                    jsdoc(&mut out, "", doc);
                    let _ = writeln!(out, "export enum {name} {{");
                    for (wire, doc) in values {
                        jsdoc(&mut out, "  ", doc);
                        let _ = writeln!(out, "  {} = {wire:?},", member(wire));
                    }
                    out.push_str("}\n");
                }
                Def::Struct { name, doc, fields } => {
                    jsdoc(&mut out, "", doc);
                    let _ = writeln!(out, "export interface {name} {{");
                    for field in fields {
                        jsdoc(&mut out, "  ", &field.doc);
                        let q = if field.optional { "?" } else { "" };
                        let _ = writeln!(
                            out,
                            "  {}{q}: {};",
                            property(&field.wire),
                            self.annotation(&field.ty)
                        );
                    }
                    out.push_str("}\n");
                    self.render_converters(&mut out, name, fields);
                }
                Def::Alias { name, doc, ty } => {
                    jsdoc(&mut out, "", doc);
                    let _ = writeln!(out, "export type {name} = {};", self.annotation(ty));
                }
                Def::Union {
                    name,
                    doc,
                    tag,
                    content,
                    variants,
                } => {
                    jsdoc(&mut out, "", doc);
                    let _ = writeln!(out, "export type {name} =");
                    for variant in variants {
                        match &variant.payload {
                            Some(p) => {
                                let _ = writeln!(
                                    out,
                                    "  | {{ {tag}: {:?}; {}: {} }}",
                                    variant.wire,
                                    property(content),
                                    self.annotation(p)
                                );
                            }
                            None => {
                                let _ = writeln!(out, "  | {{ {tag}: {:?} }}", variant.wire);
                            }
                        }
                    }
                    out.push_str(";\n");
                    if self.converts(&Ty::Named(name.clone()), &mut Vec::new()) {
                        for (direction, out_dir) in [("toWire", true), ("fromWire", false)] {
                            let _ = writeln!(
                                out,
                                "\nexport function {direction}{name}(value: any): any {{"
                            );
                            let _ = writeln!(out, "  switch (value?.{tag}) {{");
                            for variant in variants {
                                if let Some(p) = &variant.payload {
                                    let converted = self.convert(
                                        &format!("value.{}", property(content)),
                                        p,
                                        out_dir,
                                    );
                                    let _ = writeln!(out, "    case {:?}:\n      return {{ ...value, {}: {converted} }};", variant.wire, property(content));
                                }
                            }
                            out.push_str("    default:\n      return value;\n  }\n}\n");
                        }
                    }
                }
            }
        }
        out
    }

    fn render_converters(&self, out: &mut String, name: &str, fields: &[Field]) {
        if !self.converts(&Ty::Named(name.to_owned()), &mut Vec::new()) {
            return;
        }
        for (direction, to_wire) in [("toWire", true), ("fromWire", false)] {
            let _ = writeln!(
                out,
                "\nexport function {direction}{name}(value: any): any {{"
            );
            out.push_str("  const out = { ...value };\n");
            for field in fields
                .iter()
                .filter(|f| self.converts(&f.ty, &mut Vec::new()))
            {
                let access = format!("value.{}", property(&field.wire));
                let converted = self.convert(&access, &field.ty, to_wire);
                let _ = writeln!(
                    out,
                    "  if ({access} != null) out.{} = {converted};",
                    property(&field.wire)
                );
            }
            out.push_str("  return out;\n}\n");
        }
    }
}

fn render_errors(codes: &[(&str, u32, &str)]) -> String {
    let mut out = format!("// {PREAMBLE}\n");
    out.push_str(
        "// Sesame's errors: one `Error` subclass per stable code, each with `.code`, `.details`\n\
         // (the error's facts as data) and, where they apply, `.statusCode`, `.requestId` and\n\
         // `.retryAfter`. Messages and details never contain a secret value.\n\n\
         /** A Sesame failure; `code` is stable across releases and languages. */\n\
         export class SesameError extends Error {\n\
         \x20 readonly code: string = \"unknown\";\n\
         \x20 readonly number: number = 0;\n\
         \x20 /** The error's facts as data: which argument, which reference, which limit. */\n\
         \x20 readonly details: Record<string, unknown>;\n\
         \x20 /** The HTTP status of the server's answer this error came from, if it came from one. */\n\
         \x20 declare readonly statusCode?: number;\n\
         \x20 /** The server's id of that answer: quote it when reporting a problem. */\n\
         \x20 declare readonly requestId?: string;\n\n\
         \x20 constructor(message: string, details: Record<string, unknown> = {}) {\n\
         \x20   super(message);\n\
         \x20   this.name = new.target.name;\n\
         \x20   this.details = details;\n\
         \x20   if (typeof details[\"statusCode\"] === \"number\") this.statusCode = details[\"statusCode\"];\n\
         \x20   if (typeof details[\"requestId\"] === \"string\") this.requestId = details[\"requestId\"];\n\
         \x20 }\n\
         }\n",
    );
    for (code, number, description) in codes {
        let class = error_class(code);
        out.push('\n');
        jsdoc(&mut out, "", description);
        let _ = writeln!(out, "export class {class} extends SesameError {{");
        let _ = writeln!(out, "  override readonly code: string = {code:?};");
        let _ = writeln!(out, "  override readonly number: number = {number};");
        if *code == "rate_limited" {
            out.push_str(
                "\n  /** Seconds the server asked to wait before retrying, when it said. */\n\
                 \x20 get retryAfter(): number | undefined {\n\
                 \x20   const seconds = this.details[\"retryAfterSeconds\"];\n\
                 \x20   return typeof seconds === \"number\" ? seconds : undefined;\n\
                 \x20 }\n",
            );
        }
        out.push_str("}\n");
    }
    out.push_str("\n/** The class of each code. */\nexport const ERRORS_BY_CODE: Record<string, new (message: string, details?: Record<string, unknown>) => SesameError> = {\n");
    for (code, _, _) in codes {
        let _ = writeln!(out, "  {code}: {},", error_class(code));
    }
    out.push_str(
        "};\n\n\
         /**\n\
         \x20* The error for an `{code, message, …details}` envelope. A code this version does not\n\
         \x20* know (from a newer core) stays the error's `code`.\n\
         \x20*/\n\
         export function errorFromEnvelope(error: { code?: unknown; message?: unknown; [key: string]: unknown }): SesameError {\n\
         \x20 const { code, message, ...details } = error;\n\
         \x20 const Class = (typeof code === \"string\" && ERRORS_BY_CODE[code]) || SesameError;\n\
         \x20 const made = new Class(String(message ?? \"\"), details);\n\
         \x20 if (Class === SesameError && typeof code === \"string\") {\n\
         \x20   Object.defineProperty(made, \"code\", { value: code, enumerable: true });\n\
         \x20 }\n\
         \x20 return made;\n\
         }\n\n\
         // The 1Password SDK's names for the same failures, so ported `instanceof` checks work.\n\
         export { RateLimitedError as RateLimitExceededError, AuthenticationError as AuthExpiredError };\n",
    );
    out
}

fn render_calls(model: &Model<'_>, calls: &[Call]) -> String {
    let mut out = format!("// {PREAMBLE}\n");
    out.push_str(
        "/* eslint-disable */\n\
         // Every Sesame call as a method returning a Promise, over an invoker the package provides.\n\n\
         import * as types from \"./types\";\n\n\
         /**\n\
         \x20* What travels beside a call's JSON: file content to upload, or the path that file\n\
         \x20* content the call returns is written to instead of the reply.\n\
         \x20*/\n\
         export interface Transfer {\n\
         \x20 content?: types.Content;\n\
         \x20 destination?: string;\n\
         }\n\n\
         /** Runs one call: `{name, parameters}`, with its transfer when there is one. */\n\
         export interface Invoker {\n\
         \x20 invoke(name: string, parameters: Record<string, unknown>, transfer?: Transfer): Promise<[unknown, Uint8Array | undefined]>;\n\
         }\n\n\
         /** Runs calls that need no client, synchronously. */\n\
         export interface OfflineInvoker {\n\
         \x20 invoke(name: string, parameters: Record<string, unknown>): [unknown, Uint8Array | undefined];\n\
         }\n\n\
         let offline: OfflineInvoker | undefined;\n\
         let anonymous: Invoker | undefined;\n\n\
         /**\n\
         \x20* Installs the process-level invokers: of offline calls, and of calls that need no\n\
         \x20* client but do I/O. The package does this when it loads.\n\
         \x20*/\n\
         export function setProcessInvokers(offlineCalls: OfflineInvoker, anonymousCalls: Invoker): void {\n\
         \x20 offline = offlineCalls;\n\
         \x20 anonymous = anonymousCalls;\n\
         }\n\n\
         function offlineInvoker(): OfflineInvoker {\n\
         \x20 if (offline === undefined) throw new Error(\"the Sesame native addon is not loaded\");\n\
         \x20 return offline;\n\
         }\n\n\
         function anonymousInvoker(): Invoker {\n\
         \x20 if (anonymous === undefined) throw new Error(\"the Sesame native addon is not loaded\");\n\
         \x20 return anonymous;\n\
         }\n",
    );
    let mut groups: BTreeMap<&str, Vec<&Call>> = BTreeMap::new();
    for call in calls {
        groups.entry(call.group.as_str()).or_default().push(call);
    }
    for (group, members) in &groups {
        let class = if *group == "client" {
            "ClientCalls".to_owned()
        } else {
            pascal(group)
        };
        let _ = writeln!(
            out,
            "\n/** The `{group}` calls. */\nexport class {class} {{"
        );
        let children = crate::ir::child_groups(groups.keys().copied(), group);
        for child in &children {
            let attr = child.rsplit('.').next().unwrap_or(child);
            let _ = writeln!(out, "  readonly {attr}: {};", pascal(child));
        }
        out.push_str("\n  constructor(protected readonly invoker: Invoker) {\n");
        for child in &children {
            let attr = child.rsplit('.').next().unwrap_or(child);
            let _ = writeln!(out, "    this.{attr} = new {}(invoker);", pascal(child));
        }
        out.push_str("  }\n");
        for call in members {
            render_method(model, &mut out, call);
            if call.result == Ty::Bytes && call.needs_client() {
                render_download(model, &mut out, call);
            }
            if call.needs == sesame_invoke::Needs::Anonymous {
                render_delegate(model, &mut out, &class, call);
            }
        }
        out.push_str("}\n");
    }
    out
}

fn qualified(model: &Model<'_>, ty: &Ty) -> String {
    // Model names live in `types`.
    let mut names = Vec::new();
    ty.names(&mut names);
    let mut text = model.annotation(ty);
    for name in names {
        text = replace_word(&text, &name, &format!("types.{name}"));
    }
    text
}

fn replace_word(text: &str, word: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before_ok = !rest[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '.');
        let after = &rest[i + word.len()..];
        let after_ok = !after.starts_with(|c: char| c.is_ascii_alphanumeric());
        out.push_str(&rest[..i]);
        out.push_str(if before_ok && after_ok { with } else { word });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `parameters["name"] = …`, converted to the wire; left out when optional and absent.
fn set_parameter(model: &Model<'_>, out: &mut String, name: &str, ty: &Ty, optional: bool) {
    let var = camel(name);
    let value = model.convert(&var, ty, true);
    if optional {
        let _ = writeln!(
            out,
            "    if ({var} !== undefined) parameters[{name:?}] = {value};"
        );
    } else {
        let _ = writeln!(out, "    parameters[{name:?}] = {value};");
    }
}

/// `{method}To(…, destination)`: a call returning file content, written to a path as it
/// arrives instead of returned.
fn render_download(model: &Model<'_>, out: &mut String, call: &Call) {
    let mut args: Vec<String> = call
        .params
        .iter()
        .map(|(name, ty, optional)| {
            let q = if *optional { "?" } else { "" };
            format!("{}{q}: {}", camel(name), qualified(model, ty))
        })
        .collect();
    args.push("destination: string".to_owned());
    let method = camel(&call.method);
    out.push('\n');
    jsdoc(
        out,
        "  ",
        &format!(
            "`{method}`, written to the file at `destination` as it arrives (memory stays\n\
             bounded): the file appears there, complete and readable by its owner only, or not\n\
             at all."
        ),
    );
    let _ = writeln!(
        out,
        "  async {method}To({}): Promise<void> {{",
        args.join(", ")
    );
    out.push_str("    const parameters: Record<string, unknown> = {};\n");
    for (name, ty, optional) in &call.params {
        set_parameter(model, out, name, ty, *optional);
    }
    let _ = writeln!(
        out,
        "    await this.invoker.invoke({:?}, parameters, {{ destination }});\n  }}",
        call.name
    );
}

/// A call that needs no client is static; it is on a client's group too
/// (`client.shares.open(link)`), as in the other languages.
fn render_delegate(model: &Model<'_>, out: &mut String, class: &str, call: &Call) {
    let method = camel(&call.method);
    let params: Vec<(String, String)> = call
        .params
        .iter()
        .map(|(name, ty, optional)| {
            let q = if *optional { "?" } else { "" };
            (
                camel(name),
                format!("{}{q}: {}", camel(name), qualified(model, ty)),
            )
        })
        .collect();
    let result = qualified(model, &call.result);
    out.push('\n');
    jsdoc(
        out,
        "  ",
        &format!("The same as the static `{class}.{method}`."),
    );
    let _ = writeln!(
        out,
        "  {method}({}): Promise<{result}> {{\n    return {class}.{method}({});\n  }}",
        params
            .iter()
            .map(|(_, p)| p.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        params
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    );
}

fn render_method(model: &Model<'_>, out: &mut String, call: &Call) {
    let converted = |expr: &str, ty: &Ty, to_wire: bool| model.convert(expr, ty, to_wire);
    let mut args = Vec::new();
    for (name, ty, optional) in &call.params {
        let q = if *optional { "?" } else { "" };
        let mut annotation = qualified(model, ty);
        if crate::ir::beside(model.defs, ty).is_some() {
            annotation = format!("types.Streamed<{annotation}>");
        }
        args.push(format!("{}{q}: {annotation}", camel(name)));
    }
    let result = match &call.result {
        Ty::Unit => "void".to_owned(),
        other => qualified(model, other),
    };
    out.push('\n');
    jsdoc(out, "  ", &call.doc);
    let (keyword, ret) = match call.needs {
        sesame_invoke::Needs::Offline => ("static ", result.clone()),
        sesame_invoke::Needs::Anonymous => ("static async ", format!("Promise<{result}>")),
        _ => ("async ", format!("Promise<{result}>")),
    };
    let _ = writeln!(
        out,
        "  {keyword}{}({}): {ret} {{",
        camel(&call.method),
        args.join(", ")
    );
    out.push_str("    const parameters: Record<string, unknown> = {};\n");
    let mut data = None;
    for (name, ty, optional) in &call.params {
        let var = camel(name);
        if let Some(bytes) = crate::ir::beside(model.defs, ty) {
            data = Some(format!("{var}.{}", property(&bytes.wire)));
            // The content goes beside the JSON; the rest has nothing to convert.
            let _ = writeln!(
                out,
                "    const {{ {}: _content, ...{var}Rest }} = {var};\n    parameters[{name:?}] = {var}Rest;",
                property(&bytes.wire),
            );
            continue;
        }
        set_parameter(model, out, name, ty, *optional);
    }
    let data_arg = data
        .map(|d| format!(", {{ content: {d} }}"))
        .unwrap_or_default();
    let invoke = match call.needs {
        sesame_invoke::Needs::Offline => {
            format!("offlineInvoker().invoke({:?}, parameters)", call.name)
        }
        sesame_invoke::Needs::Anonymous => {
            format!(
                "await anonymousInvoker().invoke({:?}, parameters{data_arg})",
                call.name
            )
        }
        _ => format!(
            "await this.invoker.invoke({:?}, parameters{data_arg})",
            call.name
        ),
    };
    match &call.result {
        Ty::Unit => {
            let _ = writeln!(out, "    {invoke};");
        }
        Ty::Bytes => {
            let _ = writeln!(
                out,
                "    const [, content] = {invoke};\n    return content ?? new Uint8Array();"
            );
        }
        result_ty => {
            let _ = writeln!(out, "    const [result] = {invoke};");
            let _ = writeln!(
                out,
                "    return {} as {result};",
                converted("result", result_ty, false)
            );
        }
    }
    out.push_str("  }\n");
}

/// The TypeScript files.
pub fn render(
    defs: &BTreeMap<String, Def>,
    calls: &[Call],
    codes: &[(&str, u32, &str)],
) -> Result<Vec<(PathBuf, String)>, String> {
    let inside = Model { defs, ns: "" };
    let outside = Model { defs, ns: "types." };
    Ok(vec![
        (PathBuf::from("js/src/types.ts"), inside.render_types()),
        (PathBuf::from("js/src/errors.ts"), render_errors(codes)),
        (
            PathBuf::from("js/src/calls.ts"),
            render_calls(&outside, calls),
        ),
    ])
}
