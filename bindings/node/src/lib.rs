//! The native addon of `@sesame/sdk`: the glue between Node and the call table of
//! `sesame-invoke`, and nothing more. A client handle, `invoke` (a Promise that never
//! blocks the event loop), content as `Uint8Array` or a stream pulled chunk by chunk,
//! downloads to a path, close. Everything model-shaped (types, wrappers, errors) is
//! generated TypeScript (`cargo xtask codegen`); `js/src/native.ts` encodes requests and
//! throws the errors this addon returns as envelopes.
//!
//! Calls run on the addon's Tokio runtime, many at once: there is no lock around a call.
//! A call that fails answers an error envelope rather than rejecting, so every failure
//! reaches JavaScript the same way, with its stable code.

use std::io::{self, Read};
use std::sync::{PoisonError, RwLock};

use napi::bindgen_prelude::{Buffer, Either, Promise, Uint8Array};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;
use sesame_core::client::OutputFile;
use sesame_core::{Client, Error};
use sesame_invoke::{Content, Sink};
use zeroize::Zeroizing;

/// A call's answer: the JSON envelope (`{"ok": …}` or `{"error": …}`) and, for calls
/// whose result is file content, the bytes beside it.
#[napi(object)]
pub struct Reply {
    /// UTF-8 JSON.
    pub json: String,
    /// File content, without a copy (the Buffer takes the native allocation over).
    pub bytes: Option<Buffer>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.bytes.as_ref().map(|b| b.len());
        write!(
            f,
            "Reply({} bytes of JSON, {bytes:?} bytes beside)",
            self.json.len()
        )
    }
}

impl From<sesame_invoke::Reply> for Reply {
    fn from(reply: sesame_invoke::Reply) -> Self {
        Self {
            json: String::from_utf8_lossy(&reply.json).into_owned(),
            bytes: reply.bytes.map(Buffer::from),
        }
    }
}

/// Pulls the next chunk of streamed content from JavaScript: resolves to the chunk, or
/// to `null` at the end.
type ReadChunk = ThreadsafeFunction<(), Promise<Option<Uint8Array>>, (), Status, false>;

/// An authenticated client, shared by every call that holds it. Dropped when JavaScript
/// closes it or collects it; calls already running keep their own handle to the session.
#[napi]
pub struct NativeClient {
    /// `None` once closed.
    client: RwLock<Option<Client>>,
}

impl std::fmt::Debug for NativeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NativeClient({})",
            if self.closed() { "closed" } else { "open" }
        )
    }
}

#[napi]
impl NativeClient {
    /// Runs one call against this client. `content` is file content to upload, or
    /// `size` bytes pulled by `readChunk`; `destination` is a path that file content the
    /// call returns is written to (atomically, mode 0600) instead of the reply.
    #[napi]
    pub async fn invoke(
        &self,
        request: String,
        content: Option<Uint8Array>,
        size: Option<f64>,
        #[napi(ts_arg_type = "(() => Promise<Uint8Array | null>) | undefined | null")]
        read_chunk: Option<ReadChunk>,
        destination: Option<String>,
    ) -> Reply {
        let client = self
            .client
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(client) = client else {
            return sesame_invoke::Reply::error(&Error::invalid_input(
                "client",
                "this client was closed: create a new one with createClient",
            ))
            .into();
        };
        run(
            Some(&client),
            &request,
            content,
            size,
            read_chunk,
            destination,
        )
        .await
    }

    /// Releases the session at once (garbage collection would, later). Idempotent;
    /// calls made afterwards fail with `invalid_input`.
    #[napi]
    pub fn close(&self) {
        self.client
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.client
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }
}

/// Authenticates a client from `ClientOptions` JSON. Resolves to the client, or to the
/// error envelope (a string) to throw; the token is wiped from native memory once used.
#[napi(ts_return_type = "Promise<NativeClient | string>")]
pub async fn authenticate(options: String) -> Either<NativeClient, String> {
    let options = Zeroizing::new(options.into_bytes());
    match sesame_invoke::authenticate(&options).await {
        Ok(client) => Either::A(NativeClient {
            client: RwLock::new(Some(client)),
        }),
        Err(reply) => Either::B(String::from_utf8_lossy(&reply.json).into_owned()),
    }
}

/// Runs a call that needs no client but does I/O (opening a share link).
#[napi]
pub async fn invoke(
    request: String,
    content: Option<Uint8Array>,
    size: Option<f64>,
    #[napi(ts_arg_type = "(() => Promise<Uint8Array | null>) | undefined | null")]
    read_chunk: Option<ReadChunk>,
    destination: Option<String>,
) -> Reply {
    run(None, &request, content, size, read_chunk, destination).await
}

/// Runs an offline call (validate a reference, generate a password or a TOTP code) at
/// once, on the calling thread: no Promise, no runtime.
#[napi]
pub fn invoke_offline(request: String) -> Reply {
    sesame_invoke::invoke_offline(request.as_bytes()).into()
}

/// Checks a secret reference's syntax at once: `null` when it is valid, else the error
/// envelope to throw. The fast path of `Secrets.validateSecretReference` (no JSON on the
/// way in, none on success).
#[napi]
pub fn validate_secret_reference(reference: String) -> Option<String> {
    sesame_core::client::Secrets::validate_secret_reference(&reference)
        .err()
        .map(|e| String::from_utf8_lossy(&sesame_invoke::Reply::error(&e).json).into_owned())
}

async fn run(
    client: Option<&Client>,
    request: &str,
    content: Option<Uint8Array>,
    size: Option<f64>,
    read_chunk: Option<ReadChunk>,
    destination: Option<String>,
) -> Reply {
    let content = match (content, read_chunk) {
        // The caller's array is read in place: no copy, however large.
        (Some(bytes), _) => Some(Content::Reader {
            size: bytes.len() as u64,
            reader: Box::new(io::Cursor::new(bytes)),
        }),
        (None, Some(read_chunk)) => Some(Content::Reader {
            // JavaScript numbers hold sizes exactly up to 2^53.
            size: size.unwrap_or(0.0) as u64,
            reader: Box::new(JsReader {
                read_chunk,
                chunk: Vec::new(),
                position: 0,
            }),
        }),
        (None, None) => None,
    };
    let sink = match destination.map(|path| open_destination(&path)).transpose() {
        Ok(sink) => sink,
        Err(e) => return sesame_invoke::Reply::error(&e).into(),
    };
    sesame_invoke::invoke_streaming(client, request.as_bytes(), content, sink)
        .await
        .into()
}

/// The temporary file a download to `path` is written to, renamed into place when all
/// of it arrived and was authenticated.
fn open_destination(path: &str) -> Result<Box<dyn Sink>, Error> {
    let file = OutputFile::create(std::path::Path::new(path), Some(0o600)).map_err(|e| {
        Error::invalid_input(
            "destination",
            format!("cannot write to {path:?}: {e}; pass a path in a writable directory"),
        )
    })?;
    Ok(Box::new(file))
}

/// Streamed content pulled from JavaScript one chunk at a time, on a blocking thread of
/// the runtime (where the core's upload reads): memory stays one chunk per upload.
struct JsReader {
    read_chunk: ReadChunk,
    chunk: Vec<u8>,
    position: usize,
}

impl Read for JsReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position == self.chunk.len() {
            let next = tokio::runtime::Handle::current().block_on(async {
                let promise = self.read_chunk.call_async(()).await?;
                promise.await
            });
            match next {
                Ok(Some(chunk)) => {
                    self.chunk = chunk.to_vec();
                    self.position = 0;
                }
                Ok(None) => return Ok(0),
                Err(e) => {
                    return Err(io::Error::other(format!(
                        "reading the content failed: {}",
                        e.reason
                    )))
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.position);
        buf[..n].copy_from_slice(&self.chunk[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}
