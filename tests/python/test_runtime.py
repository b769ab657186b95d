"""The client under concurrency (tasks, threads, event loops in threads), the GIL,
signals, fork, cancellation and closing, against the real server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from sesame import (
    Client,
    ItemCategory,
    ItemCreateParams,
    ItemField,
    ItemFieldType,
    SyncClient,
    VaultCreateParams,
)
from sesame.errors import InvalidInputError

if TYPE_CHECKING:
    from conftest import Server

NAME, VERSION = "sesame-py-runtime", "1.0.0"
CALLS = 100
WORKERS = 16


@pytest.fixture(scope="module")
async def secrets(client: Client) -> AsyncIterator[dict[str, str]]:
    """CALLS references, each to its own secret: a reply given to the wrong call shows."""
    vault = await client.vaults.create(VaultCreateParams(title=f"py-runtime-{uuid.uuid4().hex}"))
    expected: dict[str, str] = {}
    for batch in range(CALLS // 50):
        params = [
            ItemCreateParams(
                category=ItemCategory.PASSWORD,
                vault_id=vault.id,
                title=f"item-{batch}-{i}",
                fields=[
                    ItemField(
                        id="password",
                        title="password",
                        field_type=ItemFieldType.CONCEALED,
                        value=f"secret-{batch}-{i}-{uuid.uuid4().hex}",
                    )
                ],
            )
            for i in range(50)
        ]
        made = await client.items.create_all(vault.id, params)
        for response in made.individual_responses:
            assert response.content is not None, response.error
            item = response.content
            expected[f"op://{vault.id}/{item.id}/password"] = item.fields[0].value
    assert len(expected) == CALLS
    yield expected
    await client.vaults.delete(vault.id)


# --- Concurrency ---------------------------------------------------------------------


async def test_concurrent_tasks_on_one_async_client(
    client: Client, secrets: dict[str, str]
) -> None:
    refs = list(secrets)
    values = await asyncio.gather(*(client.secrets.resolve(ref) for ref in refs))
    assert values == [secrets[ref] for ref in refs]


def test_threads_share_one_sync_client(sync_client: SyncClient, secrets: dict[str, str]) -> None:
    refs = list(secrets)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        values = list(pool.map(sync_client.secrets.resolve, refs))
    assert values == [secrets[ref] for ref in refs]


def test_threads_with_their_own_event_loops_share_one_async_client(
    client: Client, secrets: dict[str, str]
) -> None:
    refs = list(secrets)
    slices = [refs[i::WORKERS] for i in range(WORKERS)]

    def resolve_slice(chunk: list[str]) -> list[str]:
        async def gathered() -> list[str]:
            return list(await asyncio.gather(*(client.secrets.resolve(ref) for ref in chunk)))

        return asyncio.run(gathered())

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(resolve_slice, slices))
    for chunk, values in zip(slices, results, strict=True):
        assert values == [secrets[ref] for ref in chunk]


# --- A server that answers when the test says so ------------------------------------


class Relay:
    """A TCP relay in front of the server, run by Python threads: requests pass at once;
    replies wait while `open` is clear, then for `before_reply`."""

    def __init__(self, url: str) -> None:
        target = urlsplit(url)
        self._target = (target.hostname or "127.0.0.1", target.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.open = threading.Event()
        self.open.set()
        self.received = threading.Event()
        self.on_request: Callable[[], None] = lambda: None
        self.before_reply: Callable[[], None] = lambda: None
        self._lock = threading.Lock()
        self._replies = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def replies(self) -> int:
        """How many chunks of replies went through."""
        with self._lock:
            return self._replies

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            for source, sink, reply in (
                (downstream, upstream, False),
                (upstream, downstream, True),
            ):
                threading.Thread(target=self._pump, args=(source, sink, reply), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, reply: bool) -> None:
        try:
            while data := source.recv(1 << 16):
                if reply:
                    self.open.wait()
                    self.before_reply()
                    with self._lock:
                        self._replies += 1
                else:
                    self.received.set()
                    self.on_request()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def close(self) -> None:
        self.open.set()
        # shutdown() wakes the thread blocked in accept(); close() alone does not.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()


@pytest.fixture
def relay(server: Server) -> Iterator[Relay]:
    relay = Relay(server.url)
    yield relay
    relay.close()


def through(relay: Relay, server: Server) -> SyncClient:
    # A short timeout: a call the relay never answers fails instead of hanging.
    return SyncClient.authenticate(
        server.owner_token, NAME, VERSION, server_url=relay.url, timeout_seconds=20, retries=0
    )


# --- The GIL and signals -------------------------------------------------------------


def test_blocking_calls_release_the_gil(
    server: Server, relay: Relay, secrets: dict[str, str]
) -> None:
    """The relay passes each reply on only once a pure-Python thread has counted `steps`
    further: a call that kept the GIL while it waited would starve the relay and the
    counter alike, and time out."""
    steps = 10_000
    counter = [0]
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            counter[0] += 1

    counting = threading.Thread(target=count, daemon=True)
    progress: list[int] = []

    def wait_for_progress() -> None:
        start = counter[0]
        while counter[0] < start + steps and counting.is_alive():
            time.sleep(0.001)
        progress.append(counter[0] - start)

    relay.before_reply = wait_for_progress
    counting.start()
    refs = list(secrets)[:5]
    try:
        with through(relay, server) as slow:
            values = [slow.secrets.resolve(ref) for ref in refs]
    finally:
        stop.set()
        counting.join()
    assert values == [secrets[ref] for ref in refs]
    # Every reply (authentication included) waited for the counting thread.
    assert len(progress) > len(refs) and min(progress) >= steps


class Interrupted(Exception):
    """What the test's signal handler raises, as Ctrl-C raises KeyboardInterrupt."""


@contextlib.contextmanager
def signal_when_held(relay: Relay) -> Iterator[list[int]]:
    """Holds replies; the first request to reach the relay then signals the main thread,
    whose handler raises Interrupted. Yields, once the handler ran, how many reply chunks
    had gone through by then."""
    seen: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        seen.append(relay.replies)
        raise Interrupted

    main = threading.main_thread().ident
    assert main is not None
    fired = threading.Event()

    def on_request() -> None:
        if not relay.open.is_set() and not fired.is_set():
            fired.set()
            signal.pthread_kill(main, signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, handler)
    relay.on_request = on_request
    relay.open.clear()
    # A call that ignored the signal ends when its reply is let through after a while:
    # the handler then counts that reply.
    release = threading.Timer(5, relay.open.set)
    release.start()
    try:
        yield seen
    finally:
        release.cancel()
        relay.on_request = lambda: None
        relay.open.set()
        signal.signal(signal.SIGUSR1, previous)


def test_a_signal_handler_interrupts_a_blocked_call(
    server: Server, relay: Relay, secrets: dict[str, str]
) -> None:
    first, second = list(secrets)[:2]
    with through(relay, server) as slow:
        before = relay.replies
        with signal_when_held(relay) as seen, pytest.raises(Interrupted):
            slow.secrets.resolve(first)
        # The handler ran while the reply was held: the call was abandoned, not finished.
        assert seen == [before]
        assert slow.secrets.resolve(second) == secrets[second]
        assert slow.secrets.resolve(first) == secrets[first]


def test_a_signal_handler_interrupts_a_blocked_authentication(server: Server, relay: Relay) -> None:
    with signal_when_held(relay) as seen, pytest.raises(Interrupted):
        through(relay, server).close()
    assert seen == [0]


# --- Cancellation --------------------------------------------------------------------


async def held_call_started(relay: Relay) -> None:
    # Waits in a thread: the event loop stays free meanwhile.
    assert await asyncio.get_running_loop().run_in_executor(None, relay.received.wait, 20)


async def test_a_call_in_flight_leaves_the_event_loop_free(
    server: Server, relay: Relay, secrets: dict[str, str]
) -> None:
    ref = next(iter(secrets))
    async with await Client.authenticate(
        server.owner_token, NAME, VERSION, server_url=relay.url, timeout_seconds=20, retries=0
    ) as slow:
        relay.open.clear()
        relay.received.clear()
        call = asyncio.create_task(slow.secrets.resolve(ref))
        # This coroutine ran while the call waited: starting the call did not block.
        await held_call_started(relay)
        assert not call.done()
        relay.open.set()
        assert await call == secrets[ref]


async def test_cancelling_a_call_leaves_the_client_usable(
    server: Server, relay: Relay, secrets: dict[str, str]
) -> None:
    first, second = list(secrets)[:2]
    async with await Client.authenticate(
        server.owner_token, NAME, VERSION, server_url=relay.url, timeout_seconds=20, retries=0
    ) as slow:
        relay.open.clear()
        relay.received.clear()
        call = asyncio.create_task(slow.secrets.resolve(first))
        await held_call_started(relay)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # The same through a timeout: the reply is held, so it cannot come first.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(slow.secrets.resolve(first), timeout=0.5)
        relay.open.set()
        # Each later call gets its own answer, not one of the abandoned calls'.
        assert await slow.secrets.resolve(second) == secrets[second]
        assert await slow.secrets.resolve(first) == secrets[first]


async def test_cancelling_authentication(server: Server, relay: Relay) -> None:
    relay.open.clear()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(
            Client.authenticate(server.owner_token, NAME, VERSION, server_url=relay.url),
            timeout=0.5,
        )
    relay.open.set()
    async with await Client.authenticate(
        server.owner_token, NAME, VERSION, server_url=relay.url
    ) as later:
        assert isinstance(await later.vaults.list(), list)


# --- fork() --------------------------------------------------------------------------


def outcome(call: Callable[[], str]) -> list[str]:
    try:
        return ["ok", call()]
    except Exception as e:
        return [type(e).__name__, str(e)]


def in_child(server: Server, client: Client, sync_client: SyncClient, ref: str) -> dict[str, Any]:
    """What a forked child sees of its parent's clients and of new ones."""

    def new_sync() -> str:
        with SyncClient.authenticate(
            server.owner_token, NAME, VERSION, server_url=server.url
        ) as fresh:
            return fresh.secrets.resolve(ref)

    async def new_async() -> str:
        async with await Client.authenticate(
            server.owner_token, NAME, VERSION, server_url=server.url
        ) as fresh:
            return await fresh.secrets.resolve(ref)

    return {
        "inherited sync": outcome(lambda: sync_client.secrets.resolve(ref)),
        "inherited async": outcome(lambda: asyncio.run(client.secrets.resolve(ref))),
        "new sync": outcome(new_sync),
        "new async": outcome(lambda: asyncio.run(new_async())),
    }


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_fork(
    server: Server, client: Client, sync_client: SyncClient, secrets: dict[str, str]
) -> None:
    ref, value = next(iter(secrets.items()))
    # Both clients have connections and a running runtime when the process forks.
    assert sync_client.secrets.resolve(ref) == value
    assert asyncio.run(client.secrets.resolve(ref)) == value
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        # The child never returns into pytest, whatever happens.
        try:
            os.close(reading)
            with os.fdopen(writing, "w") as report:
                json.dump(in_child(server, client, sync_client, ref), report)
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as report:
        # A child that deadlocked would never write: do not wait for it forever.
        ready, _, _ = select.select([report], [], [], 120)
        if not ready:
            os.kill(pid, signal.SIGKILL)
        seen = json.loads(report.read()) if ready else {}
    os.waitpid(pid, 0)

    assert seen, "the forked child did not answer in 2 minutes"
    for inherited in ("inherited sync", "inherited async"):
        kind, message = seen[inherited]
        assert kind == "InvalidInputError" and "fork" in message, seen[inherited]
    assert seen["new sync"] == ["ok", value]
    assert seen["new async"] == ["ok", value]
    # The parent's clients are untouched.
    assert sync_client.secrets.resolve(ref) == value
    assert asyncio.run(client.secrets.resolve(ref)) == value


# --- Closing -------------------------------------------------------------------------


async def test_async_with_closes_the_client(server: Server, secrets: dict[str, str]) -> None:
    ref = next(iter(secrets))
    async with await Client.authenticate(
        server.owner_token, NAME, VERSION, server_url=server.url
    ) as scoped:
        assert not scoped.closed and repr(scoped).endswith(" open>")
        assert await scoped.secrets.resolve(ref) == secrets[ref]
    assert scoped.closed and repr(scoped).endswith(" closed>")
    scoped.close()  # idempotent
    with pytest.raises(InvalidInputError) as closed:
        await scoped.secrets.resolve(ref)
    assert "closed" in closed.value.message and closed.value.details == {"argument": "client"}


def test_with_closes_the_sync_client(server: Server, secrets: dict[str, str]) -> None:
    ref = next(iter(secrets))
    with SyncClient.authenticate(
        server.owner_token, NAME, VERSION, server_url=server.url
    ) as scoped:
        assert scoped.secrets.resolve(ref) == secrets[ref]
    assert scoped.closed and repr(scoped).endswith(" closed>")
    scoped.close()
    scoped.close()
    with pytest.raises(InvalidInputError) as closed:
        scoped.secrets.resolve(ref)
    assert "closed" in closed.value.message


async def test_closing_one_client_leaves_the_others(
    server: Server, client: Client, secrets: dict[str, str]
) -> None:
    ref = next(iter(secrets))
    other = await Client.authenticate(server.owner_token, NAME, VERSION, server_url=server.url)
    other.close()
    other.close()
    with pytest.raises(InvalidInputError):
        await other.vaults.list()
    # Clients share the process runtime, never a session.
    assert await client.secrets.resolve(ref) == secrets[ref]
