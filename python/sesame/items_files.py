"""The `items.files` calls (generated in `_calls.py`), at the module path of the
1Password SDK."""

from ._calls import ItemsFiles, SyncItemsFiles

# The model types its calls take and return, importable from here as in the
# 1Password SDK.
from .types import *  # noqa: F403

__all__ = ["ItemsFiles", "SyncItemsFiles"]
