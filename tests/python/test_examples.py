"""The typed examples under python/examples run against the real server as documented
(mypy --strict checks them in `make python-test`; `make demo` runs the quickstart)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import sesame
from conftest import ROOT, Server

EXAMPLES = ROOT / "python" / "examples"


def run_example(server: Server, name: str, *args: str) -> str:
    env = dict(os.environ)
    env["SESAME_SERVICE_ACCOUNT_TOKEN"] = server.owner_token
    env["SESAME_URL"] = server.url
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert server.owner_token not in done.stdout + done.stderr
    return done.stdout


def test_sync_items(server: Server) -> None:
    async def make_vault() -> str:
        client = await sesame.Client.authenticate(
            server.owner_token, "py-examples", "1.0", server_url=server.url
        )
        vault = await client.vaults.create(sesame.VaultCreateParams(title="examples-sync"))
        return vault.id

    out = run_example(server, "sync_items.py", asyncio.run(make_vault()))
    assert "resolved a 24 character password" in out
    assert "downloaded 23 bytes" in out  # b"quarter,revenue\nq1,100\n"
    assert "gone: not_found" in out


def test_resolve_many(server: Server) -> None:
    out = run_example(server, "resolve_many.py", "op://no-such-vault/item/field")
    assert "op://no-such-vault/item/field: not_found" in out
    assert "requests left in this window" in out
