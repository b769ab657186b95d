"""The `secrets` calls (generated in `_calls.py`), at the module path of the
1Password SDK."""

from ._calls import Secrets, SyncSecrets

__all__ = ["Secrets", "SyncSecrets"]
