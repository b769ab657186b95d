"""Runs every shared scenario (`tests/scenarios/*.json`, format in its README) through
the public Python API: once with the async `Client`, once with `SyncClient`.

Each `call` step goes through the wrapper method `sesame._calls.CALLS` names: its JSON
parameters become the method's annotated types (models through their `_from_wire`), its
result (checked against the return annotation) becomes JSON again through `_to_wire`,
and an exception becomes the error envelope `{"code", "message", **details}`. Variables,
step keys and matchers follow the Rust runner, bindings/invoke/tests/scenarios.rs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import datetime
import enum
import functools
import inspect
import json
import operator
import pathlib
import re
import secrets
import subprocess
import sys
import types as builtin_types
import warnings
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

import pytest
import sesame
from sesame import types as model
from sesame._calls import CALLS
from sesame.errors import SesameError

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIO_FILES = sorted((ROOT / "tests" / "scenarios").glob("*.json"))
FLAVOURS = ("async", "sync")
INTEGRATION_NAME = "sesame-scenarios"
INTEGRATION_VERSION = "1.0.0"
TIMEOUT_SECONDS = 15

# The keys a step may have: a misspelt key would make a step assert nothing.
STEP_KEYS = (
    "call",
    "parameters",
    "as",
    "offline",
    "bytes",
    "bytesBase64",
    "expect",
    "expectBytes",
    "expectBytesBase64",
    "save",
    "client",
    "token",
    "cli",
)

# What serde fills in when a scenario leaves these keys out (`#[serde(default)]` in
# crates/core/src/model). The Python classes follow the schema of what Sesame writes
# (crates/core/src/model/schema.rs), where these keys are required, so `_from_wire` needs
# them; a caller building the object would pass these values.
WIRE_DEFAULTS: dict[str, dict[str, Any]] = {
    "Item": {"fields": [], "sections": [], "notes": "", "tags": [], "websites": [], "files": []},
    "ItemShareParams": {"oneTimeOnly": False},
    "FileCreateParams": {"content": ""},
    "DocumentCreateParams": {"content": ""},
}

# A step without "expect" must succeed; `"expect": null` is an expectation nothing meets.
NO_EXPECT = object()
MISSING = object()
NONE_TYPE = type(None)
TOKEN = re.compile(r"sesame_sa_[A-Za-z0-9_.\-]*")


class StepError(Exception):
    """A step failed; the message says what differed."""


class ConversionError(StepError):
    """A step's JSON cannot become the arguments of the Python method."""


class Inexpressible(ConversionError):
    """A step's JSON holds what the Python types cannot carry (bytes as invalid base64)."""


class InexpressibleStepWarning(UserWarning):
    """A step the Python API cannot send was left out (its scenario expects a refusal)."""


def redact(text: str) -> str:
    """`text` without service account tokens (saved values and CLI output hold some)."""
    return TOKEN.sub("sesame_sa_<redacted>", text)


def compact(value: Any) -> str:
    """JSON text as serde_json writes it (what `${…}` splices into a longer string)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def strict_base64(text: Any, what: str) -> bytes:
    """Standard base64, canonical and padded, as the wire's decoder wants it."""
    if isinstance(text, str):
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            pass
        else:
            if base64.b64encode(data).decode("ascii") == text:
                return data
    raise Inexpressible(f"{what}: {text!r} is not canonical standard base64")


# ---------- shapes ----------


def matches(expected: Any, actual: Any, path: str = "$") -> None:
    """Raises StepError unless `actual` has the shape `expected` describes (README:
    objects match the keys they name, arrays element by element, `{"$…": …}` are
    matchers)."""
    if isinstance(expected, dict):
        if len(expected) == 1:
            op, arg = next(iter(expected.items()))
            if op.startswith("$"):
                _match_operator(op, arg, actual, path)
                return
        if not isinstance(actual, dict):
            raise StepError(f"at {path}: expected an object, got {compact(actual)}")
        for key, want in expected.items():
            may_be_missing = want is None or (isinstance(want, dict) and "$absent" in want)
            if key not in actual and not may_be_missing:
                raise StepError(f"at {path}: missing key {compact(key)} in {compact(actual)}")
            matches(want, actual.get(key), f"{path}.{key}")
        return
    if isinstance(expected, list):
        if not isinstance(actual, list):
            raise StepError(f"at {path}: expected an array, got {compact(actual)}")
        if len(expected) != len(actual):
            raise StepError(
                f"at {path}: expected {len(expected)} elements, got {len(actual)}: "
                f"{compact(actual)}"
            )
        for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
            matches(want, got, f"{path}[{i}]")
        return
    kinds = (json_kind(expected), json_kind(actual))
    if kinds == ("number", "number"):
        equal = float(expected) == float(actual)
    else:
        equal = kinds[0] == kinds[1] and expected == actual
    if not equal:
        raise StepError(f"at {path}: expected {compact(expected)}, got {compact(actual)}")


def _matched(expected: Any, actual: Any, path: str) -> bool:
    try:
        matches(expected, actual, path)
    except StepError:
        return False
    return True


def _match_operator(op: str, arg: Any, actual: Any, path: str) -> None:
    def fail(what: str) -> StepError:
        return StepError(f"at {path}: {what}")

    if op == "$any":
        return
    if op == "$type":
        if json_kind(actual) != arg:
            raise fail(f"expected a {compact(arg)}, got {compact(actual)}")
    elif op == "$length":
        if not isinstance(actual, (list, str, dict)):
            raise fail(f"expected something with a length, got {compact(actual)}")
        if json_kind(arg) != "number" or arg != len(actual):
            raise fail(f"expected length {compact(arg)}, got {len(actual)}: {compact(actual)}")
    elif op == "$contains":
        found = (isinstance(actual, str) and isinstance(arg, str) and arg in actual) or (
            isinstance(actual, list) and any(_matched(arg, item, path) for item in actual)
        )
        if not found:
            raise fail(f"expected {compact(actual)} to contain {compact(arg)}")
    elif op == "$unordered":
        if not isinstance(arg, list) or not isinstance(actual, list):
            raise fail(f"expected an array, got {compact(actual)}")
        if len(arg) != len(actual):
            raise fail(f"expected {len(arg)} elements, got {len(actual)}: {compact(actual)}")
        used: set[int] = set()
        for want in arg:
            found_at = next(
                (i for i, got in enumerate(actual) if i not in used and _matched(want, got, path)),
                None,
            )
            if found_at is None:
                raise fail(f"no element matches {compact(want)} in {compact(actual)}")
            used.add(found_at)
    elif op == "$absent":
        if actual is not None:
            raise fail(f"expected nothing, got {compact(actual)}")
    elif op == "$not":
        if _matched(arg, actual, path):
            raise fail(f"expected anything but {compact(arg)}, got {compact(actual)}")
    else:
        raise fail(f"unknown matcher {op}")


# ---------- variables ----------

ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def pointer(value: Any, path: str) -> Any:
    """The JSON pointer `path` (RFC 6901, as serde_json reads it) in `value`, or
    MISSING."""
    if path == "":
        return value
    if not path.startswith("/"):
        return MISSING
    for token in path[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and ARRAY_INDEX.fullmatch(token) and int(token) < len(value):
            value = value[int(token)]
        else:
            return MISSING
    return value


class Variables:
    """Saved values and `${name}` / `${name/json/pointer}` substitution."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, name: str) -> Any:
        head, slash, rest = name.partition("/")
        if head not in self.values:
            raise StepError(f"${{{name}}} is not defined (saved values: {sorted(self.values)})")
        value = pointer(self.values[head], slash + rest)
        if value is MISSING:
            raise StepError(f"${{{name}}}: {slash + rest} is not in the saved value")
        # A copy: whatever a step does with it cannot change the saved value.
        return copy.deepcopy(value)

    def substitute(self, value: Any) -> Any:
        """A string that is exactly one `${…}` becomes the saved value itself (any
        JSON); otherwise each value's text is spliced in. Object keys too."""
        if isinstance(value, str):
            if value.startswith("${") and value.endswith("}") and "${" not in value[2:-1]:
                return self.get(value[2:-1])
            out: list[str] = []
            rest = value
            while (start := rest.find("${")) != -1:
                end = rest.find("}", start)
                if end == -1:
                    raise StepError(f"unclosed ${{ in {value!r}")
                out.append(rest[:start])
                saved = self.get(rest[start + 2 : end])
                out.append(saved if isinstance(saved, str) else compact(saved))
                rest = rest[end + 1 :]
            out.append(rest)
            return "".join(out)
        if isinstance(value, list):
            return [self.substitute(item) for item in value]
        if isinstance(value, dict):
            substituted = {}
            for key, item in value.items():
                new_key = self.substitute(key)
                substituted[new_key if isinstance(new_key, str) else key] = self.substitute(item)
            return substituted
        return value

    def save(self, step: dict[str, Any], result: Any) -> None:
        saves = step.get("save")
        if not isinstance(saves, dict):
            return
        for name, path in saves.items():
            path = path if isinstance(path, str) else ""
            value = pointer(result, path)
            if value is MISSING:
                raise StepError(f"save {name}: {path!r} is not in the result {compact(result)}")
            self.values[name] = copy.deepcopy(value)


# ---------- JSON to the methods' Python types, and back ----------


def _named_unions() -> dict[Any, Callable[[Any], Any]]:
    # `sesame.types._PasswordRecipe_from_wire` decodes `PasswordRecipe`; keyed by the
    # union as get_type_hints gives it (a one-variant union is that variant's class).
    decoders: dict[Any, Callable[[Any], Any]] = {}
    for name, decoder in vars(model).items():
        if name.startswith("_") and name.endswith("_from_wire") and callable(decoder):
            decoders[getattr(model, name[1 : -len("_from_wire")])] = decoder
    return decoders


UNION_DECODERS = _named_unions()


def union_args(hint: Any) -> tuple[Any, ...] | None:
    if get_origin(hint) in (Union, builtin_types.UnionType):
        return get_args(hint)
    return None


def without_none(args: tuple[Any, ...]) -> Any:
    rest = tuple(arg for arg in args if arg is not NONE_TYPE)
    return rest[0] if len(rest) == 1 else Union.__getitem__(rest)


def is_model(hint: Any) -> bool:
    return isinstance(hint, type) and not issubclass(hint, enum.Enum) and hasattr(hint, "_to_wire")


def is_content(hint: Any) -> bool:
    # `bytes`, or `Content` (bytes, a path or a file object to upload).
    args = union_args(hint)
    return hint is bytes or (args is not None and NONE_TYPE not in args and bytes in args)


@functools.cache
def field_hints(cls: type) -> dict[str, Any]:
    """A model class's attributes and their types (a union variant's tag is a ClassVar)."""
    return {
        name: hint
        for name, hint in get_type_hints(cls).items()
        if get_origin(hint) is not ClassVar and hint is not ClassVar
    }


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def hint_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or repr(hint)


def prepare(value: Any, hint: Any, where: str) -> Any:
    """`value` checked against `hint` all the way down, with the wire's defaults filled
    in: what `decode` and the models' `_from_wire` can take."""
    if hint is Any:
        return value
    args = union_args(hint)
    if args is not None and NONE_TYPE in args:
        return None if value is None else prepare(value, without_none(args), where)
    if is_content(hint):
        strict_base64(value, where)
        return value
    if hint in UNION_DECODERS:
        return _prepare_variant(value, hint, where)
    origin = get_origin(hint)
    if origin is list:
        if not isinstance(value, list):
            raise ConversionError(f"{where}: expected an array, got {compact(value)}")
        (item,) = get_args(hint)
        return [prepare(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConversionError(f"{where}: expected an object, got {compact(value)}")
        item = get_args(hint)[1]
        return {k: prepare(v, item, f"{where}.{k}") for k, v in value.items()}
    if is_model(hint):
        return _prepare_model(value, hint, where)
    kinds: dict[Any, tuple[str, ...]] = {
        str: ("string",),
        # RFC 3339 text: the model's `_from_wire` reads it.
        datetime.datetime: ("string",),
        bool: ("boolean",),
        float: ("number",),
        int: ("number",),
    }
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        kinds[hint] = ("string",)
    if hint not in kinds:
        raise ConversionError(f"{where}: the runner cannot build a {hint_name(hint)}")
    if json_kind(value) not in kinds[hint] or (hint is int and not isinstance(value, int)):
        raise ConversionError(f"{where}: expected a {hint_name(hint)}, got {compact(value)}")
    return value


def _prepare_model(value: Any, cls: type, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConversionError(f"{where}: expected a {cls.__name__} object, got {compact(value)}")
    wire = {camel(name): hint for name, hint in field_hints(cls).items()}
    unknown = sorted(set(value) - set(wire))
    if unknown:
        # Sent by the scenario, dropped by `_from_wire`: the step would assert less.
        raise ConversionError(f"{where}: {cls.__name__} has no attribute for {unknown}")
    out = copy.deepcopy(WIRE_DEFAULTS.get(cls.__name__, {}))
    out.update(value)
    return {key: prepare(item, wire[key], f"{where}.{key}") for key, item in out.items()}


def _prepare_variant(value: Any, union: Any, where: str) -> Any:
    # `{"type": tag, "parameters" | "content": payload}`: the payload of the variant
    # whose tag (a ClassVar) matches. Other tags are left to the SDK's decoder.
    if not isinstance(value, dict):
        raise ConversionError(
            f"{where}: expected a {hint_name(union)} object, got {compact(value)}"
        )
    for variant in get_args(union) or (union,):
        if getattr(variant, "type", None) == value.get("type"):
            payload = field_hints(variant)
            unknown = sorted(set(value) - set(payload) - {"type"})
            if unknown:
                raise ConversionError(f"{where}: {variant.__name__} has no attribute for {unknown}")
            return {
                key: item if key == "type" else prepare(item, payload[key], f"{where}.{key}")
                for key, item in value.items()
            }
    return value


def decode(value: Any, hint: Any) -> Any:
    """A prepared JSON value as the Python type `hint`."""
    args = union_args(hint)
    if args is not None and NONE_TYPE in args:
        return None if value is None else decode(value, without_none(args))
    if is_content(hint):
        return base64.b64decode(value)
    if hint in UNION_DECODERS:
        return UNION_DECODERS[hint](value)
    origin = get_origin(hint)
    if origin is list:
        return [decode(item, get_args(hint)[0]) for item in value]
    if origin is dict:
        return {key: decode(item, get_args(hint)[1]) for key, item in value.items()}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if is_model(hint):
        return hint._from_wire(value)
    return value


def from_json(value: Any, hint: Any, where: str) -> Any:
    prepared = prepare(value, hint, where)
    try:
        return decode(prepared, hint)
    except (KeyError, ValueError, TypeError, AttributeError) as e:
        raise ConversionError(
            f"{where}: the SDK could not build a {hint_name(hint)} from {compact(prepared)}: "
            f"{type(e).__name__}: {e}"
        ) from e


def check(value: Any, hint: Any, where: str) -> None:
    """Raises StepError unless `value` is what the annotation `hint` promises, all the
    way down (a model's attributes against the model's annotations)."""
    if hint is Any:
        return
    if hint is None or hint is NONE_TYPE:
        if value is not None:
            raise StepError(f"{where}: expected None, got a {type(value).__name__}")
        return
    args = union_args(hint)
    if args is not None:
        for arg in args:
            try:
                check(value, arg, where)
            except StepError:
                continue
            return
        raise StepError(f"{where}: a {type(value).__name__} is none of {hint}")
    origin = get_origin(hint)
    if origin is list:
        if not isinstance(value, list):
            raise StepError(f"{where}: expected a list, got a {type(value).__name__}")
        for i, item in enumerate(value):
            check(item, get_args(hint)[0], f"{where}[{i}]")
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise StepError(f"{where}: expected a dict, got a {type(value).__name__}")
        for key, item in value.items():
            check(key, get_args(hint)[0], f"{where} key")
            check(item, get_args(hint)[1], f"{where}[{key!r}]")
        return
    expected = origin if origin is not None else hint
    if not isinstance(expected, type):
        raise StepError(f"{where}: the runner cannot check a {hint!r}")
    if hint is float:
        expected = (int, float)
    if not isinstance(value, expected) or (isinstance(value, bool) and hint in (int, float)):
        raise StepError(f"{where}: expected a {hint_name(hint)}, got a {type(value).__name__}")
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        raise StepError(f"{where}: a naive datetime (the wire's timestamps are UTC)")
    if is_model(hint):
        for name, field_hint in field_hints(hint).items():
            check(getattr(value, name), field_hint, f"{where}.{name}")


def to_json(value: Any) -> Any:
    """A result as JSON: models through `_to_wire`, enums as their values."""
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if hasattr(value, "_to_wire"):
        return to_json(value._to_wire())
    raise StepError(f"the result holds a {type(value).__name__}, which has no JSON form")


def envelope(error: SesameError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, **error.details}


def check_outcome(kind: str, value: Any, expect: Any) -> None:
    """Compares an outcome ("ok" or "error") with `{"ok": …}` / `{"error": …}` (no
    expectation: any success)."""
    if expect is NO_EXPECT:
        if kind == "error":
            raise StepError(f"expected success, got error {compact(value)}")
        return
    if not isinstance(expect, dict) or kind not in expect:
        raise StepError(f"expected {compact(expect)}, got {kind} {compact(value)}")
    matches(expect[kind], value, kind)


# ---------- the runner ----------


class Run:
    """One scenario's state: its clients, their tokens and the saved values."""

    def __init__(self, server: Any, flavour: str, unique: str) -> None:
        self.server = server
        self.flavour = flavour
        self.clients: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        self.vars = Variables({"unique": unique, "serverUrl": server.url})

    async def connect(self, name: str, token: str) -> SesameError | None:
        """Authenticates client `name`; the error if it could not."""
        options: dict[str, Any] = {
            "server_url": self.server.url,
            "timeout_seconds": TIMEOUT_SECONDS,
        }
        try:
            if self.flavour == "async":
                client: Any = await sesame.Client.authenticate(
                    token, INTEGRATION_NAME, INTEGRATION_VERSION, **options
                )
            else:
                client = await asyncio.to_thread(
                    sesame.SyncClient.authenticate,
                    token,
                    INTEGRATION_NAME,
                    INTEGRATION_VERSION,
                    **options,
                )
        except SesameError as e:
            return e
        replaced = self.clients.pop(name, None)
        if replaced is not None:
            replaced.close()
        self.clients[name] = client
        self.tokens[name] = token
        return None

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    async def step(self, step: Any) -> None:
        if not isinstance(step, dict):
            raise StepError(f"a step is an object, not {compact(step)}")
        unknown = [key for key in step if key not in STEP_KEYS]
        if unknown:
            raise StepError(f"unknown step key {unknown[0]!r} (the keys are {list(STEP_KEYS)})")
        if "cli" in step and "expect" in step:
            raise StepError('a cli step cannot have "expect": it must succeed')
        expect = self.vars.substitute(step["expect"]) if "expect" in step else NO_EXPECT
        if isinstance(step.get("client"), str):
            token = self.vars.substitute(step.get("token"))
            error = await self.connect(step["client"], token if isinstance(token, str) else "")
            if error is None:
                check_outcome("ok", None, expect)
            else:
                check_outcome("error", envelope(error), expect)
            return
        if "cli" in step:
            self.vars.save(step, await self.cli(step, self.vars.substitute(step["cli"])))
            return
        call = step.get("call")
        if not isinstance(call, str):
            raise StepError('a step needs "call", "cli" or "client"')
        parameters = self.vars.substitute(step.get("parameters", {}))
        if not isinstance(parameters, dict):
            raise StepError(f"{call}: parameters are an object, not {compact(parameters)}")
        upload = self.bytes_of(step, "bytes", "bytesBase64")
        client = None
        if step.get("offline") is not True:
            who = step["as"] if isinstance(step.get("as"), str) else "owner"
            if who not in self.clients:
                raise StepError(f"no client named {who!r}")
            client = self.clients[who]
        try:
            kind, result, content = await self.invoke(call, parameters, upload, client)
        except Inexpressible as e:
            accept_inexpressible(call, e, expect)
            return
        expected_bytes = self.bytes_of(step, "expectBytes", "expectBytesBase64")
        if expected_bytes is not None and content != expected_bytes:
            got = None if content is None else content.decode("utf-8", "replace")
            raise StepError(
                f"{call}: expected bytes {expected_bytes.decode('utf-8', 'replace')!r}, got {got!r}"
            )
        try:
            if kind == "ok":
                self.vars.save(step, result)
            check_outcome(kind, result, expect)
        except StepError as e:
            raise StepError(f"{call}: {e}") from None

    def bytes_of(self, step: dict[str, Any], text_key: str, base64_key: str) -> bytes | None:
        """`text_key`'s UTF-8 text (after substitution) or `base64_key`'s bytes."""
        if text_key in step and base64_key in step:
            raise StepError(f"a step has {text_key} or {base64_key}, not both")
        if text_key in step:
            text = self.vars.substitute(step[text_key])
            if not isinstance(text, str):
                raise StepError(f"{text_key} must be a string")
            return text.encode()
        if base64_key in step:
            try:
                return strict_base64(step[base64_key], base64_key)
            except Inexpressible as e:
                raise StepError(str(e)) from None
        return None

    async def cli(self, step: dict[str, Any], args: Any) -> Any:
        """Runs the `sesame` command line as a principal (default the owner); its stdout
        is JSON."""
        who = step["as"] if isinstance(step.get("as"), str) else "owner"
        if who not in self.tokens:
            raise StepError(f"no token for {who!r}")
        if not isinstance(args, list):
            raise StepError("cli is a list of arguments")
        argv = [arg if isinstance(arg, str) else compact(arg) for arg in args]
        try:
            stdout = await asyncio.to_thread(self.server.cli, *argv, token=self.tokens[who])
        except (AssertionError, subprocess.SubprocessError) as e:
            raise StepError(f"sesame {' '.join(argv)}: {e}") from None
        try:
            return json.loads(stdout)
        except json.JSONDecodeError as e:
            raise StepError(f"sesame {' '.join(argv)}: stdout is not JSON: {e}") from None

    def method(self, call: str, client: Any) -> Callable[..., Any]:
        """The public method of `call`: on `client`'s group, or the static method of the
        group's class when there is no client."""
        if call not in CALLS:
            raise StepError(f"{call} is not in sesame._calls.CALLS")
        group, name, needs_client = CALLS[call]
        if client is not None:
            holder = client if group == "client" else operator.attrgetter(group)(client)
            return getattr(holder, name)  # type: ignore[no-any-return]
        if needs_client:
            raise StepError(f"{call} needs a client: it cannot run offline")
        # `Secrets`/`SyncSecrets`, …: the class of the group on a client of this flavour.
        cls = type(operator.attrgetter(group)(self.clients["owner"]))
        if not isinstance(inspect.getattr_static(cls, name, None), staticmethod):
            raise StepError(f"{cls.__name__}.{name} is not a static method: it needs a client")
        return getattr(cls, name)  # type: ignore[no-any-return]

    async def invoke(
        self, call: str, parameters: dict[str, Any], upload: bytes | None, client: Any
    ) -> tuple[str, Any, bytes | None]:
        """Runs `call` through its Python method: ("ok", result as JSON, bytes
        returned) or ("error", envelope, None)."""
        method = self.method(call, client)
        hints = get_type_hints(method)
        arguments = self.arguments(method, hints, parameters, upload)
        try:
            if self.flavour == "sync":
                result = await asyncio.to_thread(method, **arguments)
                if inspect.isawaitable(result):
                    if inspect.iscoroutine(result):
                        result.close()
                    raise StepError(f"{method.__qualname__} of SyncClient returned an awaitable")
            else:
                result = method(**arguments)
                if inspect.isawaitable(result):
                    result = await result
                elif CALLS[call][2]:
                    raise StepError(f"{method.__qualname__} of Client is not async")
        except SesameError as e:
            return "error", envelope(e), None
        returns = hints.get("return", Any)
        check(result, returns, f"{method.__qualname__}()")
        if returns is bytes:
            # Raw content is compared with expectBytes; the JSON result is null.
            return "ok", None, result
        return "ok", to_json(result), None

    def arguments(
        self,
        method: Callable[..., Any],
        hints: dict[str, Any],
        parameters: dict[str, Any],
        upload: bytes | None,
    ) -> dict[str, Any]:
        """The keyword arguments of `method` from the step's JSON parameters; `upload`
        becomes the `content` of the one parameter that has one."""
        signature = inspect.signature(method)
        qualname = method.__qualname__
        unknown = sorted(set(parameters) - set(signature.parameters))
        if unknown:
            raise ConversionError(f"{qualname} has no parameter {unknown}")
        carrier = None
        if upload is not None:
            carriers = [
                name
                for name in signature.parameters
                if is_model(hints.get(name)) and is_content(field_hints(hints[name]).get("content"))
            ]
            if len(carriers) != 1:
                raise ConversionError(f"{qualname} takes no file content, yet the step has bytes")
            carrier = carriers[0]
            if isinstance(parameters.get(carrier), dict) and "content" in parameters[carrier]:
                raise ConversionError(f"{carrier} has content in the parameters and as bytes")
        arguments: dict[str, Any] = {}
        for name, parameter in signature.parameters.items():
            if name not in parameters:
                if parameter.default is inspect.Parameter.empty:
                    raise ConversionError(f"{qualname}: parameter {name} is missing")
                continue
            value = from_json(parameters[name], hints[name], name)
            if name == carrier:
                # As a caller passes it: the raw bytes as the params' content.
                value.content = upload
            arguments[name] = value
        return arguments


def accept_inexpressible(call: str, error: Inexpressible, expect: Any) -> None:
    """A step whose JSON the Python types cannot carry (bytes as invalid base64) is
    consistent only if its scenario expects the wire to refuse it; it is left out,
    with a warning, since no Python caller can send it."""
    wanted = expect.get("error") if isinstance(expect, dict) else None
    if not isinstance(wanted, dict) or wanted.get("code") != "invalid_input":
        raise StepError(f"{call}: {error}, yet the scenario expects {compact(expect)}")
    warnings.warn(
        f"{call}: not sent ({error}): the Python API takes bytes",
        InexpressibleStepWarning,
        stacklevel=2,
    )


def describe(step: Any) -> str:
    if not isinstance(step, dict):
        return "?"
    if isinstance(step.get("client"), str):
        return f"client {step['client']}"
    if "cli" in step:
        return f"cli {compact(step['cli'])}"
    return str(step.get("call", "?"))


def load(path: pathlib.Path) -> dict[str, Any]:
    scenario = json.loads(path.read_text())
    assert isinstance(scenario, dict) and isinstance(scenario.get("steps"), list), path.name
    return scenario


# ---------- tests ----------


@pytest.fixture(scope="module")
def sync_server(server: Any) -> Iterator[Any]:
    """A server of its own for the SyncClient run: like the Rust runner, each run of all
    the scenarios starts from a fresh account (client.json expects an audit trail no
    checkpoint has signed yet)."""
    # The suite's conftest module (imported by pytest, not importable by name).
    conftest = sys.modules[type(server).__module__]
    with conftest.running_server("sesame-py-sync-") as running:
        yield running


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.name)
async def test_scenario(path: pathlib.Path, flavour: str, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("server" if flavour == "async" else "sync_server")
    scenario = load(path)
    # A short lowercase suffix unique to this run (vault titles, service account names).
    unique = f"p{flavour[0]}{SCENARIO_FILES.index(path)}{secrets.token_hex(3)}"
    run = Run(server, flavour, unique)
    where = f"{path.name} [{flavour}]"
    try:
        error = await run.connect("owner", server.owner_token)
        if error is not None:
            pytest.fail(f"{where}: the owner could not authenticate: {error}", pytrace=False)
        for index, step in enumerate(scenario["steps"], 1):
            failure = None
            try:
                await run.step(step)
            except StepError as e:
                failure = redact(f"{where} step {index} ({describe(step)}): {e}")
            except Exception as e:
                pytest.fail(
                    redact(
                        f"{where} step {index} ({describe(step)}) raised {type(e).__name__}: {e}"
                    )
                )
            if failure is not None:
                # Outside the except block: the message says it all, no traceback.
                pytest.fail(failure, pytrace=False)
    finally:
        run.close()


def test_every_call_is_exercised_by_a_scenario() -> None:
    used = {
        step["call"]
        for path in SCENARIO_FILES
        for step in load(path)["steps"]
        if isinstance(step.get("call"), str)
    }
    assert not sorted(set(CALLS) - used), "calls no scenario exercises"
    assert not sorted(used - set(CALLS)), "scenarios call names sesame._calls.CALLS lacks"


def test_there_are_scenarios() -> None:
    assert len(SCENARIO_FILES) >= 9, [path.name for path in SCENARIO_FILES]


def test_the_matcher_can_fail() -> None:
    def ok(expected: Any, actual: Any) -> bool:
        return _matched(expected, actual, "$")

    assert not ok({"a": 1}, {"a": 2})
    assert not ok({"a": {"$type": "string"}}, {"a": 2})
    assert not ok([1], [1, 2])
    assert ok({"$unordered": [1, 2]}, [2, 1])
    assert not ok({"$unordered": [1, 1]}, [1, 2])
    assert ok({"b": {"$absent": True}}, {"a": 1})
    assert ok({"b": None}, {"a": 1})
    assert not ok({"b": 1}, {"a": 1})
    assert ok({"$not": {"$contains": 1}}, [2, 3])
    assert not ok({"$not": {"$contains": 1}}, [1, 3])
    assert ok({"$contains": "ell"}, "hello") and not ok({"$contains": "x"}, "hello")
    assert ok({"$length": 2}, "äö") and not ok({"$length": 2}, 12)
    # JSON types, not Python's: true is not 1, 1 is 1.0.
    assert not ok(True, 1) and not ok(1, True) and ok(1, 1.0)
    assert not ok({"$type": "number"}, False)
    assert not ok({"$whatever": 1}, 1)
    assert strict_base64("//4A", "x") == b"\xff\xfe\x00"
    for bad in ("%%", "//4", "//5=", 1):
        with pytest.raises(Inexpressible):
            strict_base64(bad, "x")


def test_variables_substitute_and_save() -> None:
    scope = Variables({"v": {"id": "abc", "n": 2, "list": [{"x": "y"}]}, "s": "text"})
    assert scope.substitute("${v}") == {"id": "abc", "n": 2, "list": [{"x": "y"}]}
    assert scope.substitute("${v/n}") == 2
    assert scope.substitute("id=${v/id}, n=${v/n}, ${s}") == "id=abc, n=2, text"
    assert scope.substitute({"k ${s}": ["${v/list/0/x}"]}) == {"k text": ["y"]}
    for bad in ("${nope}", "${v/missing}", "${v/list/01}", "a ${s"):
        with pytest.raises(StepError):
            scope.substitute(bad)
    scope.save({"save": {"whole": "", "x": "/list/0/x"}}, {"list": [{"x": 5}]})
    assert scope.values["whole"] == {"list": [{"x": 5}]} and scope.values["x"] == 5
    with pytest.raises(StepError):
        scope.save({"save": {"y": "/nope"}}, {})
    assert redact("a sesame_sa_eyJ2.abc-_ b") == "a sesame_sa_<redacted> b"


def test_json_parameters_become_the_annotated_types() -> None:
    recipe = from_json({"type": "Pin", "parameters": {"length": 6}}, model.PasswordRecipe, "recipe")
    assert isinstance(recipe, model.PasswordRecipePin) and recipe.parameters.length == 6
    params = from_json({}, model.ItemShareParams, "params")
    assert params.one_time_only is False and params.expire_after is None
    with pytest.raises(ConversionError, match="no attribute"):
        from_json({"title": "t", "colour": "red"}, model.VaultCreateParams, "params")
    with pytest.raises(ConversionError, match="expected a int"):
        from_json("3", int, "limit")
    with pytest.raises(Inexpressible):
        from_json({"name": "a", "content": "%%"}, model.DocumentCreateParams, "doc")
