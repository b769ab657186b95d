// A 200 MiB file round trip in bounded memory: uploaded from a Blob of the file on disk
// (`fs.openAsBlob`), pulled by the addon chunk by chunk, and downloaded with `readTo`
// straight into a file. The round trip runs alone in a fresh Node process, so its peak
// RSS measures only the transfer.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, mkdtempSync, openSync, rmSync, statSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, it } from "node:test";

import { startServer } from "./server.mjs";

const MIB = 1024 * 1024;
const LARGE = 200 * MIB;
// Peak RSS may grow by this much at most, whatever the file's size.
const MEMORY_BOUND = 100 * MIB;

const ROUND_TRIP = `
const { openAsBlob } = require("node:fs");
const { createClient, ItemCategory } = require("@sesame/sdk");
// ru_maxrss, in KiB on Linux.
const peak = () => process.resourceUsage().maxRSS * 1024;
(async () => {
  const [url, source, destination] = process.argv.slice(1);
  const client = await createClient({ auth: process.env.SESAME_TEST_TOKEN, integrationName: "sesame-js-files",
    integrationVersion: "1.0.0", serverUrl: url });
  const vault = await client.vaults.create({ title: "js-large-" + Date.now() });
  try {
    let item = await client.items.create({ vaultId: vault.id, title: "large", category: ItemCategory.Login,
      sections: [{ id: "files", title: "Files" }] });
    const baseline = peak();
    item = await client.items.files.attach(item, { name: "large.bin", content: await openAsBlob(source),
      sectionId: "files", fieldId: "large" });
    const uploaded = peak();
    await client.items.files.readTo(vault.id, item.id, item.files[0].attributes, destination);
    const downloaded = peak();
    console.log(JSON.stringify({ size: item.files[0].attributes.size, baseline, uploaded, downloaded }));
  } finally {
    await client.vaults.delete(vault.id);
    client.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

let server;
let dir;
before(async () => {
  server = await startServer();
  dir = mkdtempSync(path.join(tmpdir(), "sesame-js-files-"));
});
after(() => {
  server?.stop();
  // 400 MiB of temporary files: never leave them behind.
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sha256(file) {
  const digest = createHash("sha256");
  for await (const chunk of createReadStream(file)) digest.update(chunk);
  return digest.digest("hex");
}

it("round-trips a 200 MiB file with peak memory bounded well below its size", async () => {
  const source = path.join(dir, "large.bin");
  const destination = path.join(dir, "downloaded.bin");
  const digest = createHash("sha256");
  const fd = openSync(source, "w");
  for (let i = 0; i < LARGE / MIB; i++) {
    const chunk = randomBytes(MIB);
    digest.update(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);

  const done = spawnSync(process.execPath, ["-e", ROUND_TRIP, server.url, source, destination], {
    env: { ...process.env, SESAME_TEST_TOKEN: server.ownerToken },
    encoding: "utf8",
    timeout: 1_800_000,
  });
  assert.equal(done.status, 0, done.stderr);
  const measured = JSON.parse(done.stdout);
  assert.equal(measured.size, LARGE);
  const growth = Math.max(measured.uploaded, measured.downloaded) - measured.baseline;
  assert.ok(growth < MEMORY_BOUND, `peak RSS grew by ${Math.round(growth / MIB)} MiB`);
  const stat = statSync(destination);
  assert.equal(stat.mode & 0o777, 0o600, "the download is readable by its owner only");
  assert.equal(stat.size, LARGE);
  assert.equal(await sha256(destination), digest.digest("hex"));
});
