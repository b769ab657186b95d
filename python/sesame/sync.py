"""The synchronous client, for scripts and frameworks that are not async:
`from sesame.sync import Client`."""

from .client import SyncClient as Client

__all__ = ["Client"]
