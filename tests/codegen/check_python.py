"""Checks the generated Python (python/sesame/types.py, errors.py, _calls.py) works.

Run by `make test` (tests/codegen/check.sh) with the repository root as argument. The
package that ships these files comes later; this imports them as a package of their own.
"""

import asyncio
import datetime
import pathlib
import pickle
import shutil
import sys
import tempfile


def main(root: pathlib.Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        package = pathlib.Path(tmp) / "sesame"
        package.mkdir()
        for name in ("types.py", "errors.py", "_calls.py"):
            shutil.copy(root / "python" / "sesame" / name, package / name)
        (package / "__init__.py").write_text("")
        sys.path.insert(0, tmp)
        from sesame import _calls, errors
        from sesame import types as t

        check_types(t)
        check_errors(errors)
        check_calls(_calls, t)
    print("generated Python: ok")


def check_types(t) -> None:  # type: ignore[no-untyped-def]
    field = t.ItemField(
        id="password", title="password", field_type=t.ItemFieldType.CONCEALED, value="s"
    )
    params = t.ItemCreateParams(
        category=t.ItemCategory.LOGIN, vault_id="v" * 26, title="Redis", fields=[field]
    )
    wire = params._to_wire()
    assert wire["vaultId"] == "v" * 26 and wire["fields"][0]["fieldType"] == "Concealed", wire
    assert "notes" not in wire, "absent optional fields are left out"
    assert t.ItemCreateParams._from_wire(wire) == params
    recipe = t.PasswordRecipePin(parameters=t.PasswordRecipePinInner(length=6))
    assert recipe._to_wire() == {"type": "Pin", "parameters": {"length": 6}}
    assert t._PasswordRecipe_from_wire(recipe._to_wire()) == recipe
    assert t.ItemCategory("NewerCategory") is t.ItemCategory.UNSUPPORTED
    event = t.AuditEvent._from_wire(
        {
            "seq": 1,
            "time": "2026-01-02T03:04:05Z",
            "principalId": None,
            "action": "account.init",
            "vaultId": None,
            "itemId": None,
            "outcome": "ok",
            "integrationName": "x",
            "integrationVersion": "1",
            "prevHash": "0" * 64,
            "hash": "1" * 64,
        }
    )
    assert event.time == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert event._to_wire()["time"] == "2026-01-02T03:04:05Z"
    resolved = t.ResolveAllResponse._from_wire(
        {
            "individualResponses": {
                "op://a/b/c": {"content": {"secret": "s", "itemId": "i", "vaultId": "v"}},
                "op://a/b/d": {
                    "error": {"code": "not_found", "message": "no", "resource": "field"}
                },
            }
        }
    )
    assert resolved.individual_responses["op://a/b/c"].content.secret == "s"
    assert resolved.individual_responses["op://a/b/d"].error.code == t.ErrorCode.NOT_FOUND


def check_errors(errors) -> None:  # type: ignore[no-untyped-def]
    err = errors.error_from_envelope(
        {"code": "not_found", "message": "no vault", "resource": "vault"}
    )
    assert isinstance(err, errors.NotFoundError) and isinstance(err, LookupError)
    assert (
        err.code == "not_found" and err.details == {"resource": "vault"} and str(err) == "no vault"
    )
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is errors.NotFoundError and again.details == err.details
    limited = errors.error_from_envelope(
        {"code": "rate_limited", "message": "slow down", "retryAfterSeconds": 3}
    )
    assert isinstance(limited, errors.RateLimitedError) and limited.retry_after == 3.0
    for code, builtin in [
        ("invalid_reference", ValueError),
        ("invalid_input", ValueError),
        ("permission_denied", PermissionError),
        ("network", ConnectionError),
    ]:
        assert isinstance(errors.error_from_envelope({"code": code, "message": "m"}), builtin)
    unknown = errors.error_from_envelope({"code": "from_the_future", "message": "m"})
    assert type(unknown) is errors.SesameError


ITEM = {
    "id": "i",
    "title": "t",
    "category": "Login",
    "vaultId": "v",
    "fields": [],
    "sections": [],
    "notes": "",
    "tags": [],
    "websites": [],
    "version": 1,
    "files": [],
    "createdAt": "2026-01-01T00:00:00Z",
    "updatedAt": "2026-01-01T00:00:00Z",
}


def check_calls(calls, t) -> None:  # type: ignore[no-untyped-def]
    sent = []

    class Invoker:
        async def invoke(self, name, parameters, data=None):  # type: ignore[no-untyped-def]
            sent.append((name, parameters, data))
            if name == "ItemsFilesRead":
                return None, b"content"
            if name == "ItemsFilesAttach":
                return ITEM, None
            return "s3cret", None

    client = _calls_client(calls, Invoker())
    assert asyncio.run(client.secrets.resolve("op://a/b/c")) == "s3cret"
    assert sent[-1] == ("SecretsResolve", {"secret_reference": "op://a/b/c"}, None)
    item = t.Item._from_wire(ITEM)
    params = t.FileCreateParams(name="a.txt", content=b"\x00\xff", section_id="s", field_id="f")
    asyncio.run(client.items.files.attach(item, params))
    name, parameters, data = sent[-1]
    assert name == "ItemsFilesAttach" and data == b"\x00\xff", sent[-1]
    assert parameters["file_params"] == {"name": "a.txt", "sectionId": "s", "fieldId": "f"}
    assert params.content == b"\x00\xff", "the caller's object is left as it was"
    attr = t.FileAttributes(id="f", name="a.txt", size=7)
    assert asyncio.run(client.items.files.read("v", "i", attr)) == b"content"
    assert sent[-1][1]["attr"] == {"id": "f", "name": "a.txt", "size": 7}


def _calls_client(calls, invoker):  # type: ignore[no-untyped-def]
    return calls.ClientCalls(invoker)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
