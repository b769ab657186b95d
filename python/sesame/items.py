"""The `items` calls (generated in `_calls.py`), at the module path of the
1Password SDK."""

from ._calls import Items, SyncItems

__all__ = ["Items", "SyncItems"]
