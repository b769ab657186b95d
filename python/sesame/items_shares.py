"""The `items.shares` calls (generated in `_calls.py`), at the module path of the
1Password SDK."""

from ._calls import ItemsShares, SyncItemsShares

__all__ = ["ItemsShares", "SyncItemsShares"]
