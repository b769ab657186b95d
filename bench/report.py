#!/usr/bin/env python3
"""Summarise criterion results as ratios against the baseline of the same run.

Benchmarks are grouped by the first component of their id ("reference/validate/…" is in
group "reference"). Every group may contain one benchmark whose name starts with "baseline"
(the unavoidable floor of that operation, e.g. one pass over the input bytes or the
OS random-number call). Each other function is reported as a multiple of it, so the
numbers mean the same thing on a fast or a slow machine. Targets from the issues are
printed beside the measured times for reference; they are never asserted in tests.
An optional second argument names the JSON written by official_1password.py, whose
timings of the official 1Password SDK are then printed beside ours.
"""

import json
import sys
from pathlib import Path

# Issue targets (nanoseconds per call), keyed by "group/function".
TARGETS_NS = {
    "reference/validate/three_segments": 1_000,
    "reference/validate/four_segments_query": 1_000,
    "reference/validate/unicode_ids": 1_000,
    "password/random/32/digits+symbols": 5_000,
}


def load(root: Path):
    """{group: {name: mean ns}}, the group being the first component of the benchmark id."""
    groups = {}
    for bench_json in sorted(root.glob("**/new/benchmark.json")):
        full_id = json.loads(bench_json.read_text())["full_id"]
        estimates = json.loads((bench_json.parent / "estimates.json").read_text())
        group, _, name = full_id.partition("/")
        groups.setdefault(group, {})[name or group] = estimates["mean"]["point_estimate"]
    return groups


def human(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:8.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:8.2f} µs"
    return f"{ns:8.1f} ns"


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    official_path = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    official = json.loads(official_path.read_text()) if official_path else {}
    groups = load(root)
    if not groups:
        print(f"no criterion results under {root}; run `make bench`", file=sys.stderr)
        return 1
    print(f"{'benchmark':<52} {'mean':>11} {'× baseline':>11}  target")
    for group, functions in sorted(groups.items()):
        baseline = next((ns for name, ns in functions.items() if name.startswith("baseline")), None)
        for name, ns in sorted(
            functions.items(), key=lambda kv: (not kv[0].startswith("baseline"), kv[0])
        ):
            key = f"{group}/{name}"
            ratio = (
                "" if baseline is None or name.startswith("baseline") else f"{ns / baseline:10.1f}×"
            )
            target = TARGETS_NS.get(key)
            verdict = (
                ""
                if target is None
                else f"< {human(target).strip()} {'met' if ns < target else 'MISSED'}"
            )
            print(f"{key:<52} {human(ns):>11} {ratio:>11}  {verdict}")
    if official:
        print("\nThe official 1Password Python SDK, timed in the same run (for scale):")
        print(f"{'benchmark':<52} {'official':>11} {'ours':>11}  speed-up")
        for key, theirs in sorted(official.items()):
            group, _, name = key.partition("/")
            ours = groups.get(group, {}).get(name)
            if ours is not None:
                print(f"{key:<52} {human(theirs):>11} {human(ours):>11}  {theirs / ours:7.0f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
