"""Every public call of the async client against the real server, the synchronous client
for a representative subset, and every exception class raised by a real condition."""

from __future__ import annotations

import copy
import datetime
import http.server
import io
import itertools
import json
import pathlib
import pickle
import socket
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import sesame
from sesame import (
    AllowedRecipientType,
    AllowedType,
    AuditEvent,
    AutofillBehavior,
    Client,
    DocumentCreateParams,
    FileCreateParams,
    ItemCategory,
    ItemCreateParams,
    ItemField,
    ItemFieldType,
    ItemListFilterByStateInner,
    ItemListFilters,
    ItemSection,
    ItemShareDuration,
    ItemShareParams,
    ItemState,
    PasswordRecipeMemorableInner,
    PasswordRecipePinInner,
    PasswordRecipeRandomInner,
    SeparatorType,
    SyncClient,
    Token,
    VaultCreateParams,
    VaultGetParams,
    VaultUpdateParams,
    Website,
    WordListType,
)
from sesame.errors import (
    AmbiguousError,
    AuthenticationError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    InvalidReferenceError,
    InvalidTokenError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RateLimitExceededException,
    ServerError,
    SesameError,
)
from sesame.shares import SyncShares
from sesame.types import (
    ItemListFilterByState,
    PasswordRecipeMemorable,
    PasswordRecipePin,
    PasswordRecipeRandom,
    ValidRecipientDomain,
    ValidRecipientDomainInner,
    ValidRecipientEmail,
    ValidRecipientEmailInner,
    VaultListParams,
)

if TYPE_CHECKING:
    from conftest import Server

NAME, VERSION = "sesame-py-api", "1.0.0"
# Reading items always includes their concealed values in Sesame.
READ = sesame.READ_ITEMS | sesame.REVEAL_ITEM_PASSWORD


def unique(prefix: str) -> str:
    # The session server is shared with other modules: names must not collide.
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def login(vault_id: str, title: str, password: str) -> ItemCreateParams:
    return ItemCreateParams(
        category=ItemCategory.LOGIN,
        vault_id=vault_id,
        title=title,
        fields=[
            ItemField(
                id="password",
                title="password",
                field_type=ItemFieldType.CONCEALED,
                value=password,
            )
        ],
    )


def service_account(server: Server, *grants: str) -> tuple[str, str]:
    """A new service account with `VAULT:PERMS` grants: its id and token."""
    args = ["service-account", "create", unique("py-sa"), "--format", "json"]
    for grant in grants:
        args += ["--vault", grant]
    made = json.loads(server.cli(*args))
    return made["id"], made["token"]


def check_error(error: SesameError, *secrets: str) -> None:
    """What every raised error must be: its code's class, a message, picklable with
    its facts, and silent about every secret."""
    assert sesame.errors.ERRORS_BY_CODE[error.code] is type(error)
    assert error.message and str(error) == error.message
    rebuilt = pickle.loads(pickle.dumps(error))
    assert type(rebuilt) is type(error)
    assert (rebuilt.code, rebuilt.message, rebuilt.details) == (
        error.code,
        error.message,
        error.details,
    )
    for secret in secrets:
        assert secret not in str(error)
        assert secret not in repr(error)
        assert secret not in repr(error.details)


@pytest.fixture(scope="module")
async def vault(client: Client) -> AsyncIterator[sesame.Vault]:
    made = await client.vaults.create(VaultCreateParams(title=unique("py-api")))
    yield made
    await client.vaults.delete(made.id)


# --- Porting: the module layout and names of onepassword-sdk ---------------------------


def test_onepassword_module_layout() -> None:
    from sesame.client import Client as PortedClient
    from sesame.defaults import DEFAULT_INTEGRATION_NAME
    from sesame.errors import NotFoundError as PortedNotFound
    from sesame.errors import RateLimitExceededException as PortedRateLimited
    from sesame.items import Items
    from sesame.items_files import ItemsFiles
    from sesame.items_shares import ItemsShares
    from sesame.secrets import Secrets
    from sesame.sync import Client as PortedSyncClient
    from sesame.types import ItemCreateParams as PortedParams
    from sesame.vaults import Vaults

    assert PortedClient is Client and PortedSyncClient is SyncClient
    assert PortedParams is ItemCreateParams and PortedNotFound is NotFoundError
    assert PortedRateLimited is RateLimitedError
    assert DEFAULT_INTEGRATION_NAME
    assert (Secrets, Items, ItemsFiles, ItemsShares, Vaults) == (
        sesame.Secrets,
        sesame.Items,
        sesame.ItemsFiles,
        sesame.ItemsShares,
        sesame.Vaults,
    )
    for name in sesame.__all__:
        assert hasattr(sesame, name), name


async def test_client_groups_are_the_exported_classes(client: Client) -> None:
    assert isinstance(client.secrets, sesame.Secrets)
    assert isinstance(client.items, sesame.Items)
    assert isinstance(client.items.files, sesame.ItemsFiles)
    assert isinstance(client.items.shares, sesame.ItemsShares)
    assert isinstance(client.vaults, sesame.Vaults)
    assert isinstance(client.shares, sesame.Shares)
    assert isinstance(client.events, sesame.Events)


# --- Secrets -------------------------------------------------------------------------


def test_offline_secrets_helpers() -> None:
    random = sesame.Secrets.generate_password(
        PasswordRecipeRandom(
            PasswordRecipeRandomInner(include_digits=True, include_symbols=True, length=30)
        )
    )
    assert len(random.password) == 30 and random.entropy_bits > 100
    assert any(c.isdigit() for c in random.password)
    pin = sesame.Secrets.generate_password(PasswordRecipePin(PasswordRecipePinInner(length=6)))
    assert len(pin.password) == 6 and pin.password.isdigit()
    words = sesame.Secrets.generate_password(
        PasswordRecipeMemorable(
            PasswordRecipeMemorableInner(
                capitalize=False,
                separator_type=SeparatorType.HYPHENS,
                word_count=4,
                word_list_type=WordListType.FULLWORDS,
            )
        )
    )
    assert len(words.password.split("-")) == 4
    code = sesame.Secrets.generate_totp_code("JBSWY3DPEHPK3PXP")
    assert len(code.code) == 6 and code.code.isdigit()
    assert sesame.Secrets.validate_secret_reference("op://vault/item/field") is None


async def test_resolve_variants(client: Client, vault: sesame.Vault) -> None:
    item = await client.items.create(login(vault.id, unique("resolve"), "pa55-resolve"))
    ref = f"op://{vault.id}/{item.id}/password"
    assert await client.secrets.resolve(ref) == "pa55-resolve"
    assert await client.secrets.resolve_bytes(ref) == b"pa55-resolve"
    sink = io.BytesIO()
    await client.secrets.resolve_bytes_to(ref, sink)
    assert sink.getvalue() == b"pa55-resolve"
    missing = f"op://{vault.id}/{item.id}/nothing"
    answer = await client.secrets.resolve_all([ref, missing, "not-a-reference"])
    found, absent, malformed = (
        answer.individual_responses[key] for key in (ref, missing, "not-a-reference")
    )
    assert found.content is not None and found.error is None
    assert (found.content.secret, found.content.item_id) == ("pa55-resolve", item.id)
    assert absent.error is not None and absent.content is None
    assert absent.error.code is sesame.ErrorCode.NOT_FOUND
    assert malformed.error is not None
    assert malformed.error.code is sesame.ErrorCode.INVALID_REFERENCE


# --- Items ---------------------------------------------------------------------------


async def test_item_round_trip(client: Client, vault: sesame.Vault) -> None:
    title = unique("round-trip")
    created = await client.items.create(
        ItemCreateParams(
            category=ItemCategory.LOGIN,
            vault_id=vault.id,
            title=title,
            fields=[
                ItemField(
                    id="username", title="username", field_type=ItemFieldType.TEXT, value="app"
                ),
                ItemField(
                    id="password",
                    title="password",
                    field_type=ItemFieldType.CONCEALED,
                    value="first-pass",
                ),
                ItemField(
                    id="otp",
                    title="one-time password",
                    field_type=ItemFieldType.TOTP,
                    value="JBSWY3DPEHPK3PXP",
                ),
                ItemField(
                    id="host",
                    title="host",
                    field_type=ItemFieldType.TEXT,
                    value="db.internal",
                    section_id="admin",
                ),
            ],
            sections=[ItemSection(id="admin", title="Admin")],
            websites=[
                Website(
                    url="https://example.com",
                    label="website",
                    autofill_behavior=AutofillBehavior.NEVER,
                )
            ],
            tags=["py", "round-trip"],
            notes="created by test_api",
        )
    )
    assert (created.title, created.vault_id, created.version) == (title, vault.id, 1)
    assert created.tags == ["py", "round-trip"] and created.notes == "created by test_api"
    assert created.websites[0].autofill_behavior is AutofillBehavior.NEVER
    assert created.created_at.tzinfo is not None

    fetched = await client.items.get(vault.id, created.id)
    assert fetched.id == created.id and fetched.fields == created.fields
    assert fetched.sections == created.sections and fetched.websites == created.websites
    # Names resolve like ids; the section can be named by its title.
    assert await client.secrets.resolve(f"op://{vault.title}/{title}/password") == "first-pass"
    assert await client.secrets.resolve(f"op://{vault.id}/{title}/Admin/host") == "db.internal"
    code = await client.secrets.resolve(f"op://{vault.id}/{created.id}/otp?attribute=otp")
    assert len(code) == 6 and code.isdigit()

    fetched.title = title + "-renamed"
    fetched.fields[1].value = "second-pass"
    fetched.tags.append("edited")
    put = await client.items.put(fetched)
    assert put.version == 2 and put.title == title + "-renamed"
    assert await client.secrets.resolve(f"op://{vault.id}/{created.id}/password") == "second-pass"

    listed = {overview.id: overview for overview in await client.items.list(vault.id)}
    assert listed[created.id].title == title + "-renamed"
    assert listed[created.id].tags == ["py", "round-trip", "edited"]
    assert listed[created.id].state is ItemState.ACTIVE

    await client.items.archive(vault.id, created.id)
    assert created.id not in {o.id for o in await client.items.list(vault.id)}
    archived = await client.items.list(
        vault.id,
        ItemListFilters(
            state=ItemListFilterByState(ItemListFilterByStateInner(active=False, archived=True))
        ),
    )
    assert [(o.id, o.state) for o in archived if o.id == created.id] == [
        (created.id, ItemState.ARCHIVED)
    ]
    with pytest.raises(NotFoundError):
        await client.secrets.resolve(f"op://{vault.id}/{created.id}/password")

    await client.items.delete(vault.id, created.id)
    with pytest.raises(NotFoundError) as gone:
        await client.items.get(vault.id, created.id)
    assert gone.value.details["resource"] == "item"
    everything = await client.items.list(
        vault.id,
        ItemListFilters(
            state=ItemListFilterByState(ItemListFilterByStateInner(active=True, archived=True))
        ),
    )
    assert created.id not in {o.id for o in everything}


async def test_batch_calls_answer_per_item(client: Client, vault: sesame.Vault) -> None:
    prefix = unique("batch")
    params = [login(vault.id, f"{prefix}-{i}", f"batch-secret-{i}") for i in range(3)]
    # An item for another vault fails alone; the others are created.
    params.append(login("a" * 26, f"{prefix}-elsewhere", "never-stored"))
    created = await client.items.create_all(vault.id, params)
    assert [r.error is None for r in created.individual_responses] == [True, True, True, False]
    failed = created.individual_responses[3].error
    assert failed is not None and failed.code is sesame.ErrorCode.INVALID_INPUT
    ids = [r.content.id for r in created.individual_responses if r.content is not None]

    missing = "z" * 26
    got = await client.items.get_all(vault.id, [*ids, missing])
    titles = [r.content.title if r.content else None for r in got.individual_responses]
    assert titles == [f"{prefix}-0", f"{prefix}-1", f"{prefix}-2", None]
    error = got.individual_responses[3].error
    assert error is not None and error.code is sesame.ErrorCode.NOT_FOUND

    deleted = await client.items.delete_all(vault.id, [ids[0], missing])
    assert deleted.individual_responses[ids[0]].error is None
    error = deleted.individual_responses[missing].error
    assert error is not None and error.code is sesame.ErrorCode.NOT_FOUND
    remaining = {o.id for o in await client.items.list(vault.id)}
    assert ids[0] not in remaining and {ids[1], ids[2]} <= remaining


async def test_list_filters_run_in_the_client(client: Client) -> None:
    own = await client.vaults.create(VaultCreateParams(title=unique("py-filters")))
    try:
        for title, tag, category in (
            ("Alpha Login", "blue", ItemCategory.LOGIN),
            ("beta note", "BLUE", ItemCategory.SECURENOTE),
            ("Gamma", "red", ItemCategory.LOGIN),
        ):
            await client.items.create(
                ItemCreateParams(category=category, vault_id=own.id, title=title, tags=[tag])
            )

        async def titles(filters: ItemListFilters) -> list[str]:
            return sorted(o.title for o in await client.items.list(own.id, filters))

        assert await titles(ItemListFilters(tag="Blue")) == ["Alpha Login", "beta note"]
        assert await titles(ItemListFilters(title_contains="LOGIN")) == ["Alpha Login"]
        assert await titles(ItemListFilters(category=ItemCategory.SECURENOTE)) == ["beta note"]
    finally:
        await client.vaults.delete(own.id)


async def test_timestamps_accept_datetime_and_str(client: Client, vault: sesame.Vault) -> None:
    item = await client.items.create(login(vault.id, unique("stamps"), "stamp-secret"))
    original = item.created_at
    # A str, as the server wrote it.
    item.created_at = original.isoformat()  # type: ignore[assignment]
    item.notes = "str"
    item = await client.items.put(item)
    assert item.created_at == original and item.version == 2
    # A naive datetime is UTC.
    item.created_at = original.astimezone(datetime.UTC).replace(tzinfo=None)
    item.updated_at = datetime.datetime.now(datetime.UTC)
    item.notes = "naive"
    item = await client.items.put(item)
    assert item.created_at == original and item.version == 3 and item.notes == "naive"


async def test_files_round_trip(
    client: Client, vault: sesame.Vault, tmp_path: pathlib.Path
) -> None:
    # The files group is covered in depth by test_files.py; each call once here.
    item = await client.items.create(
        ItemCreateParams(
            category=ItemCategory.LOGIN,
            vault_id=vault.id,
            title=unique("files"),
            sections=[ItemSection(id="files", title="Files")],
        )
    )
    item = await client.items.files.attach(
        item,
        FileCreateParams(content=b"\x00cert\xff", name="ca.pem", section_id="files", field_id="ca"),
    )
    attributes = item.files[0].attributes
    assert (attributes.name, attributes.size) == ("ca.pem", 6)
    assert await client.items.files.read(vault.id, item.id, attributes) == b"\x00cert\xff"
    await client.items.files.read_to(vault.id, item.id, attributes, tmp_path / "ca.pem")
    assert (tmp_path / "ca.pem").read_bytes() == b"\x00cert\xff"
    item = await client.items.files.delete(item, "files", "ca")
    assert item.files == []

    document = await client.items.create(
        ItemCreateParams(
            category=ItemCategory.DOCUMENT,
            vault_id=vault.id,
            title=unique("document"),
            document=DocumentCreateParams(content=b"v1", name="v1.txt"),
        )
    )
    document = await client.items.files.replace_document(
        document, DocumentCreateParams(content=b"version 2", name="v2.txt")
    )
    assert document.document is not None and document.document.name == "v2.txt"
    assert await client.items.files.read(vault.id, document.id, document.document) == b"version 2"


# --- Vaults --------------------------------------------------------------------------


async def test_vault_lifecycle(client: Client) -> None:
    title = unique("py-vault")
    made = await client.vaults.create(VaultCreateParams(title=title, description="first"))
    assert (made.title, made.description, made.active_item_count) == (title, "first", 0)
    assert made.vault_type is sesame.VaultType.USERCREATED
    try:
        assert title in {v.title for v in await client.vaults.list()}
        detailed = await client.vaults.list(VaultListParams(decrypt_details=True))
        assert [v.description for v in detailed if v.id == made.id] == ["first"]
        overview = await client.vaults.get_overview(made.id)
        assert (overview.title, overview.description) == (title, "first")
        assert overview.created_at.tzinfo is not None

        updated = await client.vaults.update(
            made.id, VaultUpdateParams(title=title + "-renamed", description="second")
        )
        assert (updated.title, updated.description) == (title + "-renamed", "second")
        assert updated.attribute_version == made.attribute_version + 1
        plain = await client.vaults.get(made.id)
        assert plain.title == title + "-renamed" and plain.access is None
        with_access = await client.vaults.get(made.id, VaultGetParams(accessors=True))
        assert with_access.access is not None and len(with_access.access) == 1
        assert with_access.access[0].permissions & READ == READ
    finally:
        await client.vaults.delete(made.id)
    with pytest.raises(NotFoundError) as gone:
        await client.vaults.get_overview(made.id)
    assert gone.value.details["resource"] == "vault"
    assert made.id not in {v.id for v in await client.vaults.list()}


async def test_permissions_take_effect_for_a_second_principal(
    client: Client, server: Server
) -> None:
    own = await client.vaults.create(VaultCreateParams(title=unique("py-perms")))
    await client.items.create(login(own.id, "db", "granted-secret"))
    account, token = service_account(server)
    ref = f"op://{own.id}/db/password"
    try:
        async with await Client.authenticate(token, NAME, VERSION, server_url=server.url) as robot:
            assert own.id not in {v.id for v in await robot.vaults.list()}
            with pytest.raises(NotFoundError):
                await robot.secrets.resolve(ref)

            access = await client.vaults.grant_permissions(own.id, account, READ)
            assert (access.accessor_uuid, access.vault_uuid) == (account, own.id)
            assert access.permissions == READ
            assert await robot.secrets.resolve(ref) == "granted-secret"
            assert (await robot.vaults.get_overview(own.id)).title == own.title
            with pytest.raises(PermissionDeniedError):
                await robot.items.create(login(own.id, "robot", "x"))

            access = await client.vaults.update_permissions(
                own.id, account, READ | sesame.CREATE_ITEMS
            )
            assert access.permissions == READ | sesame.CREATE_ITEMS
            made = await robot.items.create(login(own.id, "robot", "made-by-robot"))
            assert await client.secrets.resolve(f"op://{own.id}/{made.id}/password") == (
                "made-by-robot"
            )
            listed = await client.vaults.get(own.id, VaultGetParams(accessors=True))
            assert listed.access is not None
            assert {a.accessor_uuid: a.permissions for a in listed.access}[account] == (
                READ | sesame.CREATE_ITEMS
            )

            await client.vaults.revoke_permissions(own.id, account)
            with pytest.raises(NotFoundError):
                await robot.secrets.resolve(ref)
            assert own.id not in {v.id for v in await robot.vaults.list()}

            # Leaving gives up a grant without any permission.
            await client.vaults.grant_permissions(own.id, account, READ)
            assert await robot.secrets.resolve(ref) == "granted-secret"
            await robot.vaults.leave(own.id)
            with pytest.raises(NotFoundError):
                await robot.secrets.resolve(ref)
            after = await client.vaults.get(own.id, VaultGetParams(accessors=True))
            assert after.access is not None
            assert account not in {a.accessor_uuid for a in after.access}
    finally:
        await client.vaults.delete(own.id)
        server.cli("service-account", "revoke", account)


# --- Shares --------------------------------------------------------------------------


def share_id(link: str) -> str:
    return urlsplit(link).path.rsplit("/", 1)[-1]


async def test_shares(client: Client, vault: sesame.Vault) -> None:
    item = await client.items.create(login(vault.id, unique("shared"), "shared-secret"))
    policy = await client.items.shares.get_account_policy(vault.id, item.id)
    assert AllowedType.PUBLIC in policy.allowed_types

    link = await client.items.shares.create(
        item, policy, ItemShareParams(one_time_only=False, expire_after=ItemShareDuration.ONEHOUR)
    )
    once = await client.items.shares.create(item, policy, ItemShareParams(one_time_only=True))
    listed = {share.id: share for share in await client.items.shares.list()}
    assert listed[share_id(link)].item_id == item.id and listed[share_id(link)].max_views is None
    assert listed[share_id(once)].max_views == 1

    # Opening needs no client: the static call, and the same through a client.
    opened = await sesame.Shares.open(link)
    assert opened.title == item.title
    assert [(f.id, f.value) for f in opened.fields] == [("password", "shared-secret")]
    assert (await client.shares.open(link)).fields[0].value == "shared-secret"
    assert (await client.shares.open(once)).views_left == 0
    with pytest.raises(NotFoundError) as used:
        await sesame.Shares.open(once)
    assert used.value.details["resource"] == "share"

    await client.items.shares.revoke(share_id(link))
    with pytest.raises(NotFoundError):
        await sesame.Shares.open(link)
    revoked = {share.id: share for share in await client.items.shares.list()}
    assert revoked[share_id(link)].revoked_at is not None
    assert revoked[share_id(link)].views == 2


async def test_share_policy_and_recipients(client: Client, vault: sesame.Vault) -> None:
    item = await client.items.create(login(vault.id, unique("policy"), "policy-secret"))
    policy = await client.items.shares.get_account_policy(vault.id, item.id)
    assert await client.items.shares.validate_recipients(policy, []) == []
    # The server has no SMTP, so the account allows only public links.
    with pytest.raises(InvalidInputError) as refused:
        await client.items.shares.validate_recipients(policy, ["a@example.com"])
    assert refused.value.details["argument"] == "recipients"
    # Checking recipients is against the policy given, not the account's.
    restricted = copy.copy(policy)
    restricted.allowed_types = [AllowedType.PUBLIC, AllowedType.AUTHENTICATED]
    restricted.allowed_recipient_types = [AllowedRecipientType.EMAIL, AllowedRecipientType.DOMAIN]
    valid = await client.items.shares.validate_recipients(
        restricted, ["A@Example.com", "example.org"]
    )
    assert valid == [
        ValidRecipientEmail(ValidRecipientEmailInner(email="a@example.com")),
        ValidRecipientDomain(ValidRecipientDomainInner(domain="example.org")),
    ]

    stricter = copy.copy(policy)
    stricter.max_views = 7
    try:
        changed = await client.items.shares.set_account_policy(stricter)
        assert changed.max_views == 7
        assert (await client.items.shares.get_account_policy(vault.id, item.id)).max_views == 7
    finally:
        # The policy is account-wide: give the other tests theirs back.
        restored = await client.items.shares.set_account_policy(policy)
    assert restored == policy


# --- Events and client state ---------------------------------------------------------


async def test_events_list_and_verify(client: Client, server: Server, vault: sesame.Vault) -> None:
    integration = unique("py-events")
    async with await Client.authenticate(
        server.owner_token, integration, "2.0", server_url=server.url
    ) as audited:
        item = await audited.items.create(login(vault.id, unique("audited"), "audit-secret"))

    events: list[AuditEvent] = []
    after = None
    while True:
        page = await client.events.list(1000, after)
        events += page.events
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == "0" * 64
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(events))
    ours = [e for e in events if e.integration_name == integration]
    assert {e.action for e in ours} >= {"auth"}
    created = [e for e in ours if e.item_id == item.id]
    assert created and created[0].vault_id == vault.id and created[0].outcome == "ok"
    assert all(e.integration_version == "2.0" for e in ours)
    assert "audit-secret" not in repr(events)

    small = await client.events.list(2, after=1)
    assert [e.seq for e in small.events] == [2, 3] and small.next_cursor == 3

    verified = await client.events.verify()
    assert verified.events >= events[-1].seq
    assert len(verified.head_hash) == 64 and verified.unsigned <= verified.events


async def test_rate_limit_state_and_unreadable_records(client: Client, vault: sesame.Vault) -> None:
    await client.items.list(vault.id)
    state = await client.rate_limit()
    assert state is not None and 0 <= state.remaining < state.limit
    assert state.reset_seconds > 0
    # Other modules may leave records this client cannot open; none are this vault's.
    assert [r for r in await client.unreadable_records() if r.vault_id == vault.id] == []


# --- The synchronous client ----------------------------------------------------------


def test_sync_client_subset(server: Server) -> None:
    with sesame.sync.Client.authenticate(
        server.owner_token, NAME, VERSION, server_url=server.url
    ) as sync:
        made = sync.vaults.create(VaultCreateParams(title=unique("py-sync")))
        try:
            item = sync.items.create(login(made.id, "db", "sync-secret"))
            ref = f"op://{made.title}/db/password"
            assert sync.secrets.resolve(ref) == "sync-secret"
            assert sync.secrets.resolve_bytes(ref) == b"sync-secret"
            item.notes = "edited"
            assert sync.items.put(item).version == 2
            assert [o.title for o in sync.items.list(made.id)] == ["db"]
            answer = sync.secrets.resolve_all([ref])
            content = answer.individual_responses[ref].content
            assert content is not None and content.secret == "sync-secret"
            policy = sync.items.shares.get_account_policy(made.id, item.id)
            link = sync.items.shares.create(item, policy, ItemShareParams(one_time_only=True))
            # Opening a link needs no client: the synchronous twin is static too.
            assert SyncShares.open(link).fields[0].value == "sync-secret"
            assert sync.events.list(1).events[0].seq == 1
            assert sync.rate_limit() is not None
            with pytest.raises(NotFoundError):
                sync.secrets.resolve(f"op://{made.title}/nothing/password")
        finally:
            sync.vaults.delete(made.id)
    assert sync.closed and "closed" in repr(sync)
    with pytest.raises(InvalidInputError):
        sync.vaults.list()


# --- Errors, each from a real condition ----------------------------------------------


async def test_not_found_error(client: Client, vault: sesame.Vault) -> None:
    item = await client.items.create(login(vault.id, unique("present"), "nf-secret-value"))
    with pytest.raises(NotFoundError) as missing_item:
        await client.secrets.resolve(f"op://{vault.id}/no-such-item/password")
    assert isinstance(missing_item.value, LookupError)
    assert missing_item.value.details == {"resource": "item", "name": "no-such-item"}
    with pytest.raises(NotFoundError) as missing_field:
        await client.secrets.resolve(f"op://{vault.id}/{item.id}/no-such-field")
    assert missing_field.value.details == {"resource": "field", "name": "no-such-field"}
    with pytest.raises(LookupError):
        await client.items.get(vault.id, "q" * 26)
    check_error(missing_item.value, "nf-secret-value")
    check_error(missing_field.value, "nf-secret-value")


async def test_invalid_reference_error(client: Client) -> None:
    with pytest.raises(InvalidReferenceError) as empty:
        await client.secrets.resolve("op://Infra//password")
    assert isinstance(empty.value, ValueError)
    reference = empty.value.details["reference"]
    assert (reference["kind"], reference["offset"], reference["segment"]) == (
        "empty_segment",
        11,
        "item",
    )
    assert reference["hint"]
    check_error(empty.value)
    with pytest.raises(InvalidReferenceError) as short:
        sesame.Secrets.validate_secret_reference("op://Infra")
    assert short.value.details["reference"]["kind"] == "too_few_segments"
    assert short.value.details["reference"]["segment"] == "item"


async def test_invalid_input_errors(client: Client, server: Server, vault: sesame.Vault) -> None:
    with pytest.raises(InvalidInputError) as recipe:
        sesame.Secrets.generate_password(
            PasswordRecipeRandom(
                PasswordRecipeRandomInner(include_digits=True, include_symbols=True, length=3)
            )
        )
    assert isinstance(recipe.value, ValueError)
    assert recipe.value.details == {"argument": "recipe.length"}
    check_error(recipe.value)

    item = await client.items.create(login(vault.id, unique("content"), "x"))
    text = "text-that-might-be-a-secret"
    with pytest.raises(InvalidInputError) as content:
        await client.items.files.attach(
            item,
            FileCreateParams(content=text, name="a", section_id="s", field_id="f"),  # type: ignore[arg-type]
        )
    assert content.value.details == {"argument": "content"}
    check_error(content.value, text)

    with pytest.raises(InvalidInputError) as name:
        await Client.authenticate(server.owner_token, "", VERSION, server_url=server.url)
    assert name.value.details == {"argument": "integration_name"}

    closed = await Client.authenticate(server.owner_token, NAME, VERSION, server_url=server.url)
    closed.close()
    with pytest.raises(InvalidInputError) as after_close:
        await closed.vaults.list()
    assert after_close.value.details == {"argument": "client"}
    assert "closed" in after_close.value.message
    check_error(after_close.value, server.owner_token)


async def test_permission_denied_error(client: Client, server: Server, vault: sesame.Vault) -> None:
    account, token = service_account(server, f"{vault.id}:read")
    try:
        async with await Client.authenticate(token, NAME, VERSION, server_url=server.url) as reader:
            with pytest.raises(PermissionDeniedError) as write:
                await reader.items.create(login(vault.id, "denied", "denied-secret"))
            assert isinstance(write.value, PermissionError)
            assert "CREATE_ITEMS" in write.value.message
            check_error(write.value, "denied-secret", token)
            with pytest.raises(PermissionDeniedError):
                await reader.events.list(1)
            with pytest.raises(PermissionDeniedError):
                await reader.vaults.create(VaultCreateParams(title=unique("py-denied")))
    finally:
        server.cli("service-account", "revoke", account)


async def test_server_errors_carry_their_status(server: Server, vault: sesame.Vault) -> None:
    account, token = service_account(server, f"{vault.id}:read")
    try:
        async with await Client.authenticate(token, NAME, VERSION, server_url=server.url) as reader:
            with pytest.raises(PermissionDeniedError) as denied:
                await reader.items.create(login(vault.id, "denied", "x"))
        assert denied.value.status_code == 403
        assert denied.value.request_id  # the server's x-request-id, to quote
    finally:
        server.cli("service-account", "revoke", account)


async def test_token_errors(client: Client, server: Server, vault: sesame.Vault) -> None:
    with pytest.raises(InvalidTokenError) as prefix:
        await Client.authenticate("not-a-token", NAME, VERSION, server_url=server.url)
    assert isinstance(prefix.value, ValueError)
    assert prefix.value.details == {"token": "wrong_prefix"}
    check_error(prefix.value, "not-a-token")

    owner = server.owner_token
    altered = owner[:-1] + ("A" if owner[-1] != "A" else "B")
    with pytest.raises(InvalidTokenError) as checksum:
        await Client.authenticate(altered, NAME, VERSION, server_url=server.url)
    assert checksum.value.details == {"token": "checksum_mismatch"}
    # Neither the token nor its secret part shows.
    check_error(checksum.value, altered, owner, owner.removeprefix("sesame_sa_").split(".")[0])

    account, token = service_account(server, f"{vault.id}:read")
    ref = f"op://{vault.id}/{(await client.items.create(login(vault.id, 'tk', 's'))).id}/password"
    robot = await Client.authenticate(Token(token), NAME, VERSION, server_url=server.url)
    assert await robot.secrets.resolve(ref) == "s"
    server.cli("service-account", "revoke", account)
    with pytest.raises(AuthenticationError) as revoked:
        await robot.secrets.resolve(ref)
    assert "revoked" in revoked.value.message
    check_error(revoked.value, token)
    with pytest.raises(AuthenticationError) as again:
        await Client.authenticate(token, NAME, VERSION, server_url=server.url)
    check_error(again.value, token)
    robot.close()


async def test_conflict_error(client: Client, vault: sesame.Vault) -> None:
    item = await client.items.create(login(vault.id, unique("conflict"), "conflict-secret"))
    item.notes = "first writer"
    await client.items.put(item)
    item.notes = "stale writer"
    with pytest.raises(ConflictError) as stale:
        await client.items.put(item)
    assert "version" in stale.value.message
    check_error(stale.value, "conflict-secret", "stale writer")
    assert (await client.items.get(vault.id, item.id)).notes == "first writer"


async def test_ambiguous_error(client: Client, vault: sesame.Vault) -> None:
    title = unique("twin")
    first = await client.items.create(login(vault.id, title, "twin-secret-1"))
    second = await client.items.create(login(vault.id, title, "twin-secret-2"))
    with pytest.raises(AmbiguousError) as twins:
        await client.secrets.resolve(f"op://{vault.id}/{title}/password")
    assert isinstance(twins.value, LookupError)
    assert twins.value.details["resource"] == "item" and twins.value.details["name"] == title
    assert sorted(twins.value.details["candidates"]) == sorted([first.id, second.id])
    check_error(twins.value, "twin-secret-1", "twin-secret-2")
    # By id, each is found.
    assert await client.secrets.resolve(f"op://{vault.id}/{second.id}/password") == "twin-secret-2"


async def test_network_error(server: Server) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens there now.
    with pytest.raises(NetworkError) as refused:
        await Client.authenticate(
            server.owner_token,
            NAME,
            VERSION,
            server_url=f"http://127.0.0.1:{port}",
            retries=0,
            timeout_seconds=5,
        )
    assert isinstance(refused.value, ConnectionError)
    check_error(refused.value, server.owner_token)


@pytest.fixture
def bad_gateway() -> Iterator[str]:
    """A reverse proxy whose upstream is down: every request gets 502."""

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<html>bad gateway</html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, *args: Any) -> None:
            pass

    gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{gateway.server_address[1]}"
    gateway.shutdown()
    gateway.server_close()


async def test_server_error(server: Server, bad_gateway: str) -> None:
    with pytest.raises(ServerError) as failed:
        await Client.authenticate(
            server.owner_token, NAME, VERSION, server_url=bad_gateway, retries=0
        )
    assert "502" in failed.value.message
    check_error(failed.value, server.owner_token)


async def test_rate_limited_error(client: Client, server: Server, vault: sesame.Vault) -> None:
    item = await client.items.create(login(vault.id, unique("limited"), "limited-secret"))
    account, token = service_account(server, f"{vault.id}:read")
    server.cli("service-account", "ratelimit", account, "--reads", "1")
    try:
        # No retries: a Retry-After within 10 s would otherwise be waited out.
        async with await Client.authenticate(
            token, NAME, VERSION, server_url=server.url, retries=0
        ) as limited:
            with pytest.raises(RateLimitedError) as over:
                for _ in range(5):
                    await limited.secrets.resolve(f"op://{vault.id}/{item.id}/password")
            state = await limited.rate_limit()
        assert isinstance(over.value, RateLimitExceededException)
        assert over.value.retry_after is not None and over.value.retry_after > 0
        assert over.value.details["retryAfterSeconds"] == int(over.value.retry_after)
        check_error(over.value, "limited-secret", token)
        assert state is not None and (state.limit, state.remaining) == (1, 0)
    finally:
        server.cli("service-account", "revoke", account)


async def test_integrity_error_and_unreadable_records(client: Client, server: Server) -> None:
    """A server that alters ciphertext is caught: the altered item fails alone."""
    own = await client.vaults.create(VaultCreateParams(title=unique("py-integrity")))
    details_victim = await client.items.create(login(own.id, "details", "integrity-secret"))
    overview_victim = await client.items.create(login(own.id, "overview", "other-secret"))
    healthy = await client.items.create(login(own.id, "healthy", "healthy-secret"))
    database = sqlite3.connect(server.data_dir / "sesame.db", timeout=30)
    originals: dict[tuple[str, str], bytes] = {}
    try:
        for item, column in ((details_victim, "details"), (overview_victim, "overview")):
            query = f"SELECT {column} FROM items WHERE vault_id = ? AND id = ?"
            (blob,) = database.execute(query, (own.id, item.id)).fetchone()
            originals[(item.id, column)] = blob
            flipped = bytearray(blob)
            flipped[-1] ^= 1
            with database:
                database.execute(
                    f"UPDATE items SET {column} = ? WHERE vault_id = ? AND id = ?",
                    (bytes(flipped), own.id, item.id),
                )

        # A new client syncs the altered records.
        async with await Client.authenticate(
            server.owner_token, NAME, VERSION, server_url=server.url
        ) as fresh:
            with pytest.raises(IntegrityError) as altered:
                await fresh.items.get(own.id, details_victim.id)
            check_error(altered.value, "integrity-secret", server.owner_token)
            listed = {o.id for o in await fresh.items.list(own.id)}
            assert healthy.id in listed and overview_victim.id not in listed
            # Other modules' vaults are the account's too: look at this one only.
            unreadable = [r for r in await fresh.unreadable_records() if r.vault_id == own.id]
            kinds = {r.item_id: r.kind for r in unreadable}
            assert kinds[overview_victim.id] is sesame.UnreadableKind.ITEMOVERVIEW
            assert healthy.id not in kinds
            assert "other-secret" not in repr(unreadable)
            ref = f"op://{own.id}/{healthy.id}/password"
            assert await fresh.secrets.resolve(ref) == "healthy-secret"
    finally:
        with database:
            for (item_id, column), blob in originals.items():
                database.execute(
                    f"UPDATE items SET {column} = ? WHERE vault_id = ? AND id = ?",
                    (blob, own.id, item_id),
                )
        database.close()
        await client.vaults.delete(own.id)


def test_tokens_never_show(server: Server) -> None:
    token = Token(server.owner_token)
    assert server.owner_token not in repr(token) and server.owner_token not in str(token)
    assert token.reveal() == server.owner_token
    with pytest.raises(TypeError):
        pickle.dumps(token)
    with pytest.raises(InvalidInputError):
        Token(b"bytes")  # type: ignore[arg-type]
    with SyncClient.authenticate(token, NAME, VERSION, server_url=server.url) as sync:
        assert server.owner_token not in repr(sync)
        assert repr(sync) == f"<sesame.SyncClient {NAME}/{VERSION} open>"
    secret_part = server.owner_token.removeprefix("sesame_sa_").split(".")[0]
    assert secret_part not in repr(sync)


async def test_async_client_repr_hides_token(client: Client, server: Server) -> None:
    assert server.owner_token not in repr(client)
    assert repr(client) == f"<sesame.Client {NAME}/{VERSION} open>"
