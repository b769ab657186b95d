"""The `vaults` calls (generated in `_calls.py`), at the module path of the
1Password SDK."""

from ._calls import Vaults, SyncVaults

__all__ = ["Vaults", "SyncVaults"]
