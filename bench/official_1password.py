#!/usr/bin/env python3
"""Time the official 1Password Python SDK's offline calls, for scale beside ours.

Writes {"reference/validate/three_segments": ns, ...} (mean nanoseconds per call, keyed
like our criterion benchmarks) to the path given as the only argument. `make bench` runs
it in the same session as criterion so report.py can print both side by side.
"""

import json
import sys
import timeit

from onepassword import Secrets
from onepassword.types import (
    PasswordRecipeMemorable,
    PasswordRecipeMemorableInner,
    PasswordRecipePin,
    PasswordRecipePinInner,
    PasswordRecipeRandom,
    PasswordRecipeRandomInner,
    SeparatorType,
    WordListType,
)

CALLS = {
    "reference/validate/three_segments": lambda: Secrets.validate_secret_reference(
        "op://Infra/Postgres/password"
    ),
    "reference/validate/four_segments_query": lambda: Secrets.validate_secret_reference(
        "op://development/GitHub/Security/one-time password?attribute=totp"
    ),
    "password/pin/6": lambda: Secrets.generate_password(
        PasswordRecipePin(parameters=PasswordRecipePinInner(length=6))
    ),
    "password/random/32/digits+symbols": lambda: Secrets.generate_password(
        PasswordRecipeRandom(
            parameters=PasswordRecipeRandomInner(
                length=32, include_digits=True, include_symbols=True
            )
        )
    ),
    "password/memorable/fullWords/5/hyphens": lambda: Secrets.generate_password(
        PasswordRecipeMemorable(
            parameters=PasswordRecipeMemorableInner(
                word_count=5,
                separator_type=SeparatorType.HYPHENS,
                capitalize=True,
                word_list_type=WordListType.FULLWORDS,
            )
        )
    ),
}


def mean_ns(call, number: int = 2000, repeat: int = 5) -> float:
    call()  # warm up
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e9


def main() -> int:
    results = {name: mean_ns(call) for name, call in CALLS.items()}
    with open(sys.argv[1], "w") as out:
        json.dump(results, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
