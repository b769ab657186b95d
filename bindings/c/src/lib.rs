//! `libsesame`: Sesame's C ABI, the call table of `sesame-invoke` and nothing more. The
//! Go SDK links it statically (cgo); any language with a C FFI can use it.
//!
//! - A client is an opaque `SesameClient *` from [`sesame_client_new`], released by
//!   [`sesame_client_free`]. It may be used by many threads at once.
//! - [`sesame_invoke()`] runs one call: JSON `{"name", "parameters"}` in (with raw bytes
//!   beside it when a call uploads file content), JSON `{"ok": …}` or `{"error": …}` out
//!   (with raw bytes beside it when the result is file content). It blocks the calling
//!   thread; calls on other threads run at the same time.
//! - Every function returns a status: `0` on success, else the stable number of the
//!   error's code (`1` invalid_reference … `12` integrity, as `ErrorCode::number`), with
//!   the error envelope in the reply; or [`SESAME_CANCELLED`] when the call was cancelled.
//! - A call given a `SesameCancel *` stops as soon as another thread calls
//!   [`sesame_cancel`] on it.
//! - Buffers the library returns are freed with [`sesame_buffer_free`]; it never frees
//!   what the caller passes in, and never keeps a pointer to it after returning.
//! - A panic never crosses the boundary: every function catches it; those with a reply
//!   answer `server` (11) with an envelope that says so.
//!
//! All calls run on one runtime per process (`sesame_invoke::runtime`).

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use sesame_core::{Client, Error, ErrorCode};
use sesame_invoke::Reply;
use tokio::sync::Notify;
use zeroize::Zeroizing;

/// The status of a call cancelled through its `SesameCancel` (no reply).
pub const SESAME_CANCELLED: i32 = -1;

/// The status of success.
pub const SESAME_OK: i32 = 0;

/// Bytes the library allocated: a reply's JSON or file content. Free it with
/// [`sesame_buffer_free`]. An empty buffer has a null `ptr` and `len` 0.
#[repr(C)]
#[derive(Debug)]
pub struct SesameBuffer {
    /// The first byte, or null when empty.
    pub ptr: *mut u8,
    /// How many bytes.
    pub len: usize,
}

impl SesameBuffer {
    const EMPTY: Self = Self {
        ptr: std::ptr::null_mut(),
        len: 0,
    };

    fn from_vec(bytes: Vec<u8>) -> Self {
        if bytes.is_empty() {
            return Self::EMPTY;
        }
        let len = bytes.len();
        let ptr = Box::into_raw(bytes.into_boxed_slice()).cast::<u8>();
        Self { ptr, len }
    }
}

/// An authenticated client (opaque).
pub struct SesameClient {
    client: Client,
}

impl std::fmt::Debug for SesameClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SesameClient")
    }
}

/// A cancellation signal for calls in flight (opaque): [`sesame_cancel`] from any thread
/// stops every call that was given it.
#[derive(Debug, Default)]
pub struct SesameCancel {
    cancelled: AtomicBool,
    notify: Notify,
}

impl SesameCancel {
    /// Resolves once cancelled (at once if it already was).
    async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the flag is read: a cancel in between still wakes us.
            notified.as_mut().enable();
            if self.cancelled.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// Writes `value` to `out` if the caller gave a place for it.
fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: the caller passes either null (checked above) or a valid, writable,
        // aligned pointer to a `T`, as each function's documentation requires.
        unsafe { out.write(value) };
    }
}

/// The bytes at `ptr`, or an error naming `what` when the pointer is null but `len` is
/// not zero.
///
/// # Safety
///
/// `ptr` must be null or point to `len` readable bytes that stay valid and unchanged
/// for the returned slice's lifetime.
unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::invalid_input(
            what,
            format!("is a null pointer with length {len}"),
        ));
    }
    // SAFETY: non-null, and the caller guarantees `len` readable bytes (see above).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The status of `reply`, which goes to `reply_out` (and its bytes to `bytes_out`).
fn deliver(reply: Reply, reply_out: *mut SesameBuffer, bytes_out: *mut SesameBuffer) -> i32 {
    let status = reply.code.map_or(SESAME_OK, status_of);
    put(
        bytes_out,
        reply
            .bytes
            .map_or(SesameBuffer::EMPTY, SesameBuffer::from_vec),
    );
    put(reply_out, SesameBuffer::from_vec(reply.json));
    status
}

fn status_of(code: ErrorCode) -> i32 {
    i32::try_from(code.number()).unwrap_or(i32::MAX)
}

/// Runs `body`, turning a panic into a `server` error in `reply_out`.
fn guarded(reply_out: *mut SesameBuffer, body: impl FnOnce() -> i32) -> i32 {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        let error = Error::Server(
            "the Sesame core panicked (a bug: please report it with what you called)".into(),
        );
        deliver(Reply::error(&error), reply_out, std::ptr::null_mut())
    })
}

/// Runs `future` on the process's runtime, blocking this thread; `None` when `cancel`
/// (if given) fired first.
///
/// The future is first polled once right here ([`sesame_invoke::poll_once`]): a call that
/// needs no waiting ends without entering `block_on`, whose wake-up machinery would cost
/// more than the call itself and make threads contend.
fn block_on<T>(
    cancel: Option<&SesameCancel>,
    future: impl Future<Output = T>,
) -> Result<Option<T>, Error> {
    let runtime = sesame_invoke::runtime().map_err(Error::Server)?;
    let mut future = std::pin::pin!(future);
    if let std::task::Poll::Ready(value) = sesame_invoke::poll_once(runtime, future.as_mut()) {
        return Ok(Some(value));
    }
    Ok(runtime.block_on(async {
        match cancel {
            None => Some(future.await),
            Some(cancel) => tokio::select! {
                value = future => Some(value),
                () = cancel.cancelled() => None,
            },
        }
    }))
}

/// The cancel signal at `cancel`, if any.
///
/// # Safety
///
/// `cancel` must be null or a live pointer from [`sesame_cancel_new`].
unsafe fn cancel_ref<'a>(cancel: *const SesameCancel) -> Option<&'a SesameCancel> {
    // SAFETY: null or live, as the caller guarantees.
    unsafe { cancel.as_ref() }
}

/// Creates a client from `ClientOptions` JSON (`{"auth", "integrationName",
/// "integrationVersion"}` and optionally `serverUrl`, `timeoutSeconds`, `retries`,
/// `cacheTtlSeconds`). Returns 0 and sets `*client_out`, or an error status with the
/// envelope in `*reply_out` (which is set either way; free it). The options' bytes are
/// copied and wiped after use; the token never appears in an error.
///
/// # Safety
///
/// `options` must point to `options_len` readable bytes; `cancel` must be null or live;
/// `client_out` and `reply_out` must be valid for writes (or null to ignore).
#[no_mangle]
pub unsafe extern "C" fn sesame_client_new(
    options: *const u8,
    options_len: usize,
    cancel: *const SesameCancel,
    client_out: *mut *mut SesameClient,
    reply_out: *mut SesameBuffer,
) -> i32 {
    guarded(reply_out, || {
        put(client_out, std::ptr::null_mut());
        // SAFETY: the caller guarantees the options' bytes.
        let options = match unsafe { bytes(options, options_len, "options") } {
            Ok(options) => Zeroizing::new(options.to_vec()),
            Err(e) => return deliver(Reply::error(&e), reply_out, std::ptr::null_mut()),
        };
        // SAFETY: null or live, as the caller guarantees.
        let cancel = unsafe { cancel_ref(cancel) };
        match block_on(cancel, sesame_invoke::authenticate(&options)) {
            Ok(Some(Ok(client))) => {
                put(client_out, Box::into_raw(Box::new(SesameClient { client })));
                put(reply_out, SesameBuffer::EMPTY);
                SESAME_OK
            }
            Ok(Some(Err(reply))) => deliver(reply, reply_out, std::ptr::null_mut()),
            Ok(None) => {
                put(reply_out, SesameBuffer::EMPTY);
                SESAME_CANCELLED
            }
            Err(e) => deliver(Reply::error(&e), reply_out, std::ptr::null_mut()),
        }
    })
}

/// Releases a client. Calls still running on other threads must have returned first;
/// null is ignored.
///
/// # Safety
///
/// `client` must be null or a pointer from [`sesame_client_new`] not yet freed.
#[no_mangle]
pub unsafe extern "C" fn sesame_client_free(client: *mut SesameClient) {
    if client.is_null() {
        return;
    }
    // SAFETY: from `sesame_client_new` (Box::into_raw) and not freed before.
    let client = unsafe { Box::from_raw(client) };
    // Nothing is observed after a panic here: the client is gone either way.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(client)));
}

/// Runs one call of the call table. `client` is null for calls that need none
/// (offline ones, opening a share link). `data` is file content to upload (or null).
/// Sets `*reply_out` to the reply's JSON and `*bytes_out` to file content the call
/// returns (empty otherwise); free both. Returns 0, an error status (the envelope is the
/// reply), or [`SESAME_CANCELLED`] (empty reply).
///
/// # Safety
///
/// `client` must be null or live (not freed while this runs); `request` must point to
/// `request_len` readable bytes and `data` to `data_len` (or be null with 0); `cancel`
/// must be null or live; the out pointers must be valid for writes (or null).
#[no_mangle]
pub unsafe extern "C" fn sesame_invoke(
    client: *const SesameClient,
    request: *const u8,
    request_len: usize,
    data: *const u8,
    data_len: usize,
    cancel: *const SesameCancel,
    reply_out: *mut SesameBuffer,
    bytes_out: *mut SesameBuffer,
) -> i32 {
    guarded(reply_out, || {
        put(bytes_out, SesameBuffer::EMPTY);
        // SAFETY: null or live, as the caller guarantees; only read during this call.
        let client = unsafe { client.as_ref() }.map(|c| &c.client);
        // SAFETY: the caller guarantees both buffers and the cancel pointer.
        let inputs = unsafe {
            bytes(request, request_len, "request")
                .and_then(|request| Ok((request, bytes(data, data_len, "data")?)))
                .map(|(request, data)| (request, data, cancel_ref(cancel)))
        };
        let (request, data, cancel) = match inputs {
            Ok(inputs) => inputs,
            Err(e) => return deliver(Reply::error(&e), reply_out, bytes_out),
        };
        let data = (!data.is_empty()).then(|| data.to_vec());
        match block_on(cancel, sesame_invoke::invoke(client, request, data)) {
            Ok(Some(reply)) => deliver(reply, reply_out, bytes_out),
            Ok(None) => {
                put(reply_out, SesameBuffer::EMPTY);
                SESAME_CANCELLED
            }
            Err(e) => deliver(Reply::error(&e), reply_out, bytes_out),
        }
    })
}

/// A new cancellation signal; free it with [`sesame_cancel_free`].
#[no_mangle]
pub extern "C" fn sesame_cancel_new() -> *mut SesameCancel {
    catch_unwind(|| Box::into_raw(Box::<SesameCancel>::default())).unwrap_or(std::ptr::null_mut())
}

/// Cancels every call given `cancel`, now and later; safe from any thread. Null is
/// ignored.
///
/// # Safety
///
/// `cancel` must be null or live.
#[no_mangle]
pub unsafe extern "C" fn sesame_cancel(cancel: *const SesameCancel) {
    // SAFETY: null or live, as the caller guarantees.
    if let Some(cancel) = unsafe { cancel_ref(cancel) } {
        let _ = catch_unwind(|| {
            cancel.cancelled.store(true, Ordering::Release);
            cancel.notify.notify_waiters();
        });
    }
}

/// Releases a cancellation signal once no call that was given it is running.
///
/// # Safety
///
/// `cancel` must be null or a pointer from [`sesame_cancel_new`] not yet freed.
#[no_mangle]
pub unsafe extern "C" fn sesame_cancel_free(cancel: *mut SesameCancel) {
    if !cancel.is_null() {
        // SAFETY: from `sesame_cancel_new` (Box::into_raw) and not freed before.
        let cancel = unsafe { Box::from_raw(cancel) };
        let _ = catch_unwind(AssertUnwindSafe(move || drop(cancel)));
    }
}

/// Releases a buffer the library returned. An empty buffer is ignored.
///
/// # Safety
///
/// `buffer` must come from this library and not have been freed.
#[no_mangle]
pub unsafe extern "C" fn sesame_buffer_free(buffer: SesameBuffer) {
    if buffer.ptr.is_null() {
        return;
    }
    // SAFETY: made by `SesameBuffer::from_vec` from a boxed slice of exactly `len` bytes.
    let bytes =
        unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(buffer.ptr, buffer.len)) };
    let _ = catch_unwind(move || drop(bytes));
}
