// A typed tour of @sesame/sdk, compiled with `tsc --strict` by `make test`: create a
// vault and a login, resolve its password, upload a file from disk without reading it
// into memory, and handle errors by class.
//
//   SESAME_SERVICE_ACCOUNT_TOKEN=… SESAME_URL=… node typed.js

import { openAsBlob } from "node:fs";

import {
  type Client,
  type Item,
  ItemCategory,
  ItemFieldType,
  NotFoundError,
  RateLimitedError,
  Secrets,
  SesameError,
  createClient,
} from "@sesame/sdk";

async function login(client: Client, vaultId: string): Promise<Item> {
  const { password } = Secrets.generatePassword({
    type: "Random",
    parameters: { length: 32, includeDigits: true, includeSymbols: false },
  });
  return client.items.create({
    vaultId,
    title: "Database",
    category: ItemCategory.Login,
    fields: [
      { id: "username", title: "username", fieldType: ItemFieldType.Text, value: "app" },
      { id: "password", title: "password", fieldType: ItemFieldType.Concealed, value: password },
    ],
    sections: [{ id: "files", title: "Files" }],
  });
}

async function main(): Promise<void> {
  const token = process.env.SESAME_SERVICE_ACCOUNT_TOKEN;
  if (token === undefined) throw new Error("set SESAME_SERVICE_ACCOUNT_TOKEN");
  const client = await createClient({
    auth: token,
    integrationName: "typed-example",
    integrationVersion: "1.0.0",
    cacheTtlSeconds: 5,
  });
  try {
    const vault = await client.vaults.create({ title: "Typed example" });
    let item = await login(client, vault.id);
    const password: string = await client.secrets.resolve("op://Typed example/Database/password");
    console.log(`resolved a password of ${password.length} characters`);

    // A Blob from a path is streamed: memory stays bounded whatever the file's size.
    item = await client.items.files.attach(item, {
      name: "typed.ts",
      content: await openAsBlob(__filename),
      sectionId: "files",
      fieldId: "source",
    });
    const bytes: Uint8Array = await client.items.files.read(vault.id, item.id, item.files[0].attributes);
    console.log(`attached and read back ${bytes.length} bytes`);

    try {
      await client.secrets.resolve("op://Typed example/Database/missing");
    } catch (error) {
      if (error instanceof NotFoundError) console.log(`not found, as expected: ${error.message}`);
      else throw error;
    }
    await client.vaults.delete(vault.id);
  } catch (error) {
    if (error instanceof RateLimitedError) console.error(`rate limited; retry in ${error.retryAfter ?? "?"} s`);
    else if (error instanceof SesameError) console.error(`${error.code} (${error.requestId ?? "no request id"}): ${error.message}`);
    throw error;
  } finally {
    client.close();
  }
}

main().catch(() => {
  process.exitCode = 1;
});
