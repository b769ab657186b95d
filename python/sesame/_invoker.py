"""The bridge between the generated wrappers (`_calls.py`) and the native module: it
encodes each call as the call table's JSON request, passes file content and download
destinations through as bytes, paths or file objects, and raises the error a reply
carries as the matching `sesame.errors` exception.

Async calls never block the event loop: the native module runs them on its runtime and
hands the reply back with `loop.call_soon_threadsafe`. Blocking calls release the GIL.
"""

from __future__ import annotations

import atexit
import io
import json
import os
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from . import _native
from .errors import InvalidInputError, SesameError, error_from_envelope
from .types import Content, Destination

if TYPE_CHECKING:
    # Imported when the first async call runs: scripts using only the synchronous client
    # or the offline functions never pay for asyncio at import.
    import asyncio

Reply = tuple[Any, Optional[bytes]]

# Runtime threads must not enter Python once the interpreter finalizes (see
# `before_exit` in bindings/python/src/lib.rs).
atexit.register(_native.before_exit)


# One encoder for every request (json.dumps builds one per call when given options).
_encode = json.JSONEncoder(separators=(",", ":")).encode


def request(name: str, parameters: dict[str, Any]) -> bytes:
    """The call table's request for one call."""
    return _encode({"name": name, "parameters": parameters}).encode()


def result(reply: bytes, content: Optional[bytes]) -> Reply:
    """The call's result and content, or its error raised."""
    # Decoding first is faster than json.loads(bytes), which sniffs the encoding.
    envelope = json.loads(reply.decode())
    if "error" in envelope:
        raise error_from_envelope(envelope["error"])
    return envelope.get("ok"), content


class _Stream:
    """A caller's file object, passed to the native module, remembering the exception
    it raised so that the call's error can name it as its `__cause__`."""

    def __init__(self, file: Any) -> None:
        self._file = file
        self.failure: Optional[BaseException] = None

    def read(self, size: int) -> bytes:
        try:
            return bytes(self._file.read(size))
        except BaseException as e:
            self.failure = e
            raise

    def write(self, data: bytes) -> Optional[int]:
        try:
            written = self._file.write(data)
        except BaseException as e:
            self.failure = e
            raise
        if written is None and isinstance(self._file, io.RawIOBase):
            # A raw file in non-blocking mode wrote nothing ("would block"); other objects
            # that return None (buffered or duck-typed sinks) took everything.
            refused = BlockingIOError(
                "the destination is a non-blocking raw file that refused a write: give a "
                "blocking file"
            )
            self.failure = refused
            raise refused
        return written if isinstance(written, int) else None

    def flush(self) -> None:
        flush = getattr(self._file, "flush", None)
        if flush is not None:
            try:
                flush()
            except BaseException as e:
                self.failure = e
                raise


NativeData = Union[None, bytes, str, tuple[_Stream, int]]


def _content(data: Optional[Content]) -> tuple[NativeData, Optional[_Stream]]:
    if data is None or isinstance(data, bytes):
        return data, None
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data), None
    if isinstance(data, os.PathLike):
        return os.fsdecode(data), None
    if isinstance(data, str):
        # A str could be content or a path; never guess (and never echo it: it may be
        # a secret).
        raise InvalidInputError(
            "content is a str: give bytes (text.encode()), or pathlib.Path(...) to upload "
            "a file from disk",
            details={"argument": "content"},
        )
    if not hasattr(data, "read"):
        raise InvalidInputError(
            f"content is a {type(data).__name__}: give bytes, a pathlib.Path or a binary "
            "file object opened for reading",
            details={"argument": "content"},
        )
    try:
        start = data.tell()
        end = data.seek(0, os.SEEK_END)
        data.seek(start)
    except (AttributeError, OSError, ValueError) as e:
        raise InvalidInputError(
            "content is a file object that cannot seek, so its size is unknown: read it "
            "into bytes, or give a seekable file",
            details={"argument": "content"},
        ) from e
    stream = _Stream(data)
    return (stream, end - start), stream


def _destination(sink: Optional[Destination]) -> tuple[Any, Optional[_Stream]]:
    if sink is None:
        return None, None
    if isinstance(sink, (str, os.PathLike)):
        return os.fsdecode(sink), None
    if not hasattr(sink, "write"):
        raise InvalidInputError(
            f"destination is a {type(sink).__name__}: give a path or a binary file object "
            "opened for writing",
            details={"argument": "destination"},
        )
    stream = _Stream(sink)
    return stream, stream


def _streamed_result(reply: bytes, content: Optional[bytes], *streams: Optional[_Stream]) -> Reply:
    """`result`, with the exception a caller's file object raised as the error's cause."""
    try:
        return result(reply, content)
    except SesameError as error:
        for stream in streams:
            if stream is not None and stream.failure is not None:
                raise error from stream.failure
        raise


def _settle(future: asyncio.Future[Any], outcome: Any) -> None:
    if not future.done():
        future.set_result(outcome)


async def run_native(start: Callable[[Callable[[Any], None]], Any]) -> Any:
    """Starts a native call from the event loop with `start(done)` and waits for its
    outcome without blocking the loop: the native side returns the outcome at once when
    it needed no waiting (a fresh cache, a local error), else a `Pending`, and later
    calls `done(outcome)` from a runtime thread. Cancelling the wait abandons the call."""
    import asyncio

    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def done(outcome: Any) -> None:
        loop.call_soon_threadsafe(_settle, future, outcome)

    started = start(done)
    if not isinstance(started, _native.Pending):
        return started
    try:
        return await future
    except asyncio.CancelledError:
        started.cancel()
        raise


class AsyncInvoker:
    """Runs calls from an event loop: on a client, or process-level when `client` is
    None (opening a share link)."""

    __slots__ = ("_client",)

    def __init__(self, client: Optional[_native.NativeClient]) -> None:
        self._client = client

    async def invoke(
        self,
        name: str,
        parameters: dict[str, Any],
        data: Optional[Content] = None,
        sink: Optional[Destination] = None,
    ) -> Reply:
        native_data, reading = _content(data)
        native_sink, writing = _destination(sink)
        start = self._client.invoke_async if self._client is not None else _native.invoke_async
        encoded = request(name, parameters)
        reply, content = await run_native(
            lambda done: start(encoded, native_data, native_sink, done)
        )
        return _streamed_result(reply, content, reading, writing)


class SyncInvoker:
    """Runs calls from a thread, which blocks (the GIL is released meanwhile): on a
    client, or process-level when `client` is None."""

    __slots__ = ("_client",)

    def __init__(self, client: Optional[_native.NativeClient]) -> None:
        self._client = client

    def invoke(
        self,
        name: str,
        parameters: dict[str, Any],
        data: Optional[Content] = None,
        sink: Optional[Destination] = None,
    ) -> Reply:
        native_data, reading = _content(data)
        native_sink, writing = _destination(sink)
        run = self._client.invoke if self._client is not None else _native.invoke
        reply, content = run(request(name, parameters), native_data, native_sink)
        return _streamed_result(reply, content, reading, writing)


class OfflineInvoker:
    """Runs offline calls (validate, generate) at once on the calling thread."""

    __slots__ = ()

    def invoke(
        self,
        name: str,
        parameters: dict[str, Any],
        data: Optional[Content] = None,
        sink: Optional[Destination] = None,
    ) -> Reply:
        if name == "ValidateSecretReference":
            # The hottest offline call: straight to the native validator, no JSON on
            # success (it returns the error envelope only when the reference is bad).
            failure = _native.validate_secret_reference(parameters["secret_reference"])
            if failure is not None:
                result(failure, None)
            return None, None
        return result(_native.invoke_offline(request(name, parameters)), None)


_OFFLINE = OfflineInvoker()
_PROCESS = SyncInvoker(None)
_ANONYMOUS = AsyncInvoker(None)


def offline_invoker() -> OfflineInvoker:
    return _OFFLINE


def process_invoker() -> SyncInvoker:
    return _PROCESS


def anonymous_invoker() -> AsyncInvoker:
    return _ANONYMOUS
