"""Fixtures of the Python SDK's suite: a real `sesame server` (SQLite, fresh data
directory, 127.0.0.1) for the session, and its owner's token.

The suite runs against the installed wheel (`make test` installs it into a fresh venv);
it never imports the sources under python/.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from sesame import Client, SyncClient

ROOT = pathlib.Path(__file__).resolve().parents[2]


def sesame_bin() -> str:
    """The `sesame` binary: $SESAME_BIN, else the debug build of the workspace."""
    path = os.environ.get("SESAME_BIN") or str(ROOT / "target" / "debug" / "sesame")
    if not os.path.exists(path):
        pytest.exit(f"{path} is missing: run `cargo build -p sesame-cli` (make test does)", 2)
    return path


@dataclass(frozen=True)
class Server:
    url: str
    owner_token: str = field(repr=False)
    data_dir: pathlib.Path

    def cli(self, *args: str, token: str | None = None) -> str:
        """Runs the `sesame` command line against this server; its stdout."""
        env = dict(os.environ)
        env["SESAME_URL"] = self.url
        env["SESAME_SERVICE_ACCOUNT_TOKEN"] = token or self.owner_token
        env["XDG_CONFIG_HOME"] = str(self.data_dir / "config")
        done = subprocess.run(
            [sesame_bin(), *args], env=env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise AssertionError(f"sesame {' '.join(args[:2])} failed: {done.stderr}")
        return done.stdout


def start_server(data_dir: pathlib.Path) -> tuple[subprocess.Popen[str], Server]:
    env = dict(os.environ)
    # `server init` never overwrites a saved credential: give it its own config home.
    env["XDG_CONFIG_HOME"] = str(data_dir / "config")
    subprocess.run(
        [
            sesame_bin(),
            "server",
            "init",
            "--data-dir",
            str(data_dir),
            "--url",
            "http://127.0.0.1:1",
        ],
        env=env,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    token = (data_dir / "owner.credential").read_text().strip()
    process = subprocess.Popen(
        [sesame_bin(), "server", "start", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return process, Server(line.removeprefix("listening on "), token, data_dir)


@contextlib.contextmanager
def running_server(prefix: str = "sesame-py-") -> Iterator[Server]:
    """A server of its own in a fresh data directory, stopped and removed afterwards."""
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    process, running = start_server(data_dir)
    try:
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with running_server() as running:
        yield running


def integration(request: pytest.FixtureRequest) -> tuple[str, str]:
    """The integration name and version a test module's clients use (`test_api.py`:
    `sesame-py-api`), so the audit trail tells the modules apart."""
    return f"sesame-py-{request.module.__name__.removeprefix('test_')}", "1.0.0"


@pytest.fixture(scope="module")
async def client(server: Server, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    """The account owner's async client, for a test module."""
    name, version = integration(request)
    async with await Client.authenticate(
        server.owner_token, name, version, server_url=server.url
    ) as owner:
        yield owner


@pytest.fixture(scope="module")
def sync_client(server: Server, request: pytest.FixtureRequest) -> Iterator[SyncClient]:
    """The account owner's synchronous client, for a test module."""
    name, version = integration(request)
    with SyncClient.authenticate(server.owner_token, name, version, server_url=server.url) as owner:
        yield owner
