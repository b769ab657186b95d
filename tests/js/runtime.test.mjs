// How the package behaves in a Node program: loaded from ESM and CommonJS alike; calls
// are Promises that never block the event loop and run in parallel (no global lock);
// 500 concurrent resolves; clients close explicitly and are released by garbage
// collection; nothing secret shows in `util.inspect`, `JSON.stringify` or errors.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import net from "node:net";
import { inspect } from "node:util";
import { after, before, describe, it } from "node:test";

import * as sdk from "@sesame/sdk";
import { startServer } from "./server.mjs";

const require = createRequire(import.meta.url);

let server;
let client;
const options = () => ({
  auth: server.ownerToken,
  integrationName: "sesame-js-runtime",
  integrationVersion: "1.0.0",
  serverUrl: server.url,
});

before(async () => {
  server = await startServer();
  client = await sdk.createClient(options());
  const vault = await client.vaults.create({ title: "Runtime" });
  for (let i = 0; i < 5; i++) {
    await client.items.create({
      vaultId: vault.id,
      title: `item ${i}`,
      category: sdk.ItemCategory.ApiCredentials,
      fields: [{ id: "credential", title: "credential", fieldType: sdk.ItemFieldType.Concealed, value: `secret-${i}` }],
    });
  }
});
after(() => {
  client?.close();
  server?.stop();
});

/** A TCP proxy to the server that can hold back what clients send (a stalled network). */
async function stallableProxy(target) {
  const { hostname, port } = new URL(target);
  let stalled = false;
  const held = [];
  const proxy = net.createServer((socket) => {
    const upstream = net.connect(Number(port), hostname);
    upstream.pipe(socket);
    socket.on("data", (chunk) => (stalled ? held.push(() => upstream.write(chunk)) : upstream.write(chunk)));
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
    socket.on("close", () => upstream.destroy());
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${proxy.address().port}`,
    stall: () => (stalled = true),
    release() {
      stalled = false;
      for (const send of held.splice(0)) send();
    },
    close: () => proxy.close(),
  };
}

describe("loading", () => {
  it("ESM import and CommonJS require give the same module", () => {
    const cjs = require("@sesame/sdk");
    assert.equal(cjs.createClient, sdk.createClient);
    assert.equal(cjs.ItemCategory, sdk.ItemCategory);
    assert.equal(cjs.NotFoundError, sdk.NotFoundError);
  });

  it("a fresh CommonJS program can require it and validate a reference", () => {
    const done = spawnSync(
      process.execPath,
      ["-e", 'const s = require("@sesame/sdk"); s.Secrets.validateSecretReference("op://v/i/f"); console.log(typeof s.createClient)'],
      { encoding: "utf8", cwd: import.meta.dirname },
    );
    assert.equal(done.status, 0, done.stderr);
    assert.equal(done.stdout.trim(), "function");
  });
});

describe("concurrency", () => {
  it("500 concurrent resolves each get their own item's secret", async () => {
    const references = Array.from({ length: 500 }, (_, i) => i % 5);
    const values = await Promise.all(references.map((i) => client.secrets.resolve(`op://Runtime/item ${i}/credential`)));
    assert.deepEqual(values, references.map((i) => `secret-${i}`));
  });

  it("the event loop keeps running while a call waits for the network", async () => {
    const proxy = await stallableProxy(server.url);
    const stalledClient = await sdk.createClient({ ...options(), serverUrl: proxy.url });
    try {
      proxy.stall();
      let settled = false;
      const call = stalledClient.secrets.resolve("op://Runtime/item 0/credential").finally(() => (settled = true));
      // Timers fire while the call is pending: nothing blocks the loop.
      let ticks = 0;
      await new Promise((resolve) => {
        const timer = setInterval(() => {
          if (++ticks === 5) {
            clearInterval(timer);
            resolve();
          }
        }, 20);
      });
      assert.equal(settled, false, "the call waits for the stalled network");
      // Another client's call completes meanwhile: calls do not queue behind each other.
      assert.equal(await client.secrets.resolve("op://Runtime/item 1/credential"), "secret-1");
      assert.equal(settled, false);
      proxy.release();
      assert.equal(await call, "secret-0");
    } finally {
      stalledClient.close();
      proxy.close();
    }
  });
});

describe("lifetime", () => {
  it("close() is idempotent and later calls fail with InvalidInputError", async () => {
    const own = await sdk.createClient(options());
    assert.equal(await own.secrets.resolve("op://Runtime/item 2/credential"), "secret-2");
    own.close();
    own.close();
    assert.equal(own.closed, true);
    await assert.rejects(own.secrets.resolve("op://Runtime/item 2/credential"), (e) => {
      assert.ok(e instanceof sdk.InvalidInputError);
      assert.match(e.message, /closed/);
      return true;
    });
  });

  it("garbage collection releases a client that was not closed (its connections close)", () => {
    // In a fresh process with --expose-gc: the open sockets before, with a client, and
    // after the client is unreachable and collected.
    const program = `
      const fs = require("node:fs");
      const { createClient } = require("@sesame/sdk");
      const sockets = () => fs.readdirSync("/proc/self/fd").filter((fd) => {
        try { return fs.readlinkSync("/proc/self/fd/" + fd).startsWith("socket:"); } catch { return false; }
      }).length;
      (async () => {
        const before = sockets();
        let client = await createClient(JSON.parse(process.env.OPTIONS));
        await client.vaults.list();
        const open = sockets();
        client = null;
        for (let i = 0; i < 20 && sockets() > before; i++) {
          global.gc();
          await new Promise((r) => setTimeout(r, 50));
        }
        console.log(JSON.stringify({ before, open, after: sockets() }));
      })();`;
    const done = spawnSync(process.execPath, ["--expose-gc", "-e", program], {
      encoding: "utf8",
      cwd: import.meta.dirname,
      env: { ...process.env, OPTIONS: JSON.stringify(options()) },
    });
    assert.equal(done.status, 0, done.stderr);
    const { before: idle, open, after: collected } = JSON.parse(done.stdout);
    assert.ok(open > idle, "a client holds a connection");
    assert.equal(collected, idle, "collecting the client closed it");
  });
});

describe("secrets stay hidden", () => {
  it("util.inspect and JSON.stringify of a client show no token", () => {
    const shown = [
      inspect(client, { depth: Infinity, showHidden: true }),
      inspect(client.secrets, { depth: Infinity, showHidden: true }),
      inspect(client.items, { depth: Infinity, showHidden: true }),
      JSON.stringify(client),
    ];
    const tokenBody = server.ownerToken.slice(-16);
    for (const text of shown) assert.ok(!text.includes(tokenBody), text);
    assert.match(inspect(client), /sesame-js-runtime\/1\.0\.0/);
    assert.deepEqual(JSON.parse(JSON.stringify(client)), { integration: "sesame-js-runtime/1.0.0", closed: false });
  });

  it("a refused token is not echoed in the error", async () => {
    const marker = "NOT-A-REAL-TOKEN-c0ffee";
    await assert.rejects(sdk.createClient({ ...options(), auth: `sesame_sa_${marker}` }), (e) => {
      assert.ok(e instanceof sdk.SesameError);
      assert.ok(!e.message.includes(marker) && !inspect(e).includes(marker), e.message);
      return true;
    });
  });
});
