"""The `items.files` calls (generated in `_calls.py`), at the module path of the
1Password SDK."""

from ._calls import ItemsFiles, SyncItemsFiles

__all__ = ["ItemsFiles", "SyncItemsFiles"]
