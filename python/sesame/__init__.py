"""Sesame: load secrets, manage items and vaults, from Python.

The API mirrors the 1Password Python SDK (`onepassword-sdk`): porting is an import
change (`from onepassword import …` → `from sesame import …`). See the README's Python
section.
"""

from . import errors, types
from .client import Client, SyncClient, Token
from .defaults import DEFAULT_INTEGRATION_NAME, DEFAULT_INTEGRATION_VERSION
from .errors import *  # noqa: F403
from .events import Events
from .items import Items
from .items_files import ItemsFiles
from .items_shares import ItemsShares
from .secrets import Secrets
from .shares import Shares
from .types import *  # noqa: F403
from .vaults import Vaults

__all__ = [
    "DEFAULT_INTEGRATION_NAME",
    "DEFAULT_INTEGRATION_VERSION",
    "Client",
    "Events",
    "Items",
    "ItemsFiles",
    "ItemsShares",
    "Secrets",
    "Shares",
    "SyncClient",
    "Token",
    "Vaults",
]
# Every model type and error class, as the 1Password SDK exports them.
__all__ += types.__all__ + errors.__all__
