//! `sesame._native`: the Python SDK's native module. It is the glue between Python and
//! the call table of `sesame-invoke`, and nothing more: a client handle, `invoke` (from a
//! thread or an event loop), content as `bytes` or streams, close. Everything
//! model-shaped (types, wrappers, errors) is generated Python (`cargo xtask codegen`);
//! `sesame/_invoker.py` encodes requests and raises the errors this module returns as
//! envelopes.
//!
//! The GIL is released during every call that can block. Calls run on the one
//! process-wide runtime of `sesame-invoke`, which a forked child rebuilds for itself; a
//! client made before `fork()` refuses to work in the child (its connections belong to
//! the parent) and says to make a new one.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::task::Poll;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};
use sesame_core::client::OutputFile;
use sesame_core::{Client, Error};
use sesame_invoke::{Content, Reply, Sink};
use zeroize::Zeroizing;

/// How often a thread blocked in a call wakes to let Python handle signals (Ctrl-C
/// cancels the call).
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// An authenticated client, shared by every thread and task that holds it.
#[pyclass(frozen, module = "sesame._native")]
struct NativeClient {
    /// `None` once closed.
    client: Mutex<Option<Client>>,
    /// The process that made it: a forked child cannot use its parent's connections.
    pid: u32,
}

impl std::fmt::Debug for NativeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl NativeClient {
    fn describe(&self) -> String {
        let open = self.lock().is_some();
        format!("NativeClient({})", if open { "open" } else { "closed" })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Client>> {
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The client to run a call with, or why there is none.
    fn current(&self) -> Result<Client, Error> {
        if self.pid != std::process::id() {
            return Err(Error::invalid_input(
                "client",
                "this client was created before fork() in the parent process and cannot be \
                 used in the child: create a new client in the child (Client.authenticate)",
            ));
        }
        self.lock().clone().ok_or_else(|| {
            Error::invalid_input(
                "client",
                "this client is closed: create a new one (Client.authenticate)",
            )
        })
    }
}

#[pymethods]
impl NativeClient {
    /// Runs one call on this client, blocking the calling thread (never the GIL).
    /// Returns `(reply_json, content_or_none)`.
    #[pyo3(signature = (request, data=None, sink=None))]
    fn invoke(
        &self,
        py: Python<'_>,
        request: &[u8],
        data: Option<&Bound<'_, PyAny>>,
        sink: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTuple>> {
        let call = Call::new(self.current().map(Some), request, data, sink);
        let reply = call.block(py)?;
        reply_tuple(py, reply)
    }

    /// Starts one call on this client for an event loop (see [`start`]): its reply
    /// `(reply_json, content_or_none)` at once, or a `Pending` and later
    /// `done((reply_json, content_or_none))`.
    #[pyo3(signature = (request, data, sink, done))]
    fn invoke_async(
        &self,
        py: Python<'_>,
        request: &[u8],
        data: Option<&Bound<'_, PyAny>>,
        sink: Option<&Bound<'_, PyAny>>,
        done: Py<PyAny>,
    ) -> PyResult<Py<PyAny>> {
        Call::new(self.current().map(Some), request, data, sink).spawn(py, done)
    }

    /// Releases the client: later calls fail with a clear error. Idempotent.
    fn close(&self) {
        self.lock().take();
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.lock().is_none()
    }

    fn __repr__(&self) -> String {
        self.describe()
    }
}

/// A call started by `invoke_async`.
#[pyclass(frozen, module = "sesame._native")]
#[derive(Debug)]
struct Pending {
    task: tokio::task::AbortHandle,
}

#[pymethods]
impl Pending {
    /// Abandons the call if it is still running (its `done` is then never called).
    fn cancel(&self) {
        self.task.abort();
    }
}

/// One call, its request and content converted while the GIL is held.
struct Call {
    client: Result<Option<Client>, Error>,
    request: Vec<u8>,
    content: Result<Option<Content>, Error>,
    sink: Result<Option<Box<dyn Sink>>, Error>,
}

impl Call {
    /// `client` is `Ok(None)` for a process-level call, an error for an unusable client.
    fn new(
        client: Result<Option<Client>, Error>,
        request: &[u8],
        data: Option<&Bound<'_, PyAny>>,
        sink: Option<&Bound<'_, PyAny>>,
    ) -> Self {
        Self {
            client,
            request: request.to_vec(),
            content: data.map(content).transpose(),
            sink: sink.map(destination).transpose(),
        }
    }

    async fn run(self) -> Reply {
        let (client, content, sink) = match (self.client, self.content, self.sink) {
            (Ok(client), Ok(content), Ok(sink)) => (client, content, sink),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Reply::error(&e),
        };
        sesame_invoke::invoke_streaming(client.as_ref(), &self.request, content, sink).await
    }

    /// Runs the call on the runtime and waits for it (see [`wait`]).
    fn block(self, py: Python<'_>) -> PyResult<Reply> {
        Ok(wait(py, self.run())?.unwrap_or_else(|e| Reply::error(&e)))
    }

    /// Starts the call for an event loop (see [`start`]).
    fn spawn(self, py: Python<'_>, done: Py<PyAny>) -> PyResult<Py<PyAny>> {
        start(py, self.run(), done, reply_object, |e| Reply::error(&e))
    }
}

/// Starts `future` for an event loop. When it needs no waiting (see [`first_poll`]) its
/// outcome, made a Python object by `deliver`, is returned at once; otherwise a `Pending`
/// is returned and `done(outcome)` is called from a runtime thread when it ends (the
/// async client hands that to its event loop). `failed` is the outcome when the runtime
/// cannot start.
fn start<T: Send + 'static>(
    py: Python<'_>,
    future: impl std::future::Future<Output = T> + Send + 'static,
    done: Py<PyAny>,
    deliver: fn(Python<'_>, T) -> PyResult<Py<PyAny>>,
    failed: fn(Error) -> T,
) -> PyResult<Py<PyAny>> {
    let runtime = match sesame_invoke::runtime() {
        Ok(runtime) => runtime,
        Err(message) => return deliver(py, failed(Error::Server(message))),
    };
    let mut future = Box::pin(future);
    if let Poll::Ready(outcome) = first_poll(py, runtime, &mut future) {
        return deliver(py, outcome);
    }
    let task = runtime.spawn(async move {
        let outcome = future.await;
        with_python(|py| {
            if let Ok(value) = deliver(py, outcome) {
                // A closed event loop refuses it; nobody is waiting for it then.
                let _ = done.call1(py, (value,));
            }
        });
    });
    let pending = Pending {
        task: task.abort_handle(),
    };
    Ok(Py::new(py, pending)?.into_any())
}

/// [`sesame_invoke::poll_once`] with the GIL released: a pending future is then spawned.
fn first_poll<F: std::future::Future + Send>(
    py: Python<'_>,
    runtime: &'static tokio::runtime::Runtime,
    future: &mut Pin<Box<F>>,
) -> Poll<F::Output>
where
    F::Output: Send,
{
    py.detach(|| sesame_invoke::poll_once(runtime, future.as_mut()))
}

/// Runs `future` on the runtime and waits for it with the GIL released, waking now and
/// then so that Ctrl-C (or any signal handler that raises) abandons it: the signal's
/// exception is the `Err`. `Ok(Err(_))` is a failure to run it at all.
fn wait<T: Send + 'static>(
    py: Python<'_>,
    future: impl std::future::Future<Output = T> + Send + 'static,
) -> PyResult<Result<T, Error>> {
    let runtime = match sesame_invoke::runtime() {
        Ok(runtime) => runtime,
        Err(message) => return Ok(Err(Error::Server(message))),
    };
    let mut future = Box::pin(future);
    if let Poll::Ready(value) = first_poll(py, runtime, &mut future) {
        return Ok(Ok(value));
    }
    let (sender, receiver) = mpsc::sync_channel(1);
    let task = runtime.spawn(async move {
        let _ = sender.send(future.await);
    });
    let mut receiver = receiver;
    loop {
        let (received, back) = py.detach(move || {
            let received = receiver.recv_timeout(SIGNAL_CHECK);
            (received, receiver)
        });
        receiver = back;
        match received {
            Ok(value) => return Ok(Ok(value)),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupted) = py.check_signals() {
                    task.abort();
                    return Err(interrupted);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Ok(Err(Error::Server(
                    "the Sesame runtime dropped a call before it finished".to_owned(),
                )))
            }
        }
    }
}

/// [`reply_tuple`] as any Python object.
fn reply_object(py: Python<'_>, reply: Reply) -> PyResult<Py<PyAny>> {
    Ok(reply_tuple(py, reply)?.into_any())
}

/// `(reply_json, content_or_none)` as Python objects.
fn reply_tuple(py: Python<'_>, reply: Reply) -> PyResult<Py<PyTuple>> {
    let json = PyBytes::new(py, &reply.json).into_any();
    let bytes = match reply.bytes {
        Some(bytes) => PyBytes::new(py, &bytes).into_any(),
        None => py.None().into_bound(py),
    };
    Ok(PyTuple::new(py, [json, bytes])?.unbind())
}

/// Content to upload: `bytes`, a path (`str`) streamed from disk, or `(file, size)`, a
/// binary file object read in chunks.
fn content(data: &Bound<'_, PyAny>) -> Result<Content, Error> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        return Ok(Content::Bytes(bytes.as_bytes().to_vec()));
    }
    if let Ok(path) = data.cast::<PyString>() {
        let path = path.to_string();
        let unreadable =
            |e: io::Error| Error::invalid_input("content", format!("cannot read {path}: {e}"));
        let file = std::fs::File::open(&path).map_err(unreadable)?;
        let size = file.metadata().map_err(unreadable)?.len();
        return Ok(Content::Reader {
            size,
            reader: Box::new(file),
        });
    }
    let (file, size): (Py<PyAny>, u64) = data.extract().map_err(|_| {
        Error::invalid_input(
            "content",
            "give bytes, a path, or a binary file object opened for reading",
        )
    })?;
    Ok(Content::Reader {
        size,
        reader: Box::new(PyReader { file }),
    })
}

/// Where downloaded content goes: a path (`str`, written to a temporary file beside it,
/// owner-only, and renamed into place only when complete) or a binary file object.
fn destination(sink: &Bound<'_, PyAny>) -> Result<Box<dyn Sink>, Error> {
    if let Ok(path) = sink.cast::<PyString>() {
        let path = path.to_string();
        let file = OutputFile::create(&path, Some(0o600)).map_err(|e| {
            Error::invalid_input("destination", format!("cannot write {path}: {e}"))
        })?;
        return Ok(Box::new(file));
    }
    if !sink.hasattr("write").unwrap_or(false) {
        return Err(Error::invalid_input(
            "destination",
            "give a path or a binary file object opened for writing",
        ));
    }
    Ok(Box::new(PyWriter {
        file: sink.clone().unbind(),
    }))
}

/// Runtime threads calling into Python right now.
static IN_PYTHON: AtomicUsize = AtomicUsize::new(0);
/// Set when the interpreter begins to exit: runtime threads then leave Python alone.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Runs `f` with the interpreter from a runtime thread, unless it is exiting (`None`).
///
/// Why the guard: in CPython before 3.14, a thread that takes the GIL back while the
/// interpreter finalizes is ended with `pthread_exit`, whose forced unwinding runs Rust
/// destructors (dropping Python objects) beside the finalizing main thread. An `atexit`
/// hook ([`before_exit`]) sets [`EXITING`] and waits for the threads inside to leave.
fn with_python<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    IN_PYTHON.fetch_add(1, Ordering::SeqCst);
    let result = if EXITING.load(Ordering::SeqCst) {
        None
    } else {
        Python::try_attach(f)
    };
    IN_PYTHON.fetch_sub(1, Ordering::SeqCst);
    result
}

fn exiting<T>() -> io::Result<T> {
    Err(io::Error::other("the Python interpreter is exiting"))
}

/// Called by `atexit` (sesame/_invoker.py): from now on runtime threads do not enter
/// Python, and those inside get up to five seconds to leave.
#[pyfunction]
fn before_exit(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while IN_PYTHON.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// A Python binary file object as a `Read`: each read takes the GIL for one chunk.
struct PyReader {
    file: Py<PyAny>,
}

impl Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        with_python(|py| {
            let chunk = self
                .file
                .call_method1(py, "read", (buf.len(),))
                .map_err(|e| io::Error::other(python_error(py, &e)))?;
            let chunk = chunk.bind(py);
            let bytes = chunk.cast::<PyBytes>().map_err(|_| {
                io::Error::other("the file object's read() returned something other than bytes (open it in binary mode)")
            })?;
            let bytes = bytes.as_bytes();
            let n = bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&bytes[..n]);
            Ok(n)
        })
        .unwrap_or_else(exiting)
    }
}

/// A Python binary file object as a `Sink`: each write takes the GIL for one chunk.
struct PyWriter {
    file: Py<PyAny>,
}

impl Write for PyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        with_python(|py| {
            let written = self
                .file
                .call_method1(py, "write", (PyBytes::new(py, buf),))
                .map_err(|e| io::Error::other(python_error(py, &e)))?;
            // Raw files may write less than asked and say how much; buffered ones say
            // None or all of it.
            Ok(written
                .extract::<usize>(py)
                .unwrap_or(buf.len())
                .min(buf.len()))
        })
        .unwrap_or_else(exiting)
    }

    fn flush(&mut self) -> io::Result<()> {
        with_python(|py| {
            if self.file.bind(py).hasattr("flush").unwrap_or(false) {
                self.file
                    .call_method0(py, "flush")
                    .map_err(|e| io::Error::other(python_error(py, &e)))?;
            }
            Ok(())
        })
        .unwrap_or_else(exiting)
    }
}

impl Sink for PyWriter {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush()
    }
}

/// A Python exception as text for an I/O error (its type and message; file objects'
/// errors do not carry secrets).
fn python_error(py: Python<'_>, error: &PyErr) -> String {
    let kind = error
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".to_owned());
    format!("the file object raised {kind}: {}", error.value(py))
}

/// Runs a call that needs no client (validate a reference, generate a password or a
/// TOTP code, open a share link), blocking the calling thread with the GIL released.
#[pyfunction]
#[pyo3(signature = (request, data=None, sink=None))]
fn invoke(
    py: Python<'_>,
    request: &[u8],
    data: Option<&Bound<'_, PyAny>>,
    sink: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTuple>> {
    let reply = Call::new(Ok(None), request, data, sink).block(py)?;
    reply_tuple(py, reply)
}

/// `invoke` for an event loop (see [`start`]): the reply `(reply_json, content)` at once,
/// or a `Pending` and later `done((reply_json, content))`.
#[pyfunction]
#[pyo3(signature = (request, data, sink, done))]
fn invoke_async(
    py: Python<'_>,
    request: &[u8],
    data: Option<&Bound<'_, PyAny>>,
    sink: Option<&Bound<'_, PyAny>>,
    done: Py<PyAny>,
) -> PyResult<Py<PyAny>> {
    Call::new(Ok(None), request, data, sink).spawn(py, done)
}

/// Runs an offline call on the calling thread at once, without the runtime or a thread
/// switch: the fast path of `Secrets.validate_secret_reference` and
/// `Secrets.generate_password`. Returns the reply JSON.
#[pyfunction]
fn invoke_offline<'py>(py: Python<'py>, request: &[u8]) -> Bound<'py, PyBytes> {
    let reply = sesame_invoke::invoke_offline(request);
    PyBytes::new(py, &reply.json)
}

/// Checks a secret reference's syntax at once: `None` when it is valid, else the error
/// envelope (JSON bytes) to raise. The fast path of `Secrets.validate_secret_reference`.
#[pyfunction]
fn validate_secret_reference<'py>(py: Python<'py>, reference: &str) -> Option<Bound<'py, PyBytes>> {
    sesame_core::client::Secrets::validate_secret_reference(reference)
        .err()
        .map(|e| PyBytes::new(py, &Reply::error(&e).json))
}

/// Authenticates a client from the options JSON, blocking with the GIL released. Returns
/// the client, or the error envelope (JSON bytes) to raise.
#[pyfunction]
fn authenticate(py: Python<'_>, options: &[u8]) -> PyResult<Py<PyAny>> {
    let options = Zeroizing::new(options.to_vec());
    let result = wait(
        py,
        async move { sesame_invoke::authenticate(&options).await },
    )?;
    authenticated(py, result.unwrap_or_else(|e| Err(Reply::error(&e))))
}

/// `authenticate` for an event loop (see [`start`]): the client or the error envelope at
/// once, or a `Pending` and later `done(client_or_envelope)`.
#[pyfunction]
fn authenticate_async(py: Python<'_>, options: &[u8], done: Py<PyAny>) -> PyResult<Py<PyAny>> {
    let options = Zeroizing::new(options.to_vec());
    let future = async move { sesame_invoke::authenticate(&options).await };
    start(py, future, done, authenticated, |e| Err(Reply::error(&e)))
}

fn authenticated(py: Python<'_>, result: Result<Client, Reply>) -> PyResult<Py<PyAny>> {
    Ok(match result {
        Ok(client) => Py::new(
            py,
            NativeClient {
                client: Mutex::new(Some(client)),
                pid: std::process::id(),
            },
        )?
        .into_any(),
        Err(reply) => PyBytes::new(py, &reply.json).into_any().unbind(),
    })
}

/// The module.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<NativeClient>()?;
    module.add_class::<Pending>()?;
    module.add_function(wrap_pyfunction!(invoke, module)?)?;
    module.add_function(wrap_pyfunction!(invoke_async, module)?)?;
    module.add_function(wrap_pyfunction!(invoke_offline, module)?)?;
    module.add_function(wrap_pyfunction!(authenticate, module)?)?;
    module.add_function(wrap_pyfunction!(authenticate_async, module)?)?;
    module.add_function(wrap_pyfunction!(before_exit, module)?)?;
    module.add_function(wrap_pyfunction!(validate_secret_reference, module)?)?;
    Ok(())
}
