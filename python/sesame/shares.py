"""The `shares` calls (generated in `_calls.py`), at the module path of the
1Password SDK."""

from ._calls import Shares, SyncShares

__all__ = ["Shares", "SyncShares"]
