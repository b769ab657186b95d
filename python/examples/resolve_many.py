"""The async client: resolve many references at once, each with its own result, and
read the rate-limit budget the server last reported."""

from __future__ import annotations

import asyncio
import os
import sys

from sesame import Client, RateLimitedError


async def main(references: list[str]) -> int:
    token = os.environ["SESAME_SERVICE_ACCOUNT_TOKEN"]
    async with await Client.authenticate(token, "sesame-example", "1.0.0", retries=5) as client:
        try:
            response = await client.secrets.resolve_all(references)
        except RateLimitedError as e:
            print(f"rate limited; retry in {e.retry_after} s", file=sys.stderr)
            return 1
        for reference, result in response.individual_responses.items():
            if result.error is not None:
                print(f"{reference}: {result.error.code.value}")
            elif result.content is not None:
                print(f"{reference}: {len(result.content.secret)} characters")
        budget = await client.rate_limit()
        if budget is not None:
            print(f"{budget.remaining} requests left in this window")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
