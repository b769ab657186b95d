"""The `events` calls (generated in `_calls.py`), at the module path of the
1Password SDK."""

from ._calls import Events, SyncEvents

__all__ = ["Events", "SyncEvents"]
