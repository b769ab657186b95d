#!/usr/bin/env python3
"""The Python SDK (`sesame`) against the official 1Password one (`onepassword`), in one venv.

`make bench` builds the sesame wheel in release and runs

    python bench/python_sdk.py --wheel-dir target/wheels-release --venv target/bench-py-venv \\
        --server target/release/sesame --out target/bench-python.json

with any Python ≥ 3.11 (the suite's target/pyenv). This driver (re)creates the venv with
the wheel and bench/requirements-python.txt when either changed, re-runs itself inside it
with --measure (which prints raw numbers as JSON), then prints a table of both SDKs'
numbers, their ratio, the issue's target and PASS/MISS, and writes it all to --out.

Like the other benches it reports and never asserts: it exits 0 when a target is missed
(the table says MISS and a last line lists them), non-zero only when it could not measure.
Speed targets are ratios against the official SDK timed in the same process, so they
mean the same on a fast or a slow machine; import time has an absolute target (30 ms).

Measured for both: per-call latency of the offline calls (timeit, median of repeats),
import time and peak RSS (fresh interpreters, minus an empty one), installed size.
For sesame alone: warm `secrets.resolve` and `resolve_all` against a local server
started here, since the official SDK needs a 1Password account to resolve anything.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

REFERENCE = "op://vault/item/field"
# Distribution names, as pip and importlib.metadata know them.
SESAME_DIST = "sesame-sdk"
OFFICIAL_DIST = "onepassword-sdk"

# Fresh-interpreter runs per scenario (the median is kept), after one discarded round that
# warms the page cache. 15, not fewer: on a shared 2-core machine single runs of the same
# import spread over ±50%.
IMPORT_RUNS = 15
# Warm resolve: every reference once, then this many timed calls.
RESOLVE_CALLS = 200
ITEMS = 100
RESOLVE_ALL_REPEATS = 20
VAULT = "bench-py"

# Each fresh interpreter runs a scenario between two clock readings, then prints the time
# it took (ns) and its own peak RSS (KiB). Builtins and `time` only (CPython imports it
# while starting, so it costs nothing here): importing anything else would take its cost
# off the measured import, since the empty interpreter would pay it too.
# The peak is VmHWM, not resource.getrusage(RUSAGE_SELF).ru_maxrss: Linux carries the
# spawning process's high-water mark through fork/exec into the child's (signal->maxrss),
# so every child of this process (both SDKs loaded, ~50 MB) would report at least this
# process's peak, and the empty interpreter's baseline would mean nothing. VmHWM is the
# peak of the child's own address space.
SCENARIO_FRAME = """import time
_start = time.perf_counter_ns()
{code}
_took = time.perf_counter_ns() - _start
print(_took, [s for s in open('/proc/self/status') if s.startswith('VmHWM')][0].split()[1])
"""

SCENARIOS = {
    "empty": "",
    "sesame/import": "import sesame",
    "onepassword/import": "import onepassword",
    # The official SDK loads its 20 MB native library on the first call, not at import:
    # import + one offline call shows what a program pays before it does anything.
    "sesame/first_call": f"import sesame\nsesame.Secrets.validate_secret_reference({REFERENCE!r})",
    "onepassword/first_call": (
        f"import onepassword\nonepassword.Secrets.validate_secret_reference({REFERENCE!r})"
    ),
}


# ---------------------------------------------------------------------------------------
# Measuring (inside the bench venv, with both SDKs installed)
# ---------------------------------------------------------------------------------------


def per_call_ns(call: Callable[[], object], repeat: int = 7) -> float:
    """Median over `repeat` timeit loops of one call, in ns. autorange sizes each loop to
    ≥ 0.2 s and doubles as the warm-up (the first call loads native code)."""
    call()
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return statistics.median(timer.repeat(repeat=repeat, number=number)) / number * 1e9


def offline_latency() -> dict[str, dict[str, float]]:
    """Per-call ns of validate_secret_reference and generate_password, both SDKs."""
    import onepassword
    import sesame

    # Each recipe is built once, outside the loop: the call is what is compared, not the
    # construction of its argument (a pydantic model for the official SDK).
    official_recipe = onepassword.PasswordRecipeRandom(
        parameters=onepassword.PasswordRecipeRandomInner(
            length=32, include_digits=True, include_symbols=True
        )
    )
    sesame_recipe = sesame.PasswordRecipeRandom(
        parameters=sesame.PasswordRecipeRandomInner(
            length=32, include_digits=True, include_symbols=True
        )
    )
    # Both must answer the same thing for the comparison to mean anything.
    for password in (
        onepassword.Secrets.generate_password(official_recipe).password,
        sesame.Secrets.generate_password(sesame_recipe).password,
    ):
        if len(password) != 32:
            raise RuntimeError(f"a 32-character recipe gave {len(password)} characters")
    return {
        "validate_secret_reference": {
            "sesame": per_call_ns(lambda: sesame.Secrets.validate_secret_reference(REFERENCE)),
            "onepassword": per_call_ns(
                lambda: onepassword.Secrets.validate_secret_reference(REFERENCE)
            ),
        },
        "generate_password": {
            "sesame": per_call_ns(lambda: sesame.Secrets.generate_password(sesame_recipe)),
            "onepassword": per_call_ns(
                lambda: onepassword.Secrets.generate_password(official_recipe)
            ),
        },
    }


def fresh_interpreters() -> dict[str, dict[str, float]]:
    """Each scenario in fresh interpreters, medians of IMPORT_RUNS: wall ns of the whole
    process (start, scenario, exit), ns of the scenario measured inside, peak RSS (KiB).
    Scenarios take turns, so a burst of load from the other users of the machine spreads
    over all of them instead of skewing one."""
    samples: dict[str, list[tuple[int, int, int]]] = {name: [] for name in SCENARIOS}
    for round_ in range(IMPORT_RUNS + 1):
        for name, code in SCENARIOS.items():
            # -I: no PYTHON* variables, user site or script directory on the path.
            command = [sys.executable, "-I", "-c", SCENARIO_FRAME.format(code=code)]
            start = time.perf_counter_ns()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            wall = time.perf_counter_ns() - start
            if done.returncode != 0:
                raise RuntimeError(f"{name}: {done.stderr.strip()}")
            inside, peak = (int(word) for word in done.stdout.split()[-2:])
            if round_ > 0:
                samples[name].append((wall, inside, peak))
    return {
        name: {
            key: statistics.median(sample[i] for sample in runs)
            for i, key in enumerate(("wall_ns", "inside_ns", "peak_rss_kib"))
        }
        for name, runs in samples.items()
    }


def requirement_names(dist: importlib.metadata.Distribution) -> list[str]:
    """The distributions `dist` needs at run time (extras left out)."""
    names = []
    for requirement in dist.requires or []:
        spec, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue
        match = re.match(r"[A-Za-z0-9._-]+", spec.strip())
        if match:
            names.append(match.group(0))
    return names


def distribution_bytes(dist: importlib.metadata.Distribution) -> int:
    """Bytes on disk of what `dist` installed into site-packages: its package directories
    and dist-info, walked whole (bytecode included: pip compiles both SDKs alike), plus
    its top-level modules and their bytecode in the shared __pycache__."""
    root = Path(str(dist.locate_file("")))
    total = 0
    walked: set[str] = set()
    for file in dist.files or []:
        top = file.parts[0]
        if top == "..":  # console scripts in bin/: not part of the package
            continue
        if top != "__pycache__" and (root / top).is_dir():
            if top not in walked:
                walked.add(top)
                total += sum(p.stat().st_size for p in (root / top).rglob("*") if p.is_file())
        elif (root / file).is_file():
            total += (root / file).stat().st_size
    return total


def installed_sizes(name: str) -> dict[str, Any]:
    """The bytes of distribution `name` alone, and with everything it needs at run time."""
    own = importlib.metadata.distribution(name)
    closure: dict[str, int] = {}
    pending = [name]
    while pending:
        current = pending.pop()
        key = re.sub(r"[-_.]+", "-", current).lower()
        if key in closure:
            continue
        try:
            dist = importlib.metadata.distribution(current)
        except importlib.metadata.PackageNotFoundError:
            continue  # a requirement whose environment marker excludes this Python
        closure[key] = distribution_bytes(dist)
        pending.extend(requirement_names(dist))
    return {
        "bytes": distribution_bytes(own),
        "with_dependencies": sum(closure.values()),
        "distributions": closure,
    }


def drain(stream: IO[str]) -> None:
    """Reads a pipe to its end, so a chatty server never blocks on a full pipe."""
    for _ in stream:
        pass


@contextmanager
def local_server(binary: str) -> Iterator[tuple[str, str]]:
    """A fresh `sesame server` (SQLite, temporary data directory, 127.0.0.1, any port):
    its URL and the owner's token. As tests/python/conftest.py starts it."""
    data_dir = Path(tempfile.mkdtemp(prefix="sesame-bench-py-"))
    # `server init` never overwrites a saved credential: give it its own config home.
    env = {**os.environ, "XDG_CONFIG_HOME": str(data_dir / "config")}
    try:
        subprocess.run(
            [binary, "server", "init", "--data-dir", str(data_dir), "--url", "http://127.0.0.1:1"],
            env=env,
            check=True,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        token = (data_dir / "owner.credential").read_text().strip()
        with open(data_dir / "server.log", "wb") as log:
            server = subprocess.Popen(
                [binary, "server", "start", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        try:
            assert server.stdout is not None
            line = server.stdout.readline().strip()
            if not line.startswith("listening on "):
                log_text = (data_dir / "server.log").read_text(errors="replace")
                raise RuntimeError(f"the server did not start: {line!r}\n{log_text}")
            threading.Thread(target=drain, args=(server.stdout,), daemon=True).start()
            yield line.removeprefix("listening on "), token
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def spread(samples: list[int]) -> dict[str, float]:
    """Median and the 10th and 90th percentiles, in ns."""
    deciles = statistics.quantiles(samples, n=10)
    return {"median_ns": statistics.median(samples), "p10_ns": deciles[0], "p90_ns": deciles[-1]}


async def resolve_spread(client: Any, secrets: dict[str, str]) -> dict[str, float]:
    """Warm `secrets.resolve`: every reference once untimed, then RESOLVE_CALLS timed calls
    taking turns over them. Each answer is checked (the wrong secret fast is no result)."""
    references = list(secrets)
    for reference in references:
        await client.secrets.resolve(reference)
    samples = []
    for i in range(RESOLVE_CALLS):
        reference = references[i % len(references)]
        start = time.perf_counter_ns()
        value = await client.secrets.resolve(reference)
        samples.append(time.perf_counter_ns() - start)
        if value != secrets[reference]:
            raise RuntimeError(f"{reference} resolved to the wrong secret")
    return spread(samples)


async def resolve_all_spread(client: Any, secrets: dict[str, str]) -> dict[str, float]:
    """`resolve_all` of every reference at once: one untimed call, RESOLVE_ALL_REPEATS timed."""
    references = list(secrets)
    await client.secrets.resolve_all(references)
    samples = []
    for _ in range(RESOLVE_ALL_REPEATS):
        start = time.perf_counter_ns()
        response = await client.secrets.resolve_all(references)
        samples.append(time.perf_counter_ns() - start)
        for reference, secret in secrets.items():
            content = response.individual_responses[reference].content
            if content is None or content.secret != secret:
                raise RuntimeError(f"resolve_all: {reference} did not resolve to its secret")
    return spread(samples)


async def online_latency(binary: str) -> dict[str, dict[str, float]]:
    """sesame's resolve and resolve_all against a local server, provisioned through the
    SDK itself: one vault, ITEMS logins with one concealed field each."""
    import sesame

    with local_server(binary) as (url, token):
        client = await sesame.Client.authenticate(token, "bench", "1.0", server_url=url)
        # A second client that may serve reads from its cache for 60 s, to show what the
        # default (a sync round trip on every read) costs.
        cached = await sesame.Client.authenticate(
            token, "bench", "1.0", server_url=url, cache_ttl_seconds=60
        )
        try:
            vault = await client.vaults.create(sesame.VaultCreateParams(title=VAULT))
            secrets = {}
            for i in range(ITEMS):
                title, value = f"item-{i:03d}", f"secret-{i:03d}-{os.urandom(8).hex()}"
                await client.items.create(
                    sesame.ItemCreateParams(
                        category=sesame.ItemCategory.LOGIN,
                        vault_id=vault.id,
                        title=title,
                        fields=[
                            sesame.ItemField(
                                id="password",
                                title="password",
                                field_type=sesame.ItemFieldType.CONCEALED,
                                value=value,
                            )
                        ],
                    )
                )
                secrets[f"op://{VAULT}/{title}/password"] = value
            return {
                "resolve": await resolve_spread(client, secrets),
                "resolve_cached": await resolve_spread(cached, secrets),
                "resolve_all": await resolve_all_spread(client, secrets),
            }
        finally:
            client.close()
            cached.close()


def measure(server_binary: str) -> dict[str, Any]:
    """Every raw number, for the driver to judge and print."""
    versions = {}
    for name in (SESAME_DIST, OFFICIAL_DIST, "pydantic", "pydantic-core"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    # Fresh interpreters first, while this process is still small and quiet.
    interpreters = fresh_interpreters()
    return {
        "python": sys.version.split()[0],
        "versions": versions,
        "interpreters": interpreters,
        "offline": offline_latency(),
        "installed": {
            "sesame": installed_sizes(SESAME_DIST),
            "onepassword": installed_sizes(OFFICIAL_DIST),
        },
        "online": asyncio.run(online_latency(server_binary)),
    }


# ---------------------------------------------------------------------------------------
# Driving (any Python ≥ 3.11): the venv, the table, the JSON
# ---------------------------------------------------------------------------------------


def log(message: str) -> None:
    sys.stdout.flush()  # keep the order of the table and these lines on a terminal
    print(f"python_sdk: {message}", file=sys.stderr, flush=True)


def find_wheel(wheel_dir: Path) -> Path:
    wheels = sorted(wheel_dir.glob("sesame_sdk-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one sesame_sdk-*.whl in {wheel_dir}, found {len(wheels)}")
    return wheels[0]


def wheel_fingerprint(wheel: Path, requirements: Path) -> str:
    """What the venv was built from. The wheel's RECORD (a hash of every file in it)
    rather than the wheel's bytes: maturin rewrites the wheel on every build, with new
    timestamps, even when nothing in it changed."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as archive:
        record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        digest.update(archive.read(record))
    digest.update(requirements.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv(venv: Path, wheel: Path, requirements: Path) -> Path:
    """The venv's Python, the venv recreated first unless it holds this very wheel and
    these requirements (a fresh venv, so nothing of an earlier wheel lingers)."""
    stamp = venv / ".bench-fingerprint"
    fingerprint = wheel_fingerprint(wheel, requirements)
    python = venv / "bin" / "python"
    if stamp.is_file() and stamp.read_text() == fingerprint and python.exists():
        log(f"reusing {venv} (same wheel and requirements)")
        return python
    log(f"creating {venv} with {wheel.name} and {requirements}")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
            str(wheel),
        ],
        check=True,
    )
    stamp.write_text(fingerprint)
    return python


@dataclass
class Row:
    metric: str
    unit: str  # "ns", "KiB" or "bytes"
    sesame: float
    official: float | None
    target: str
    verdict: str  # "PASS", "MISS" or "info"


def ratio(row: Row) -> float | None:
    """official ÷ sesame: how many times faster, smaller or lighter sesame is."""
    if row.official is None or row.sesame <= 0:
        return None
    return row.official / row.sesame


def judged(
    metric: str, unit: str, sesame: float, official: float | None, target: str, met: bool
) -> Row:
    return Row(metric, unit, sesame, official, target, "PASS" if met else "MISS")


def rows_of(raw: dict[str, Any]) -> list[Row]:
    """The table: the issue's targets first, then numbers shown for context."""
    offline, interp, installed = raw["offline"], raw["interpreters"], raw["installed"]

    def wall(name: str) -> float:
        return interp[name]["wall_ns"] - interp["empty"]["wall_ns"]

    def inside(name: str) -> float:
        return interp[name]["inside_ns"] - interp["empty"]["inside_ns"]

    def rss(name: str) -> float:
        return interp[name]["peak_rss_kib"] - interp["empty"]["peak_rss_kib"]

    rows = []
    for call, label in (
        ("validate_secret_reference", f"validate_secret_reference({REFERENCE!r})"),
        ("generate_password", "generate_password(Random 32, digits+symbols)"),
    ):
        ours, theirs = offline[call]["sesame"], offline[call]["onepassword"]
        rows.append(judged(label, "ns", ours, theirs, "≥ 10× faster", theirs >= 10 * ours))
    import_ns = wall("sesame/import")
    rows.append(
        judged(
            "import time (over an empty interpreter)",
            "ns",
            import_ns,
            wall("onepassword/import"),
            "< 30 ms",
            import_ns < 30e6,
        )
    )
    rows.append(
        judged(
            "peak RSS after import (over an empty interpreter)",
            "KiB",
            rss("sesame/import"),
            rss("onepassword/import"),
            "< ½ official",
            rss("sesame/import") < rss("onepassword/import") / 2,
        )
    )
    ours_size, theirs_size = installed["sesame"]["bytes"], installed["onepassword"]["bytes"]
    rows.append(
        judged(
            "installed size (package + dist-info)",
            "bytes",
            ours_size,
            theirs_size,
            "< ½ official",
            ours_size < theirs_size / 2,
        )
    )
    info = [
        (
            "peak RSS after import (absolute)",
            "KiB",
            interp["sesame/import"]["peak_rss_kib"],
            interp["onepassword/import"]["peak_rss_kib"],
        ),
        # The import alone, timed inside the interpreter: without the start and exit
        # (module teardown) that the wall time above includes, and less noisy.
        (
            "import time (timed inside the interpreter)",
            "ns",
            inside("sesame/import"),
            inside("onepassword/import"),
        ),
        ("empty interpreter: peak RSS", "KiB", interp["empty"]["peak_rss_kib"], None),
        ("empty interpreter: wall time", "ns", interp["empty"]["wall_ns"], None),
        (
            "import + first offline call (over empty)",
            "ns",
            wall("sesame/first_call"),
            wall("onepassword/first_call"),
        ),
        (
            "peak RSS after first offline call (over empty)",
            "KiB",
            rss("sesame/first_call"),
            rss("onepassword/first_call"),
        ),
        (
            "installed size with runtime dependencies",
            "bytes",
            installed["sesame"]["with_dependencies"],
            installed["onepassword"]["with_dependencies"],
        ),
    ]
    rows += [Row(metric, unit, ours, theirs, "", "info") for metric, unit, ours, theirs in info]
    return rows


def shown(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ns":
        for scale, suffix in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
            if abs(value) >= scale:
                return f"{value / scale:.2f} {suffix}"
        return f"{value:.0f} ns"
    size = value * 1024 if unit == "KiB" else value
    for scale, suffix in ((2**20, "MiB"), (2**10, "KiB")):
        if abs(size) >= scale:
            return f"{size / scale:.2f} {suffix}"
    return f"{size:.0f} B"


def print_table(rows: list[Row], raw: dict[str, Any]) -> list[Row]:
    """Prints both tables; the rows that missed their target."""
    versions = raw["versions"]
    print(
        f"\nPython SDK: sesame {versions[SESAME_DIST]} (release wheel) against onepassword-sdk "
        f"{versions[OFFICIAL_DIST]} (pydantic {versions['pydantic']}), CPython {raw['python']}"
    )
    print(f"{'metric':<50} {'sesame':>11} {'official':>11} {'off÷ses':>8}  {'target':<14} verdict")
    for row in rows:
        r = ratio(row)
        print(
            f"{row.metric:<50} {shown(row.sesame, row.unit):>11} "
            f"{shown(row.official, row.unit):>11} {'' if r is None else f'{r:.1f}×':>8}  "
            f"{row.target:<14} {row.verdict}"
        )
    online = raw["online"]
    single = online["resolve"]["median_ns"]
    print(
        f"\nsesame alone, against a local server ({ITEMS} items; no official: it needs an account):"
    )
    print(f"{'call':<50} {'median':>11} {'p10':>11} {'p90':>11}  note")
    for key, label, note in (
        (
            "resolve",
            f"secrets.resolve, warm ({RESOLVE_CALLS} calls)",
            "default: syncs on every read",
        ),
        (
            "resolve_cached",
            "secrets.resolve, cache_ttl_seconds=60",
            "served from the client's cache",
        ),
        (
            "resolve_all",
            f"secrets.resolve_all({ITEMS} references)",
            f"= {online['resolve_all']['median_ns'] / single:.1f} single resolves",
        ),
    ):
        s = online[key]
        print(
            f"{label:<50} {shown(s['median_ns'], 'ns'):>11} {shown(s['p10_ns'], 'ns'):>11} "
            f"{shown(s['p90_ns'], 'ns'):>11}  {note}"
        )
    missed = [row for row in rows if row.verdict == "MISS"]
    if missed:
        names = "; ".join(f"{row.metric} (target {row.target})" for row in missed)
        judged_count = sum(row.verdict != "info" for row in rows)
        print(f"\nMISS: {len(missed)} of {judged_count} targets missed: {names}")
    else:
        print(f"\nPASS: all {len(rows) - sum(r.verdict == 'info' for r in rows)} targets met")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="the release `sesame` binary")
    parser.add_argument("--measure", action="store_true", help="(internal) measure in this venv")
    parser.add_argument("--wheel-dir", type=Path, default=Path("target/wheels-release"))
    parser.add_argument("--venv", type=Path, default=Path("target/bench-py-venv"))
    parser.add_argument(
        "--requirements", type=Path, default=Path(__file__).with_name("requirements-python.txt")
    )
    parser.add_argument("--out", type=Path, default=Path("target/bench-python.json"))
    args = parser.parse_args()
    server = str(Path(args.server).resolve())
    if args.measure:
        json.dump(measure(server), sys.stdout)
        return 0

    python = ensure_venv(args.venv, find_wheel(args.wheel_dir), args.requirements)
    log("measuring (about half a minute)")
    done = subprocess.run(
        [str(python), str(Path(__file__).resolve()), "--measure", "--server", server],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    raw = json.loads(done.stdout)
    rows = rows_of(raw)
    missed = print_table(rows, raw)
    report = {
        "raw": raw,
        "rows": [{**asdict(row), "ratio": ratio(row)} for row in rows],
        "missed": [row.metric for row in missed],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
