"""The synchronous client: create an item with a generated password, read it back by
reference, stream a file to and from disk, and handle errors by class."""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile

from sesame import (
    FileCreateParams,
    ItemCategory,
    ItemCreateParams,
    ItemField,
    ItemFieldType,
    ItemSection,
    NotFoundError,
    PasswordRecipeRandom,
    PasswordRecipeRandomInner,
    Secrets,
    SyncClient,
)


def main() -> int:
    token = os.environ["SESAME_SERVICE_ACCOUNT_TOKEN"]
    vault_id = sys.argv[1]
    with SyncClient.authenticate(token, "sesame-example", "1.0.0") as client:
        password = Secrets.generate_password(
            PasswordRecipeRandom(
                parameters=PasswordRecipeRandomInner(
                    include_digits=True, include_symbols=False, length=24
                )
            )
        )
        item = client.items.create(
            ItemCreateParams(
                category=ItemCategory.LOGIN,
                vault_id=vault_id,
                title="Example login",
                # Files are shown in a section: the one the report is attached to below.
                sections=[ItemSection(id="files", title="Files")],
                fields=[
                    ItemField(
                        id="password",
                        title="password",
                        field_type=ItemFieldType.CONCEALED,
                        value=password.password,
                    )
                ],
            )
        )
        vault = client.vaults.get_overview(vault_id)
        resolved = client.secrets.resolve(f"op://{vault.title}/Example login/password")
        print("resolved a", len(resolved), "character password")

        with tempfile.TemporaryDirectory() as scratch:
            source = pathlib.Path(scratch, "report.csv")
            source.write_bytes(b"quarter,revenue\nq1,100\n")
            item = client.items.files.attach(
                item,
                FileCreateParams(
                    name="report.csv", content=source, section_id="files", field_id="report"
                ),
            )
            copy = pathlib.Path(scratch, "copy.csv")
            client.items.files.read_to(item.vault_id, item.id, item.files[0].attributes, copy)
            print("downloaded", copy.stat().st_size, "bytes")

        client.items.delete(item.vault_id, item.id)
        try:
            client.items.get(item.vault_id, item.id)
        except NotFoundError as e:
            print("gone:", e.code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
