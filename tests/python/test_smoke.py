import sesame
from sesame import Client, ItemCategory, ItemCreateParams, ItemField, ItemFieldType, SyncClient


async def test_authenticate_create_resolve(server):
    client = await Client.authenticate(server.owner_token, "py-smoke", "1.0", server_url=server.url)
    vault = await client.vaults.create(sesame.VaultCreateParams(title="smoke-py"))
    item = await client.items.create(
        ItemCreateParams(
            category=ItemCategory.LOGIN,
            vault_id=vault.id,
            title="db",
            fields=[
                ItemField(
                    id="password",
                    title="password",
                    field_type=ItemFieldType.CONCEALED,
                    value="hunter2",
                )
            ],
        )
    )
    assert await client.secrets.resolve("op://smoke-py/db/password") == "hunter2"
    assert "hunter2" not in repr(client)
    sync = SyncClient.authenticate(server.owner_token, "py-smoke", "1.0", server_url=server.url)
    assert sync.secrets.resolve("op://smoke-py/db/password") == "hunter2"
    assert (await client.items.get(vault.id, item.id)).title == "db"
