"""The client: `await Client.authenticate(auth=token, integration_name=…,
integration_version=…)`, as in the 1Password SDK, with Sesame's options beside."""

from __future__ import annotations

import json
from typing import Any, Optional, TypeVar, Union

from . import _native

# Secrets, Items and Vaults are importable from here, as from onepassword.client.
from ._calls import ClientCalls, Items, Secrets, SyncClientCalls, Vaults  # noqa: F401
from ._invoker import AsyncInvoker, SyncInvoker, result, run_native
from .errors import InvalidInputError

__all__ = ["Client", "SyncClient", "Token"]


class Token:
    """A service account token, kept out of `repr()`, `str()` and tracebacks' locals
    display. Pass it (or the plain string) as `auth`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise InvalidInputError(
                f"a token is a str, not a {type(value).__name__}",
                details={"argument": "auth"},
            )
        self._value = value

    def reveal(self) -> str:
        """The token itself, for the rare code that must pass it on."""
        return self._value

    def __repr__(self) -> str:
        return "Token(<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # Pickling would write the token wherever the pickle goes.
        raise TypeError("a Token cannot be pickled: it would write the secret out")


def _options(
    auth: Union[str, Token],
    integration_name: str,
    integration_version: str,
    server_url: Optional[str],
    timeout_seconds: Optional[int],
    retries: Optional[int],
    cache_ttl_seconds: Optional[int],
) -> bytes:
    token = auth.reveal() if isinstance(auth, Token) else auth
    if not isinstance(token, str):
        raise InvalidInputError(
            f"auth is a {type(auth).__name__}: give the service account token as a str "
            "or a sesame.Token",
            details={"argument": "auth"},
        )
    options: dict[str, Any] = {
        "auth": token,
        "integrationName": integration_name,
        "integrationVersion": integration_version,
    }
    for key, value in (
        ("serverUrl", server_url),
        ("timeoutSeconds", timeout_seconds),
        ("retries", retries),
        ("cacheTtlSeconds", cache_ttl_seconds),
    ):
        if value is not None:
            options[key] = value
    return json.dumps(options).encode()


def _checked(outcome: Any) -> _native.NativeClient:
    # The native module answers with the client, or the error envelope to raise.
    if isinstance(outcome, bytes):
        result(outcome, None)
    assert isinstance(outcome, _native.NativeClient)
    return outcome


C = TypeVar("C", bound="Client")
S = TypeVar("S", bound="SyncClient")


class _Handle:
    """What both clients do with their native handle: close it, and say what they are
    without showing a secret."""

    _native: _native.NativeClient
    _integration: str

    def close(self) -> None:
        """Releases the client; later calls raise `InvalidInputError`. Idempotent."""
        self._native.close()

    @property
    def closed(self) -> bool:
        return bool(self._native.closed)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<sesame.{type(self).__name__} {self._integration} {state}>"


class Client(_Handle, ClientCalls):
    """An authenticated client for `asyncio` code: `client.secrets`, `client.items`,
    `client.vaults`, `client.shares`, `client.events`.

    Safe to share between tasks and threads. `async with` (or `close()`) releases it;
    so does garbage collection.

    Options beyond the 1Password SDK (defaults in brackets): `server_url` [the one the
    token records], `timeout_seconds` per HTTP call [30], `retries` of idempotent calls
    after a transient failure, waiting as long as a `Retry-After` says [3],
    `cache_ttl_seconds` during which reads skip the sync round trip [0: sync on every
    read].
    """

    def __init__(self, native: _native.NativeClient, integration: str) -> None:
        super().__init__(AsyncInvoker(native))
        self._native = native
        self._integration = integration

    @classmethod
    async def authenticate(
        cls: type[C],
        auth: Union[str, Token],
        integration_name: str,
        integration_version: str,
        *,
        server_url: Optional[str] = None,
        timeout_seconds: Optional[int] = None,
        retries: Optional[int] = None,
        cache_ttl_seconds: Optional[int] = None,
    ) -> C:
        """Authenticates with a service account token and syncs the vaults it can
        read."""
        options = _options(
            auth,
            integration_name,
            integration_version,
            server_url,
            timeout_seconds,
            retries,
            cache_ttl_seconds,
        )
        outcome = await run_native(lambda done: _native.authenticate_async(options, done))
        return cls(_checked(outcome), f"{integration_name}/{integration_version}")

    async def __aenter__(self: C) -> C:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class SyncClient(_Handle, SyncClientCalls):
    """The same client for code that is not async: every call blocks the calling thread
    (never the GIL). Safe to share between threads; `with` (or `close()`) releases it.
    Options as for `Client`."""

    def __init__(self, native: _native.NativeClient, integration: str) -> None:
        super().__init__(SyncInvoker(native))
        self._native = native
        self._integration = integration

    @classmethod
    def authenticate(
        cls: type[S],
        auth: Union[str, Token],
        integration_name: str,
        integration_version: str,
        *,
        server_url: Optional[str] = None,
        timeout_seconds: Optional[int] = None,
        retries: Optional[int] = None,
        cache_ttl_seconds: Optional[int] = None,
    ) -> S:
        """Authenticates with a service account token and syncs the vaults it can
        read."""
        options = _options(
            auth,
            integration_name,
            integration_version,
            server_url,
            timeout_seconds,
            retries,
            cache_ttl_seconds,
        )
        outcome = _native.authenticate(options)
        return cls(_checked(outcome), f"{integration_name}/{integration_version}")

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
