#!/usr/bin/env python3
"""Differential test of our secret-reference validator against the official 1Password SDK.

The compatibility rule (issue 2): every reference the official validator accepts, we
accept, except degenerate ones (an empty segment, or a segment with surrounding
whitespace); every reference it rejects, we reject, except documented extensions.

Two checks, both run by `make test`:
1. Every case in tests/vectors/references.json records the official verdict in
   `official`; it must match what the installed official SDK says today.
2. Thousands of generated references (seeded, so a failure reproduces) are validated by
   both; every disagreement must be one the rule allows.

Usage: references_vs_1password.py PATH_TO_VALIDATE_REFERENCES_BINARY
The binary (crates/core/examples/validate_references.rs) reads references on stdin and
prints one JSON verdict per line.
"""

import json
import random
import subprocess
import sys
from pathlib import Path

from onepassword import Secrets

ROOT = Path(__file__).resolve().parents[2]
DEGENERATE = {"empty_segment", "surrounding_whitespace"}
SEED = 20261125
GENERATED = 4000


def official_accepts(reference: str) -> bool:
    try:
        Secrets.validate_secret_reference(reference)
        return True
    except Exception:  # the SDK raises a bare Exception for every parse failure
        return False


def ours(binary: str, references: list[str]) -> list[dict]:
    payload = "".join(json.dumps(r) + "\n" for r in references)
    out = subprocess.run([binary], input=payload, capture_output=True, text=True, check=True)
    verdicts = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(verdicts) == len(references), "validator printed a wrong number of verdicts"
    return verdicts


def is_extension(reference: str) -> bool:
    """Our documented extensions: more attributes, `attr`, and non-ASCII letters/digits."""
    path, _, query = reference.partition("?")
    if query:
        key, _, value = query.partition("=")
        if key == "attr" or (key == "attribute" and value not in ("totp", "otp")):
            return True
    return any(ord(c) > 127 for c in path)


def allowed(reference: str, we_accept: bool, they_accept: bool, code: str | None) -> bool:
    if we_accept == they_accept:
        return True
    if they_accept:  # we reject: only degenerate references
        return code in DEGENERATE
    return is_extension(reference)  # we accept what they reject: only extensions


def generate(rng: random.Random) -> str:
    """A reference that is usually nearly valid, so both validators get exercised deeply."""
    safe = "abcXYZ019-_. "
    odd = ["é", "名", "٣", "ß", "/", "?", "=", "&", "%", "@", ":", "\t", "\u00a0", "\u0301"]

    def name() -> str:
        length = rng.choice([0, 1, 2, 3, 5, 8, 8, 13])
        return "".join(
            rng.choice(odd) if rng.random() < 0.06 else rng.choice(safe) for _ in range(length)
        )

    count = rng.choice([3] * 8 + [4] * 8 + [1, 2, 5])
    scheme = rng.choice(["op://"] * 30 + ["OP://", "op:/", "op:", "", "op//", "xop://"])
    query = rng.choice(
        [""] * 10
        + [
            "?attribute=totp",
            "?attribute=otp",
            "?attr=totp",
            "?attribute=type",
            "?attribute=TOTP",
            "?ssh-format=openssh",
            "?ssh-format=OpenSSH",
            "?attribute=",
            "?",
            "?=totp",
            "?foo=bar",
            "?attribute=totp&ssh-format=openssh",
            "?attribute=content",
            "?attribute=size",
        ]
    )
    return scheme + "/".join(name() for _ in range(count)) + query


def main() -> int:
    binary = sys.argv[1]
    cases = json.loads((ROOT / "tests/vectors/references.json").read_text())["cases"]
    failures: list[str] = []

    for case in cases:
        actual = official_accepts(case["input"])
        if case["official"] != actual:
            failures.append(
                f"vector {case['input']!r}: file says official={case['official']}, "
                f"SDK says {actual}"
            )

    rng = random.Random(SEED)
    generated = [generate(rng) for _ in range(GENERATED)]
    inputs = [c["input"] for c in cases] + generated
    for reference, verdict in zip(inputs, ours(binary, inputs), strict=True):
        theirs = official_accepts(reference)
        if not allowed(reference, verdict["valid"], theirs, verdict.get("error")):
            failures.append(
                f"{reference!r}: we say {'valid' if verdict['valid'] else verdict.get('error')}, "
                f"official SDK says {'valid' if theirs else 'invalid'}"
            )

    for failure in failures[:40]:
        print("FAIL", failure)
    checked = len(cases) + len(inputs)
    print(f"references vs 1Password SDK: {checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
