//! # sesame-invoke
//!
//! The one mechanism every Sesame language binding shares (DESIGN.md §5). Each public SDK
//! call is declared once, in [`CALLS`] (see `table.rs`), and reached through one entry
//! point:
//!
//! - a request is JSON `{"name": "SecretsResolve", "parameters": {"secret_reference": …}}`,
//!   with an optional buffer of raw bytes beside it (file content to upload);
//! - [`invoke`] runs it on the process-wide runtime ([`runtime`]) and answers
//!   `{"ok": result}` or `{"error": {"code", "message", …details}}`, with raw bytes beside
//!   the JSON when the result is file content (never JSON arrays of numbers);
//! - [`authenticate`] makes the client that calls needing one run against.
//!
//! Binding crates add only what their language needs: a client handle, bytes, close. The
//! code generator (`cargo xtask codegen`) reads [`CALLS`] to write each language's
//! per-call wrappers.
//!
//! ```
//! let reply = sesame_invoke::invoke_blocking(
//!     None,
//!     br#"{"name": "ValidateSecretReference", "parameters": {"secret_reference": "op://a/b"}}"#,
//!     None,
//! );
//! let json: serde_json::Value = serde_json::from_slice(&reply.json).unwrap();
//! assert_eq!(json["error"]["code"], "invalid_reference");
//! assert_eq!(json["error"]["reference"]["kind"], "too_few_segments");
//! ```

#[macro_use]
mod macros;
mod runtime;
mod table;

use std::future::Future;
use std::io::{self, Read, Write};

use serde::Serialize;
use sesame_core::client::{with_http_failure, HttpFailure, OutputFile};
use sesame_core::model::ClientOptions;
use sesame_core::{Client, Error, ErrorCode, ErrorEnvelope, Result};

pub use runtime::runtime;
pub use table::{params, Request, CALLS};

/// Whether a call needs an authenticated client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Needs {
    /// It runs against a client's session (almost every call).
    Client,
    /// It runs offline and at once: validate a reference, generate a password or a TOTP
    /// code. Bindings make it a static, synchronous function.
    Offline,
    /// It needs no client but does I/O: opening a share link. Bindings make it a static
    /// function that does not block (a Promise, a coroutine).
    Anonymous,
}

/// One parameter of a call, for the code generators.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Param {
    /// Its JSON name (snake_case, as in the 1Password SDKs' invocations).
    pub name: &'static str,
    /// Its Rust type as written in the table (`String`, `Vec<String>`, `ItemCreateParams`).
    pub ty: &'static str,
    /// Its serde attributes as written (`serde(default)` marks an optional parameter).
    pub attributes: &'static str,
}

impl Param {
    /// Whether the caller may leave it out.
    pub fn optional(&self) -> bool {
        self.attributes.contains("default") || self.ty.starts_with("Option")
    }
}

/// One call of the table, for the code generators (see [`calls_json`]).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Call {
    /// The request's `"name"`, e.g. `SecretsResolve`.
    pub name: &'static str,
    /// Where the wrapper lives: `secrets`, `items`, `items.files`, `vaults`, …
    pub group: &'static str,
    /// The wrapper's name in snake_case, e.g. `resolve_all`.
    pub method: &'static str,
    /// What it does, for the wrapper's documentation.
    pub doc: &'static str,
    /// Its parameters, in order.
    pub params: &'static [Param],
    /// Its result's Rust type as written in the table; `()` is no result, `Bytes` is raw
    /// bytes beside the reply.
    pub result: &'static str,
    /// Whether it needs a client.
    pub needs: Needs,
}

/// The call table as JSON: `[{"name", "group", "method", "doc", "params": [{"name", "ty",
/// "attributes"}], "result", "needs"}]`.
pub fn calls_json() -> String {
    serde_json::to_string_pretty(CALLS).unwrap_or_else(|_| "[]".to_owned())
}

/// File content returned beside the JSON reply, as raw bytes.
#[derive(Debug)]
pub struct Bytes(pub Vec<u8>);

/// A call's answer: the JSON envelope, and raw bytes beside it when the result is file
/// content.
#[derive(Debug)]
pub struct Reply {
    /// `{"ok": …}` or `{"error": {"code", "message", …}}`, UTF-8 JSON.
    pub json: Vec<u8>,
    /// File content, for calls whose result is [`Bytes`].
    pub bytes: Option<Vec<u8>>,
    /// The error's code when the reply is an error (the C ABI's status), else `None`.
    pub code: Option<ErrorCode>,
}

impl Reply {
    fn ok(value: &impl Serialize) -> Result<Self> {
        #[derive(Serialize)]
        struct Ok<'a, T> {
            ok: &'a T,
        }
        let json = serde_json::to_vec(&Ok { ok: value })
            .map_err(|e| Error::Server(format!("the result could not be encoded as JSON: {e}")))?;
        Ok(Self {
            json,
            bytes: None,
            code: None,
        })
    }

    /// The envelope of `error`.
    pub fn error(error: &Error) -> Self {
        Self::failure(error, None)
    }

    /// The envelope of `error`, with the status and request id of the HTTP answer it came
    /// from, if it came from one.
    pub fn failure(error: &Error, http: Option<&HttpFailure>) -> Self {
        #[derive(Serialize)]
        struct Failed {
            error: ErrorEnvelope,
        }
        let code = error.code();
        let error = error.envelope(error.details_with(http));
        let json = serde_json::to_vec(&Failed { error }).unwrap_or_else(|_| {
            br#"{"error":{"code":"server","message":"the error could not be encoded"}}"#.to_vec()
        });
        Self {
            json,
            bytes: None,
            code: Some(code),
        }
    }
}

/// How a call's result becomes a [`Reply`]: JSON for everything serializable, raw bytes
/// for [`Bytes`].
pub trait Output {
    /// The reply carrying this result.
    fn into_reply(self) -> Result<Reply>;
}

impl<T: Serialize> Output for T {
    fn into_reply(self) -> Result<Reply> {
        Reply::ok(&self)
    }
}

impl Output for Bytes {
    fn into_reply(self) -> Result<Reply> {
        let mut reply = Reply::ok(&())?;
        reply.bytes = Some(self.0);
        Ok(reply)
    }
}

/// File content sent beside a request (to upload), never as JSON.
pub enum Content {
    /// All of it, in memory.
    Bytes(Vec<u8>),
    /// Streamed from `reader`, which must yield exactly `size` bytes (a file, a stream of
    /// the binding's language): memory stays bounded whatever the size.
    Reader {
        /// How many bytes `reader` yields.
        size: u64,
        /// Where they come from; read on a blocking thread of the runtime.
        reader: Box<dyn Read + Send>,
    },
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bytes(bytes) => write!(f, "Content::Bytes({} bytes)", bytes.len()),
            Self::Reader { size, .. } => write!(f, "Content::Reader({size} bytes)"),
        }
    }
}

/// Where the file content a call returns goes instead of the reply: a streamed download,
/// with memory bounded whatever the size.
pub trait Sink: Write + Send {
    /// Called once all the content was written and authenticated: make it permanent
    /// (rename a temporary file into place, flush a stream). Not called after an error.
    ///
    /// # Errors
    ///
    /// When it cannot be made permanent; the call fails with it.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// A download to a path: the file appears there, complete, only on success.
impl Sink for OutputFile {
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.commit().map(drop)
    }
}

/// What a call runs with: the client, if any, and the content sent beside the request or
/// the sink its content goes to.
pub struct Context<'a> {
    /// The call, for messages.
    name: &'static str,
    client: Option<&'a Client>,
    content: Option<Content>,
    sink: Option<Box<dyn Sink>>,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("name", &self.name)
            .field("content", &self.content)
            .field("sink", &self.sink.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> Context<'a> {
    /// The client a call runs against; the one place a missing client is reported.
    fn client(&self) -> Result<&'a Client> {
        self.client.ok_or_else(|| {
            Error::invalid_input(
                "client",
                format!(
                    "{} needs an authenticated client: create one first (authenticate)",
                    self.name
                ),
            )
        })
    }

    /// What to upload: the content sent beside the request if there is one, else
    /// `inline` (content given inside the JSON parameters).
    fn upload(&mut self, inline: Vec<u8>) -> (u64, Box<dyn Read + Send>) {
        match self.content.take() {
            Some(Content::Reader { size, reader }) => (size, reader),
            Some(Content::Bytes(bytes)) => (bytes.len() as u64, Box::new(io::Cursor::new(bytes))),
            None => (inline.len() as u64, Box::new(io::Cursor::new(inline))),
        }
    }

    /// Where downloaded content goes, if the binding streams it; taken once.
    fn sink(&mut self) -> Option<Box<dyn Sink>> {
        self.sink.take()
    }
}

/// A download's write failure named as bindings name the place it goes: `destination`
/// (the core's Rust API calls it `writer`).
fn at_destination(error: Error) -> Error {
    match error {
        Error::InvalidInput { what, message } if what == "writer" => Error::InvalidInput {
            what: "destination".to_owned(),
            message,
        },
        other => other,
    }
}

/// Finishes a streamed download, or says why it could not be.
fn finish(sink: Box<dyn Sink>) -> Result<Bytes> {
    sink.finish().map(|()| Bytes(Vec::new())).map_err(|e| {
        Error::invalid_input(
            "destination",
            format!("the content arrived but could not be saved: {e}"),
        )
    })
}

/// Runs one call. `client` is the binding's client handle (`None` for a process-level
/// call); `bytes` is raw content sent beside the request. Never fails: every problem,
/// including a malformed request or an unknown call name, is an `{"error": …}` reply.
pub async fn invoke(client: Option<&Client>, request: &[u8], bytes: Option<Vec<u8>>) -> Reply {
    invoke_streaming(client, request, bytes.map(Content::Bytes), None).await
}

/// [`invoke`] with streamed content: `content` to upload (a call that takes file content
/// reads it from there), and `sink` for a call that returns file content (it is written
/// there and finished, and the reply carries no bytes). Calls that do neither ignore
/// them.
pub async fn invoke_streaming(
    client: Option<&Client>,
    request: &[u8],
    content: Option<Content>,
    sink: Option<Box<dyn Sink>>,
) -> Reply {
    let request = match parse(request) {
        Ok(request) => request,
        Err(e) => return Reply::error(&e),
    };
    let mut context = Context {
        name: request.name(),
        client,
        content,
        sink,
    };
    match with_http_failure(table::dispatch(request, &mut context)).await {
        (Ok(reply), _) => reply,
        (Err(e), http) => Reply::failure(&e, http.as_ref()),
    }
}

/// Polls `future` once on the calling thread, inside `runtime`'s context, with a waker
/// that does nothing: a call that needs no waiting (an offline call, a resolve from a
/// fresh cache) ends here, without a hop to a runtime thread and back. A pending future
/// is then driven on the runtime as usual; its next poll registers the real waker
/// (futures may be polled again at any time, so this poll's no-op waker is harmless).
pub fn poll_once<F: Future>(
    runtime: &tokio::runtime::Runtime,
    future: std::pin::Pin<&mut F>,
) -> std::task::Poll<F::Output> {
    let _entered = runtime.enter();
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    future.poll(&mut context)
}

/// Runs an offline call (`Needs::Offline`: validate a reference, generate a password or
/// a TOTP code) at once on the calling thread, without the runtime: the fast path for
/// bindings' static functions. Any other call is an `invalid_input` reply.
pub fn invoke_offline(request: &[u8]) -> Reply {
    let request = match parse(request) {
        Ok(request) => request,
        Err(e) => return Reply::error(&e),
    };
    let name = request.name();
    if !CALLS
        .iter()
        .any(|call| call.name == name && call.needs == Needs::Offline)
    {
        return Reply::error(&Error::invalid_input(
            "name",
            format!("{name} is not an offline call: run it with invoke"),
        ));
    }
    let mut context = Context {
        name,
        client: None,
        content: None,
        sink: None,
    };
    let mut future = std::pin::pin!(table::dispatch(request, &mut context));
    let mut waker = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut waker) {
        std::task::Poll::Ready(Ok(reply)) => reply,
        std::task::Poll::Ready(Err(e)) => Reply::error(&e),
        // Offline calls never wait; reaching this is a bug in the table.
        std::task::Poll::Pending => Reply::error(&Error::Server(format!(
            "{name} is declared offline but waited for I/O"
        ))),
    }
}

/// [`invoke`] from a thread outside the runtime (a binding's calling thread): blocks it
/// until the call is done. Must not be called from inside the runtime.
pub fn invoke_blocking(client: Option<&Client>, request: &[u8], bytes: Option<Vec<u8>>) -> Reply {
    match runtime() {
        Ok(runtime) => runtime.block_on(invoke(client, request, bytes)),
        Err(message) => Reply::error(&Error::Server(message)),
    }
}

/// Authenticates a client from [`ClientOptions`] JSON (`{"auth", "integrationName",
/// "integrationVersion", …}`); a failure is the error envelope to raise (with the HTTP
/// status and request id when the server refused), never showing the token.
/// Without `serverUrl`, the environment's `SESAME_URL` (if set) overrides the server the
/// token records, as it does for the CLI.
pub async fn authenticate(options: &[u8]) -> std::result::Result<Client, Reply> {
    match with_http_failure(authenticate_with(options)).await {
        (Ok(client), _) => Ok(client),
        (Err(e), http) => Err(Reply::failure(&e, http.as_ref())),
    }
}

async fn authenticate_with(options: &[u8]) -> Result<Client> {
    let options: ClientOptions = serde_json::from_slice(options).map_err(|e| {
        Error::invalid_input(
            "options",
            format!(
                "{}; expected {{\"auth\", \"integrationName\", \"integrationVersion\"}} and \
                 optionally serverUrl, timeoutSeconds, retries, cacheTtlSeconds",
                without_values(&e.to_string())
            ),
        )
    })?;
    let mut config = options.config();
    if config.server_url.is_none() {
        // As for the CLI: SESAME_URL overrides the server URL the token records.
        config.server_url = std::env::var("SESAME_URL").ok().filter(|u| !u.is_empty());
    }
    Client::authenticate(options.auth.clone(), config).await
}

/// Parses a request, turning serde's messages into precise `invalid_input` errors.
fn parse(request: &[u8]) -> Result<Request> {
    let value: serde_json::Value = serde_json::from_slice(request).map_err(|e| {
        Error::invalid_input(
            "request",
            format!(
                "is not JSON ({}); send {{\"name\": …, \"parameters\": {{…}}}}",
                without_values(&e.to_string())
            ),
        )
    })?;
    let name = value
        .get("name")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            Error::invalid_input(
                "request",
                "has no \"name\": send {\"name\": \"SecretsResolve\", \"parameters\": {…}}",
            )
        })?
        .to_owned();
    let Some(call) = CALLS.iter().find(|c| c.name == name) else {
        return Err(Error::invalid_input(
            "name",
            format!(
                "{:?} is not a Sesame call; the calls are: {}",
                shown(&name),
                CALLS.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let mut value = value;
    if let Some(object) = value.as_object_mut() {
        object
            .entry("parameters")
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    }
    serde_json::from_value(value).map_err(|e| {
        Error::invalid_input(
            format!("{}.parameters", call.name),
            format!(
                "{}; expected {}",
                without_values(&e.to_string()),
                signature(call)
            ),
        )
    })
}

/// `(secret_reference: String)`: what a call takes, for error messages.
fn signature(call: &Call) -> String {
    let params: Vec<String> = call
        .params
        .iter()
        .map(|p| {
            format!(
                "{}: {}{}",
                p.name,
                p.ty,
                if p.optional() { " (optional)" } else { "" }
            )
        })
        .collect();
    format!("{{{}}}", params.join(", "))
}

/// A call name as given, shortened and without control characters (it is echoed).
fn shown(name: &str) -> String {
    name.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// serde's message without the values it quotes: a parameter may be a secret, and
/// `invalid type: string "hunter2", expected u32` would repeat it.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find(quote) {
            Some(end) => {
                let inner = &after[..end];
                // Field and variant names are safe to repeat; values are not.
                let is_name = inner.len() <= 64
                    && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if quote == '`' && is_name {
                    out.push('`');
                    out.push_str(inner);
                    out.push('`');
                } else {
                    out.push_str("(value hidden)");
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str("(value hidden)");
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(request: &str) -> serde_json::Value {
        let reply = invoke_blocking(None, request.as_bytes(), None);
        serde_json::from_slice(&reply.json).unwrap_or_default()
    }

    #[test]
    fn every_call_is_named_once_and_has_a_group_and_docs() {
        let mut names = std::collections::HashSet::new();
        for call in CALLS {
            assert!(names.insert(call.name), "{} twice", call.name);
            assert!(!call.doc.trim().is_empty(), "{} has no docs", call.name);
            assert!(!call.group.is_empty() && !call.method.is_empty());
        }
    }

    #[test]
    fn unknown_names_and_bad_parameters_are_clean_invalid_input() {
        let json = reply(r#"{"name": "SecretsSteal", "parameters": {}}"#);
        assert_eq!(json["error"]["code"], "invalid_input");
        assert_eq!(json["error"]["argument"], "name");
        assert!(json["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("SecretsResolve"));
        let json = reply(r#"{"parameters": {}}"#);
        assert_eq!(json["error"]["code"], "invalid_input");
        let json = reply("not json");
        assert_eq!(json["error"]["code"], "invalid_input");
        let json = reply(r#"{"name": "GeneratePassword", "parameters": {"recipe": "hunter2"}}"#);
        assert_eq!(json["error"]["code"], "invalid_input");
        let message = json["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("recipe: PasswordRecipe"), "{message}");
        let json = reply(
            r#"{"name": "ValidateSecretReference", "parameters": {"secret_reference": "op://a/b/c", "extra": 1}}"#,
        );
        assert_eq!(json["error"]["code"], "invalid_input");
        assert!(json["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("extra"));
    }

    #[test]
    fn client_calls_without_a_client_say_so() {
        let json = reply(
            r#"{"name": "SecretsResolve", "parameters": {"secret_reference": "op://a/b/c"}}"#,
        );
        assert_eq!(json["error"]["code"], "invalid_input");
        assert_eq!(json["error"]["argument"], "client");
    }

    #[test]
    fn offline_calls_answer_ok() {
        let json = reply(
            r#"{"name": "ValidateSecretReference", "parameters": {"secret_reference": "op://a/b/c"}}"#,
        );
        assert_eq!(json, serde_json::json!({"ok": null}));
        let json = reply(
            r#"{"name": "GeneratePassword", "parameters": {"recipe": {"type": "Pin", "parameters": {"length": 8}}}}"#,
        );
        assert_eq!(json["ok"]["password"].as_str().map(str::len), Some(8));
        let json = reply(
            r#"{"name": "GenerateTotpCode", "parameters": {"totp": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}}"#,
        );
        assert_eq!(json["ok"]["code"].as_str().map(str::len), Some(6));
    }

    #[test]
    fn values_are_hidden_from_serde_messages() {
        assert_eq!(
            without_values(r#"invalid type: string "hunter2", expected u32"#),
            "invalid type: string (value hidden), expected u32"
        );
        assert_eq!(
            without_values("unknown field `extra`, expected `a`"),
            "unknown field `extra`, expected `a`"
        );
    }
}
