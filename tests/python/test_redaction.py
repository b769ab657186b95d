"""Secrets stay out of repr(): model values marked secret in the schema (field values,
notes, file content, resolved secrets, generated passwords, one-time codes) show their
size only, as `Debug` does in Rust, so logging an object never logs its secret."""

from __future__ import annotations

import sesame
from conftest import Server
from sesame import (
    Client,
    ItemCategory,
    ItemCreateParams,
    ItemField,
    ItemFieldType,
    PasswordRecipeRandom,
    PasswordRecipeRandomInner,
    Secrets,
    Token,
)

SECRET = "correct-horse-battery-staple"


async def test_models_from_the_server_hide_their_secrets(server: Server) -> None:
    client = await Client.authenticate(
        Token(server.owner_token), "py-redaction", "1.0", server_url=server.url
    )
    vault = await client.vaults.create(sesame.VaultCreateParams(title="redaction"))
    params = ItemCreateParams(
        category=ItemCategory.LOGIN,
        vault_id=vault.id,
        title="db",
        notes=f"notes with {SECRET}",
        fields=[
            ItemField(
                id="password",
                title="password",
                field_type=ItemFieldType.CONCEALED,
                value=SECRET,
            )
        ],
    )
    item = await client.items.create(params)
    resolved = await client.secrets.resolve_all(["op://redaction/db/password"])
    shown = " ".join(repr(x) for x in (params, item, item.fields[0], resolved, client))
    assert SECRET not in shown
    assert server.owner_token not in shown
    # Still there when asked for.
    assert item.fields[0].value == SECRET
    assert f"value=<redacted {len(SECRET)} chars>" in repr(item.fields[0])


def test_offline_results_hide_their_secrets() -> None:
    generated = Secrets.generate_password(
        PasswordRecipeRandom(
            PasswordRecipeRandomInner(include_digits=True, include_symbols=True, length=40)
        )
    )
    assert generated.password not in repr(generated)
    code = Secrets.generate_totp_code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    assert f"code=<redacted {len(code.code)} chars>" in repr(code)
    assert repr(Token("sesame_sa_secret")) == "Token(<hidden>)"
