# The native module's interface (bindings/python/src/lib.rs), checked against the built
# module by `python -m mypy.stubtest sesame._native` in the test suite.
from typing import Any, Callable, Optional, Union, final

_Reply = tuple[bytes, Optional[bytes]]

__all__ = [
    "NativeClient",
    "Pending",
    "authenticate",
    "authenticate_async",
    "before_exit",
    "invoke",
    "invoke_async",
    "invoke_offline",
    "validate_secret_reference",
]

@final
class NativeClient:
    @property
    def closed(self) -> bool: ...
    def invoke(self, request: bytes, data: Any = None, sink: Any = None) -> _Reply: ...
    def invoke_async(
        self, request: bytes, data: Any, sink: Any, done: Callable[[_Reply], None]
    ) -> Union[Pending, _Reply]: ...
    def close(self) -> None: ...

@final
class Pending:
    def cancel(self) -> None: ...

def invoke(request: bytes, data: Any = None, sink: Any = None) -> _Reply: ...
def invoke_async(
    request: bytes, data: Any, sink: Any, done: Callable[[_Reply], None]
) -> Union[Pending, _Reply]: ...
def invoke_offline(request: bytes) -> bytes: ...
def authenticate(options: bytes) -> Union[NativeClient, bytes]: ...
def authenticate_async(
    options: bytes, done: Callable[[Union[NativeClient, bytes]], None]
) -> Union[Pending, NativeClient, bytes]: ...
def before_exit() -> None: ...
def validate_secret_reference(reference: str) -> Optional[bytes]: ...
