"""Files: attach, read, replace and delete with bytes, paths and file objects; streamed
downloads to paths and file objects; failures that leave nothing behind and name their
cause; a 200 MiB round trip in bounded memory."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pathlib
import stat
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from sesame import (
    Client,
    DocumentCreateParams,
    FileAttributes,
    FileCreateParams,
    Item,
    ItemCategory,
    ItemCreateParams,
    ItemSection,
    SyncClient,
    Vault,
    VaultCreateParams,
)
from sesame.errors import InvalidInputError, NotFoundError, SesameError

if TYPE_CHECKING:
    from conftest import Server

NAME, VERSION = "sesame-py-files", "1.0.0"
MIB = 1 << 20
# More than one 64 KiB chunk of the native streams, and not a multiple of it.
MEDIUM = 300 * 1024 + 7


def attachment(content: Any, name: str) -> FileCreateParams:
    return FileCreateParams(content=content, name=name, section_id="files", field_id=name)


def owner_only(path: pathlib.Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.fixture(scope="module")
async def vault(client: Client) -> AsyncIterator[Vault]:
    made = await client.vaults.create(VaultCreateParams(title=f"py-files-{uuid.uuid4().hex}"))
    yield made
    await client.vaults.delete(made.id)


@pytest.fixture
async def item(client: Client, vault: Vault) -> Item:
    return await client.items.create(
        ItemCreateParams(
            category=ItemCategory.LOGIN,
            vault_id=vault.id,
            title=f"files-{uuid.uuid4().hex}",
            sections=[ItemSection(id="files", title="Files")],
        )
    )


@pytest.fixture
def medium(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "medium.bin"
    path.write_bytes(os.urandom(MEDIUM))
    return path


def attributes(item: Item, name: str) -> FileAttributes:
    (found,) = [f.attributes for f in item.files if f.attributes.name == name]
    return found


# --- Uploads -------------------------------------------------------------------------


async def test_attach_bytes_paths_and_file_objects(
    client: Client, vault: Vault, item: Item, medium: pathlib.Path
) -> None:
    raw = b"\x00\x01 not text \xff\xfe"
    partly_read = io.BytesIO(b"skip:" + os.urandom(1000))
    partly_read.seek(5)  # content starts where the file object stands
    item = await client.items.files.attach(item, attachment(raw, "raw.bin"))
    item = await client.items.files.attach(item, attachment(bytearray(raw), "bytearray.bin"))
    item = await client.items.files.attach(item, attachment(medium, "path.bin"))
    item = await client.items.files.attach(item, attachment(partly_read, "object.bin"))
    with medium.open("rb") as opened:
        item = await client.items.files.attach(item, attachment(opened, "opened.bin"))

    expected = {
        "raw.bin": raw,
        "bytearray.bin": raw,
        "path.bin": medium.read_bytes(),
        "object.bin": partly_read.getvalue()[5:],
        "opened.bin": medium.read_bytes(),
    }
    assert {f.attributes.name: f.attributes.size for f in item.files} == {
        name: len(content) for name, content in expected.items()
    }
    for name, content in expected.items():
        assert await client.items.files.read(vault.id, item.id, attributes(item, name)) == content
        ref = f"op://{vault.id}/{item.id}/files/{name}"
        assert await client.secrets.resolve_bytes(ref) == content


async def test_create_an_item_with_files(
    client: Client, vault: Vault, medium: pathlib.Path
) -> None:
    item = await client.items.create(
        ItemCreateParams(
            category=ItemCategory.LOGIN,
            vault_id=vault.id,
            title=f"with-files-{uuid.uuid4().hex}",
            sections=[ItemSection(id="files", title="Files")],
            files=[attachment(b"inline", "inline.txt"), attachment(medium, "medium.bin")],
        )
    )
    assert await client.items.files.read(vault.id, item.id, attributes(item, "inline.txt")) == (
        b"inline"
    )
    read = await client.items.files.read(vault.id, item.id, attributes(item, "medium.bin"))
    assert read == medium.read_bytes()


async def test_unusable_content_is_refused(
    client: Client, item: Item, tmp_path: pathlib.Path
) -> None:
    class Unseekable:
        def read(self, size: int = -1) -> bytes:
            return b""

    for content, cause in (
        ("looks like a secret or a path", None),
        (12345, None),
        (Unseekable(), AttributeError),
        (tmp_path / "missing.bin", None),
    ):
        with pytest.raises(InvalidInputError) as refused:
            await client.items.files.attach(item, attachment(content, "refused.bin"))
        assert refused.value.details == {"argument": "content"}
        assert "looks like a secret" not in refused.value.message
        if cause is not None:
            assert isinstance(refused.value.__cause__, cause)
    assert (await client.items.get(item.vault_id, item.id)).files == []


# --- Downloads -----------------------------------------------------------------------


async def test_read_to_a_path(
    client: Client, vault: Vault, item: Item, medium: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    item = await client.items.files.attach(item, attachment(medium, "medium.bin"))
    file = attributes(item, "medium.bin")
    fresh = tmp_path / "fresh.bin"
    await client.items.files.read_to(vault.id, item.id, file, fresh)
    assert fresh.read_bytes() == medium.read_bytes() and owner_only(fresh)

    # An existing file is replaced whole, and owner-only too.
    existing = tmp_path / "existing.bin"
    existing.write_bytes(b"old content")
    existing.chmod(0o644)
    await client.items.files.read_to(vault.id, item.id, file, str(existing))
    assert existing.read_bytes() == medium.read_bytes() and owner_only(existing)

    resolved = tmp_path / "resolved.bin"
    await client.secrets.resolve_bytes_to(f"op://{vault.id}/{item.id}/medium.bin", resolved)
    assert resolved.read_bytes() == medium.read_bytes() and owner_only(resolved)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "existing.bin",
        "fresh.bin",
        "medium.bin",
        "resolved.bin",
    ]


async def test_read_to_file_objects(
    client: Client, vault: Vault, item: Item, medium: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    item = await client.items.files.attach(item, attachment(medium, "medium.bin"))
    file = attributes(item, "medium.bin")
    buffer = io.BytesIO()
    await client.items.files.read_to(vault.id, item.id, file, buffer)
    assert buffer.getvalue() == medium.read_bytes()

    with open(tmp_path / "raw.bin", "wb", buffering=0) as raw:
        await client.items.files.read_to(vault.id, item.id, file, raw)
    assert (tmp_path / "raw.bin").read_bytes() == medium.read_bytes()

    with open(tmp_path / "appended.bin", "wb") as appended:
        appended.write(b"header:")
        await client.secrets.resolve_bytes_to(f"op://{vault.id}/{item.id}/medium.bin", appended)
    assert (tmp_path / "appended.bin").read_bytes() == b"header:" + medium.read_bytes()


class ShortReader(io.BytesIO):
    """Returns fewer bytes than asked, as pipes and sockets may."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(999)


class ShortWriter(io.BytesIO):
    """Takes fewer bytes than offered and says so, as raw files may."""

    def write(self, data: Any) -> int:
        return super().write(bytes(data)[:999])


class AppendingWriter:
    """A duck-typed sink whose write() returns nothing: all of it was taken."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.chunks.append(bytes(data))


async def test_short_reads_and_writes_lose_nothing(
    client: Client, vault: Vault, item: Item, medium: pathlib.Path
) -> None:
    content = medium.read_bytes()
    item = await client.items.files.attach(item, attachment(ShortReader(content), "short.bin"))
    file = attributes(item, "short.bin")
    assert file.size == MEDIUM
    assert await client.items.files.read(vault.id, item.id, file) == content
    short = ShortWriter()
    await client.items.files.read_to(vault.id, item.id, file, short)
    assert short.getvalue() == content
    appending = AppendingWriter()
    await client.items.files.read_to(vault.id, item.id, file, appending)  # type: ignore[arg-type]
    assert b"".join(appending.chunks) == content


async def test_a_destination_that_cannot_be_written_leaves_nothing(
    client: Client, vault: Vault, item: Item, tmp_path: pathlib.Path
) -> None:
    item = await client.items.files.attach(item, attachment(b"content", "small.bin"))
    file = attributes(item, "small.bin")
    directory = tmp_path / "directory"
    directory.mkdir()
    (directory / "kept.txt").write_bytes(b"kept")
    for destination in (directory, tmp_path / "no-such-directory" / "file.bin"):
        with pytest.raises(InvalidInputError) as refused:
            await client.items.files.read_to(vault.id, item.id, file, destination)
        assert refused.value.details == {"argument": "destination"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["directory"]
    assert [p.name for p in directory.iterdir()] == ["kept.txt"]
    assert (directory / "kept.txt").read_bytes() == b"kept"


async def test_a_failed_download_keeps_the_previous_file(
    client: Client, vault: Vault, item: Item, tmp_path: pathlib.Path
) -> None:
    item = await client.items.files.attach(item, attachment(b"gone soon", "gone.bin"))
    file = attributes(item, "gone.bin")
    await client.items.files.delete(item, "files", "gone.bin")
    previous = tmp_path / "previous.bin"
    previous.write_bytes(b"previous content")
    with pytest.raises(NotFoundError) as missing:
        await client.items.files.read_to(vault.id, item.id, file, previous)
    assert missing.value.details["resource"] == "file"
    assert previous.read_bytes() == b"previous content"
    assert [p.name for p in tmp_path.iterdir()] == ["previous.bin"]


# --- A caller's file object that fails -----------------------------------------------


class FailingReader(io.BytesIO):
    def __init__(self, failure: Exception) -> None:
        super().__init__(b"x" * MEDIUM)
        self.failure = failure

    def read(self, size: int | None = -1) -> bytes:
        raise self.failure


class FailingWriter(io.BytesIO):
    def __init__(self, failure: Exception) -> None:
        super().__init__()
        self.failure = failure

    def write(self, data: Any) -> int:
        raise self.failure


async def test_a_file_object_failure_is_the_cause(client: Client, vault: Vault, item: Item) -> None:
    failure = OSError(5, "the disk went away")
    with pytest.raises(SesameError) as upload:
        await client.items.files.attach(item, attachment(FailingReader(failure), "never.bin"))
    assert upload.value.__cause__ is failure
    assert "the disk went away" in upload.value.message

    item = await client.items.files.attach(item, attachment(b"content", "small.bin"))
    failure = OSError(28, "no space left")
    with pytest.raises(SesameError) as download:
        await client.items.files.read_to(
            vault.id, item.id, attributes(item, "small.bin"), FailingWriter(failure)
        )
    assert download.value.__cause__ is failure

    # A text-mode file object: the TypeError it causes is named.
    with pytest.raises(SesameError) as text:
        await client.items.files.attach(item, attachment(io.StringIO("text"), "text.bin"))
    assert isinstance(text.value.__cause__, TypeError)
    with pytest.raises(SesameError) as text_sink:
        await client.items.files.read_to(
            vault.id,
            item.id,
            attributes(item, "small.bin"),
            io.StringIO(),  # type: ignore[arg-type]
        )
    assert isinstance(text_sink.value.__cause__, TypeError)
    assert [f.attributes.name for f in (await client.items.get(vault.id, item.id)).files] == [
        "small.bin"
    ]


def test_a_file_object_failure_is_the_cause_sync(
    sync_client: SyncClient, vault: Vault, tmp_path: pathlib.Path
) -> None:
    item = sync_client.items.create(
        ItemCreateParams(
            category=ItemCategory.LOGIN,
            vault_id=vault.id,
            title=f"sync-failures-{uuid.uuid4().hex}",
            sections=[ItemSection(id="files", title="Files")],
        )
    )
    failure = ValueError("the caller's own bug")
    with pytest.raises(SesameError) as upload:
        sync_client.items.files.attach(item, attachment(FailingReader(failure), "never.bin"))
    assert upload.value.__cause__ is failure
    item = sync_client.items.files.attach(item, attachment(b"content", "small.bin"))
    with pytest.raises(SesameError) as download:
        sync_client.items.files.read_to(
            vault.id, item.id, attributes(item, "small.bin"), FailingWriter(failure)
        )
    assert download.value.__cause__ is failure


# --- Documents and deletion ----------------------------------------------------------


async def test_replace_document(
    client: Client, vault: Vault, item: Item, medium: pathlib.Path
) -> None:
    document = await client.items.create(
        ItemCreateParams(
            category=ItemCategory.DOCUMENT,
            vault_id=vault.id,
            title=f"document-{uuid.uuid4().hex}",
            document=DocumentCreateParams(content=b"first version", name="v1.txt"),
        )
    )
    assert document.document is not None and document.document.size == 13
    document = await client.items.files.replace_document(
        document, DocumentCreateParams(content=medium, name="v2.bin")
    )
    assert document.document is not None
    assert (document.document.name, document.document.size) == ("v2.bin", MEDIUM)
    assert await client.items.files.read(vault.id, document.id, document.document) == (
        medium.read_bytes()
    )
    document = await client.items.files.replace_document(
        document, DocumentCreateParams(content=io.BytesIO(b"third"), name="v3.txt")
    )
    assert document.document is not None
    assert await client.items.files.read(vault.id, document.id, document.document) == b"third"
    assert await client.secrets.resolve_bytes(f"op://{vault.id}/{document.id}/v3.txt") == b"third"

    with pytest.raises(InvalidInputError) as not_a_document:
        await client.items.files.replace_document(
            item, DocumentCreateParams(content=b"x", name="x.txt")
        )
    assert not_a_document.value.details == {"argument": "item"}


async def test_delete_a_file(client: Client, vault: Vault, item: Item) -> None:
    item = await client.items.files.attach(item, attachment(b"one", "one.txt"))
    item = await client.items.files.attach(item, attachment(b"two", "two.txt"))
    gone = attributes(item, "one.txt")
    item = await client.items.files.delete(item, "files", "one.txt")
    assert [f.attributes.name for f in item.files] == ["two.txt"]
    with pytest.raises(NotFoundError) as missing:
        await client.items.files.read(vault.id, item.id, gone)
    assert missing.value.details["resource"] == "file"
    assert await client.items.files.read(vault.id, item.id, attributes(item, "two.txt")) == b"two"


def test_sync_client_files(
    sync_client: SyncClient, vault: Vault, medium: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    item = sync_client.items.create(
        ItemCreateParams(
            category=ItemCategory.LOGIN,
            vault_id=vault.id,
            title=f"sync-files-{uuid.uuid4().hex}",
            sections=[ItemSection(id="files", title="Files")],
        )
    )
    item = sync_client.items.files.attach(item, attachment(medium, "medium.bin"))
    file = attributes(item, "medium.bin")
    assert sync_client.items.files.read(vault.id, item.id, file) == medium.read_bytes()
    sync_client.items.files.read_to(vault.id, item.id, file, tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == medium.read_bytes()
    assert owner_only(tmp_path / "out.bin")
    buffer = io.BytesIO()
    sync_client.secrets.resolve_bytes_to(f"op://{vault.id}/{item.id}/medium.bin", buffer)
    assert buffer.getvalue() == medium.read_bytes()
    item = sync_client.items.files.delete(item, "files", "medium.bin")
    assert item.files == []


# --- A large file in bounded memory --------------------------------------------------

LARGE = 200 * MIB
# Peak RSS may grow by this much at most, whatever the file's size.
MEMORY_BOUND = 100 * MIB

# Runs alone in a fresh interpreter, so that its peak RSS measures only the round trip.
ROUND_TRIP = textwrap.dedent(
    """
    import asyncio, json, os, pathlib, resource, sys, uuid
    from sesame import (Client, FileCreateParams, ItemCategory, ItemCreateParams,
                        ItemSection, VaultCreateParams)

    def peak() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    async def main(url: str, source: str, destination: str) -> None:
        token = os.environ["SESAME_TEST_TOKEN"]
        async with await Client.authenticate(
            token, "sesame-py-files", "1.0.0", server_url=url
        ) as client:
            title = f"py-large-{uuid.uuid4().hex}"
            vault = await client.vaults.create(VaultCreateParams(title=title))
            try:
                item = await client.items.create(ItemCreateParams(
                    category=ItemCategory.LOGIN, vault_id=vault.id, title="large",
                    sections=[ItemSection(id="files", title="Files")]))
                baseline = peak()
                item = await client.items.files.attach(item, FileCreateParams(
                    content=pathlib.Path(source), name="large.bin", section_id="files",
                    field_id="large"))
                uploaded = peak()
                await client.items.files.read_to(
                    vault.id, item.id, item.files[0].attributes, pathlib.Path(destination))
                downloaded = peak()
            finally:
                await client.vaults.delete(vault.id)
        print(json.dumps({"size": item.files[0].attributes.size, "baseline": baseline,
                          "uploaded": uploaded, "downloaded": downloaded}))

    asyncio.run(main(*sys.argv[1:]))
    """
)


def sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def test_large_file_round_trip_in_bounded_memory(server: Server, tmp_path: pathlib.Path) -> None:
    source, destination = tmp_path / "large.bin", tmp_path / "downloaded.bin"
    digest = hashlib.sha256()
    with source.open("wb") as file:
        for _ in range(LARGE // MIB):
            chunk = os.urandom(MIB)
            digest.update(chunk)
            file.write(chunk)
    try:
        done = subprocess.run(
            [sys.executable, "-c", ROUND_TRIP, server.url, str(source), str(destination)],
            env={**os.environ, "SESAME_TEST_TOKEN": server.owner_token},
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert done.returncode == 0, done.stderr
        measured = json.loads(done.stdout)
        assert measured["size"] == LARGE
        growth = max(measured["uploaded"], measured["downloaded"]) - measured["baseline"]
        assert growth < MEMORY_BOUND, f"peak RSS grew by {growth / MIB:.0f} MiB"
        assert owner_only(destination)
        assert destination.stat().st_size == LARGE
        assert sha256(destination) == digest.hexdigest()
    finally:
        # 400 MiB of temporary files: do not leave them for pytest's retention.
        source.unlink(missing_ok=True)
        destination.unlink(missing_ok=True)
