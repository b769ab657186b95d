"""The `vaults` calls (generated in `_calls.py`), at the module path of the
1Password SDK."""

from ._calls import SyncVaults, Vaults

__all__ = ["SyncVaults", "Vaults"]
