// Every public call of @sesame/sdk against a real server, and every error class raised
// by a real condition: the JavaScript port of tests/python/test_api.py. Results are
// checked for their JavaScript shapes too: timestamps are `Date`, bytes a plain
// `Uint8Array` (not a Buffer, not an array of numbers), enums their string values.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openAsBlob, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";

import * as sdk from "@sesame/sdk";
import {
  AllowedRecipientType,
  AllowedType,
  AmbiguousError,
  AuthenticationError,
  AuthExpiredError,
  AutofillBehavior,
  ConflictError,
  CREATE_ITEMS,
  createClient,
  ErrorCode,
  IntegrityError,
  InvalidInputError,
  InvalidReferenceError,
  InvalidTokenError,
  ItemCategory,
  ItemFieldType,
  ItemShareDuration,
  ItemState,
  NetworkError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitedError,
  RateLimitExceededError,
  READ_ITEMS,
  REVEAL_ITEM_PASSWORD,
  Secrets,
  ServerError,
  SesameError,
  SeparatorType,
  Shares,
  UnreadableKind,
  VaultType,
  WordListType,
} from "@sesame/sdk";

import { startServer } from "./server.mjs";

const NAME = "sesame-js-api";
const VERSION = "1.0.0";
// Reading items always includes their concealed values in Sesame.
const READ = READ_ITEMS | REVEAL_ITEM_PASSWORD;

/** Every error class, its stable code and number. */
const ERRORS = [
  [InvalidReferenceError, "invalid_reference", 1],
  [InvalidTokenError, "invalid_token", 2],
  [InvalidInputError, "invalid_input", 3],
  [NotFoundError, "not_found", 4],
  [AmbiguousError, "ambiguous", 5],
  [PermissionDeniedError, "permission_denied", 6],
  [AuthenticationError, "unauthenticated", 7],
  [RateLimitedError, "rate_limited", 8],
  [ConflictError, "conflict", 9],
  [NetworkError, "network", 10],
  [ServerError, "server", 11],
  [IntegrityError, "integrity", 12],
];

let server;
/** The owner's client. */
let client;
/** A vault for the tests that need one; deleted at the end. */
let vault;
/** A scratch directory for downloads. */
let scratch;

before(async () => {
  server = await startServer("sesame-js-api-");
  client = await connect();
  vault = await client.vaults.create({ title: unique("js-api") });
  scratch = mkdtempSync(path.join(tmpdir(), "sesame-js-api-files-"));
});

after(async () => {
  if (vault) await client.vaults.delete(vault.id);
  client?.close();
  server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// --- Helpers ---------------------------------------------------------------------------

function unique(prefix) {
  return `${prefix}-${randomUUID().slice(0, 10)}`;
}

/** A client of the test server: the owner's unless `auth`, with `options` on top. */
function connect(options = {}) {
  return createClient({
    auth: server.ownerToken,
    integrationName: NAME,
    integrationVersion: VERSION,
    serverUrl: server.url,
    ...options,
  });
}

function login(vaultId, title, password) {
  return {
    category: ItemCategory.Login,
    vaultId,
    title,
    fields: [{ id: "password", title: "password", fieldType: ItemFieldType.Concealed, value: password }],
  };
}

/** An item with a "files" section to attach files to. */
function holder(vaultId, title = unique("files")) {
  return {
    category: ItemCategory.Login,
    vaultId,
    title,
    sections: [{ id: "files", title: "Files" }],
  };
}

/** A new service account with `VAULT:PERMS` grants: `{id, token}`. */
function serviceAccount(...grants) {
  const args = ["service-account", "create", unique("js-sa"), "--format", "json"];
  for (const grant of grants) args.push("--vault", grant);
  const made = JSON.parse(server.cli(args));
  return { id: made.id, token: made.token };
}

function revoke(account) {
  server.cli(["service-account", "revoke", account.id]);
}

/** A valid, current `Date`-typed timestamp. */
function assertDate(value, what) {
  assert.ok(value instanceof Date, `${what} is ${inspect(value)}, not a Date`);
  assert.ok(!Number.isNaN(value.getTime()), `${what} is an invalid Date`);
}

/** `actual` is a plain Uint8Array (not a Buffer, not an array) holding `expected`. */
function assertBytes(actual, expected) {
  assert.ok(actual instanceof Uint8Array, `${inspect(actual)} is not a Uint8Array`);
  assert.equal(Object.getPrototypeOf(actual), Uint8Array.prototype, "bytes must be a plain Uint8Array, not a Buffer");
  assert.deepEqual(actual, new Uint8Array(expected));
}

function mode(file) {
  return statSync(file).mode & 0o777;
}

/**
 * What every thrown error must be: an `Error` of exactly `Class`, with its stable code,
 * a message, its details as data, HTTP facts only when consistent, and no secret
 * anywhere it could be shown.
 */
function checkError(error, Class, ...secrets) {
  assert.ok(error instanceof Error, `not an Error: ${inspect(error)}`);
  assert.ok(error instanceof SesameError, `not a SesameError: ${inspect(error)}`);
  assert.ok(error instanceof Class, `expected ${Class.name}, got ${error.constructor.name}: ${error.message}`);
  assert.equal(error.constructor, Class, `expected exactly ${Class.name}, got ${error.constructor.name}`);
  assert.equal(error.name, Class.name);
  const [, code, number] = ERRORS.find(([c]) => c === Class);
  assert.equal(error.code, code);
  assert.equal(error.number, number);
  assert.equal(sdk.ERRORS_BY_CODE[error.code], Class);
  assert.equal(typeof error.message, "string");
  assert.ok(error.message.length > 0, "the message is empty");
  assert.equal(typeof error.details, "object");
  if (error.statusCode !== undefined) {
    assert.ok(Number.isInteger(error.statusCode) && error.statusCode >= 400 && error.statusCode < 600);
    assert.equal(error.details.statusCode, error.statusCode);
  }
  if (error.requestId !== undefined) assert.equal(error.details.requestId, error.requestId);
  const shown = {
    message: error.message,
    String: String(error),
    stack: String(error.stack),
    inspect: inspect(error, { depth: null, showHidden: true }),
    details: JSON.stringify(error.details),
    JSON: JSON.stringify(error),
  };
  for (const secret of secrets) {
    assert.ok(secret.length >= 4, "a secret to look for must be long enough to mean something");
    for (const [where, text] of Object.entries(shown)) {
      assert.ok(!text.includes(secret), `a secret value shows in the error's ${where}`);
    }
  }
  return error;
}

/** The error a call rejects with, checked as `checkError` does. */
async function rejects(promise, Class, ...secrets) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e ?? new Error("rejected with nothing");
  }
  assert.ok(error !== undefined, `expected ${Class.name}, but the call succeeded`);
  return checkError(error, Class, ...secrets);
}

/** The error a synchronous call throws, checked as `checkError` does. */
function throws(call, Class, ...secrets) {
  let error;
  try {
    call();
  } catch (e) {
    error = e ?? new Error("threw nothing");
  }
  assert.ok(error !== undefined, `expected ${Class.name}, but the call returned`);
  return checkError(error, Class, ...secrets);
}

/** An error the server answered: its HTTP status and the server's request id. */
function fromServer(error, status) {
  assert.equal(error.statusCode, status);
  assert.equal(typeof error.requestId, "string");
  assert.ok(error.requestId.length > 0, "the server's request id is empty");
}

/** An error the client raised by itself: no HTTP facts. */
function local(error) {
  assert.equal(error.statusCode, undefined);
  assert.equal(error.requestId, undefined);
}

/** A port nothing listens on. */
async function closedPort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** An HTTP server answering every request with `handler`; `{url, hits(), close()}`. */
async function fakeServer(handler) {
  let hits = 0;
  const fake = http.createServer((request, response) => {
    hits += 1;
    handler(request, response);
  });
  await new Promise((resolve) => fake.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${fake.address().port}`,
    hits: () => hits,
    close: () => {
      fake.closeAllConnections();
      return new Promise((resolve) => fake.close(resolve));
    },
  };
}

/** Runs SQL on the server's database with the sqlite3 command line; its output. */
function sqlite(sql) {
  const done = spawnSync("sqlite3", ["-cmd", ".timeout 30000", path.join(server.dataDir, "sesame.db"), sql], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (done.status !== 0) throw new Error(`sqlite3 failed: ${done.stderr || done.error}`);
  return done.stdout.trim();
}

const HAVE_SQLITE3 = spawnSync("sqlite3", ["-version"]).status === 0;

function shareId(link) {
  return new URL(link).pathname.split("/").pop();
}

// --- The package's surface -------------------------------------------------------------

describe("package surface", () => {
  it("exports the 1Password SDK's entry points, the groups, the enums and the permissions", () => {
    assert.equal(typeof createClient, "function");
    for (const name of ["Client", "Secrets", "Items", "ItemsFiles", "ItemsShares", "Vaults", "Shares", "Events"]) {
      assert.equal(typeof sdk[name], "function", name);
    }
    assert.equal(sdk.DEFAULT_INTEGRATION_NAME, "Unknown");
    assert.equal(sdk.DEFAULT_INTEGRATION_VERSION, "Unknown");
    // Enum members are their wire strings, as in the 1Password SDK.
    assert.equal(ItemCategory.Login, "Login");
    assert.equal(ItemCategory.SecureNote, "SecureNote");
    assert.equal(ItemFieldType.Concealed, "Concealed");
    assert.equal(ItemState.Archived, "archived");
    assert.equal(VaultType.UserCreated, "userCreated");
    assert.equal(AutofillBehavior.Never, "Never");
    assert.equal(AllowedType.Public, "Public");
    assert.equal(ItemShareDuration.OneHour, "OneHour");
    assert.equal(ErrorCode.NotFound, "not_found");
    assert.equal(UnreadableKind.ItemOverview, "itemOverview");
    // Permission bits, as in the 1Password SDK.
    assert.deepEqual(
      [sdk.NO_ACCESS, sdk.READ_ITEMS, sdk.REVEAL_ITEM_PASSWORD, sdk.CREATE_ITEMS, sdk.DELETE_ITEMS, sdk.MANAGE_VAULT],
      [0, 32, 16, 128, 512, 2],
    );
  });

  it("the client's groups are instances of the exported classes", () => {
    assert.ok(client instanceof sdk.Client);
    assert.ok(client.secrets instanceof sdk.Secrets);
    assert.ok(client.items instanceof sdk.Items);
    assert.ok(client.items.files instanceof sdk.ItemsFiles);
    assert.ok(client.items.shares instanceof sdk.ItemsShares);
    assert.ok(client.vaults instanceof sdk.Vaults);
    assert.ok(client.shares instanceof sdk.Shares);
    assert.ok(client.events instanceof sdk.Events);
  });
});

// --- The client ------------------------------------------------------------------------

describe("createClient and Client", () => {
  it("never shows the token: util.inspect, JSON.stringify, enumeration", () => {
    const secretPart = server.ownerToken.replace(/^sesame_sa_/, "").split(".")[0];
    assert.equal(inspect(client), `Client { integration: "${NAME}/${VERSION}", open }`);
    assert.deepEqual(JSON.parse(JSON.stringify(client)), { integration: `${NAME}/${VERSION}`, closed: false });
    for (const shown of [
      inspect(client, { depth: null, showHidden: true }),
      inspect(client.items, { depth: null, showHidden: true }),
      JSON.stringify(client),
      JSON.stringify(Object.keys(client)),
    ]) {
      assert.ok(!shown.includes(server.ownerToken) && !shown.includes(secretPart));
    }
  });

  it("defaults the integration to the 1Password SDK's", async () => {
    const plain = await createClient({ auth: server.ownerToken, serverUrl: server.url });
    try {
      assert.equal(inspect(plain), 'Client { integration: "Unknown/Unknown", open }');
      assert.ok(Array.isArray(await plain.vaults.list()));
    } finally {
      plain.close();
    }
  });

  it("close() is idempotent; later calls fail with InvalidInputError", async () => {
    const closing = await connect();
    assert.equal(closing.closed, false);
    closing.close();
    closing.close();
    assert.equal(closing.closed, true);
    assert.equal(inspect(closing), `Client { integration: "${NAME}/${VERSION}", closed }`);
    const after = await rejects(closing.vaults.list(), InvalidInputError, server.ownerToken);
    assert.deepEqual(after.details, { argument: "client" });
    assert.match(after.message, /closed/);
    local(after);
  });

  it("runs many calls at once on one client", async () => {
    const item = await client.items.create(login(vault.id, unique("many"), "many-secret"));
    const ref = `op://${vault.id}/${item.id}/password`;
    const answers = await Promise.all(Array.from({ length: 16 }, () => client.secrets.resolve(ref)));
    assert.deepEqual(answers, Array(16).fill("many-secret"));
  });

  it("cacheTtlSeconds: reads skip the sync while the last one is young", async () => {
    const item = await client.items.create(login(vault.id, unique("cached"), "cached-one"));
    const ref = `op://${vault.id}/${item.id}/password`;
    const cached = await connect({ cacheTtlSeconds: 3600 });
    try {
      assert.equal(await cached.secrets.resolve(ref), "cached-one");
      item.fields[0].value = "cached-two";
      await client.items.put(item);
      assert.equal(await cached.secrets.resolve(ref), "cached-one");
      assert.equal(await client.secrets.resolve(ref), "cached-two");
    } finally {
      cached.close();
    }
  });

  it("timeoutSeconds bounds a call to a server that never answers (NetworkError)", async () => {
    const held = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const started = Date.now();
    try {
      const timedOut = await rejects(
        connect({ serverUrl: `http://127.0.0.1:${silent.address().port}`, retries: 0, timeoutSeconds: 1 }),
        NetworkError,
        server.ownerToken,
      );
      assert.match(timedOut.message, /timed out/);
      local(timedOut);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("retries: a transient failure is retried that many times", async () => {
    const gateway = await fakeServer((_, response) => {
      response.writeHead(502, { "content-type": "text/html" });
      response.end("<html>bad gateway</html>");
    });
    try {
      await rejects(connect({ serverUrl: gateway.url, retries: 0 }), ServerError);
      assert.equal(gateway.hits(), 1);
      await rejects(connect({ serverUrl: gateway.url, retries: 2 }), ServerError);
      assert.equal(gateway.hits(), 1 + 3);
    } finally {
      await gateway.close();
    }
  });
});

// --- Secrets ---------------------------------------------------------------------------

describe("Secrets: offline static helpers", () => {
  it("generatePassword: Random, Pin and Memorable recipes", () => {
    const random = Secrets.generatePassword({
      type: "Random",
      parameters: { includeDigits: true, includeSymbols: true, length: 30 },
    });
    assert.equal(random.password.length, 30);
    assert.ok(random.entropyBits > 100);
    assert.match(random.password, /\d/);
    const pin = Secrets.generatePassword({ type: "Pin", parameters: { length: 6 } });
    assert.match(pin.password, /^\d{6}$/);
    const words = Secrets.generatePassword({
      type: "Memorable",
      parameters: {
        capitalize: false,
        separatorType: SeparatorType.Hyphens,
        wordCount: 4,
        wordListType: WordListType.FullWords,
      },
    });
    assert.equal(words.password.split("-").length, 4);
    assert.equal(typeof words.entropyBits, "number");
  });

  it("generateTotpCode: the current code of a base32 secret", () => {
    const code = Secrets.generateTotpCode("JBSWY3DPEHPK3PXP");
    assert.match(code.code, /^\d{6}$/);
    assert.ok(code.validFrom <= Date.now() / 1000 && Date.now() / 1000 < code.validUntil + 1);
    assert.ok(code.expiresInSeconds > 0 && code.expiresInSeconds <= 30);
  });

  it("validateSecretReference: returns nothing for a valid reference", () => {
    assert.equal(Secrets.validateSecretReference("op://vault/item/field"), undefined);
    assert.equal(Secrets.validateSecretReference("op://vault/item/section/field?attribute=otp"), undefined);
  });

  it("the static helpers run synchronously and throw class instances, never strings", () => {
    // Not a Promise: an offline call answers at once.
    const answer = Secrets.generatePassword({ type: "Pin", parameters: { length: 8 } });
    assert.ok(!(answer instanceof Promise));
    const short = throws(() => Secrets.validateSecretReference("op://Infra"), InvalidReferenceError);
    assert.equal(short.details.reference.kind, "too_few_segments");
    assert.equal(short.details.reference.segment, "item");
    const recipe = throws(
      () => Secrets.generatePassword({ type: "Random", parameters: { includeDigits: true, includeSymbols: true, length: 3 } }),
      InvalidInputError,
    );
    assert.deepEqual(recipe.details, { argument: "recipe.length" });
    const totp = throws(() => Secrets.generateTotpCode("not base32!"), InvalidInputError, "not base32!");
    assert.deepEqual(totp.details, { argument: "totp.secret" });
    const shape = throws(() => Secrets.generatePassword({ type: "Bogus" }), InvalidInputError);
    assert.match(shape.details.argument, /GeneratePassword/);
    for (const error of [short, recipe, totp, shape]) local(error);
  });
});

describe("client.secrets", () => {
  let item;
  let ref;

  before(async () => {
    item = await client.items.create({
      ...holder(vault.id, unique("resolve")),
      fields: [
        { id: "password", title: "password", fieldType: ItemFieldType.Concealed, value: "pa55-resolve" },
        { id: "host", title: "host", fieldType: ItemFieldType.Text, value: "db.internal", sectionId: "admin" },
        { id: "otp", title: "one-time password", fieldType: ItemFieldType.Totp, value: "JBSWY3DPEHPK3PXP" },
      ],
      sections: [
        { id: "admin", title: "Admin" },
        { id: "files", title: "Files" },
      ],
      files: [{ content: new Uint8Array([0, 99, 0xff]), name: "key.bin", sectionId: "files", fieldId: "key" }],
    });
    ref = `op://${vault.id}/${item.id}/password`;
  });

  it("resolve: by ids, by names, a section's field by the section's title, a TOTP code", async () => {
    assert.equal(await client.secrets.resolve(ref), "pa55-resolve");
    assert.equal(await client.secrets.resolve(`op://${vault.title}/${item.title}/password`), "pa55-resolve");
    assert.equal(await client.secrets.resolve(`op://${vault.id}/${item.title}/Admin/host`), "db.internal");
    const code = await client.secrets.resolve(`op://${vault.id}/${item.id}/otp?attribute=otp`);
    assert.match(code, /^\d{6}$/);
  });

  it("resolveBytes: a field as UTF-8 and a binary file (by its name), as a plain Uint8Array", async () => {
    assertBytes(await client.secrets.resolveBytes(ref), Buffer.from("pa55-resolve"));
    assertBytes(await client.secrets.resolveBytes(`op://${vault.id}/${item.id}/files/key.bin`), [0, 99, 0xff]);
  });

  it("resolveBytesTo: writes the file with mode 0600, replacing what was there", async () => {
    const target = path.join(scratch, "resolved.bin");
    writeFileSync(target, "old content", { mode: 0o644 });
    await client.secrets.resolveBytesTo(`op://${vault.id}/${item.id}/files/key.bin`, target);
    assert.deepEqual(readFileSync(target), Buffer.from([0, 99, 0xff]));
    assert.equal(mode(target), 0o600);
    const field = path.join(scratch, "field.txt");
    await client.secrets.resolveBytesTo(ref, field);
    assert.equal(readFileSync(field, "utf8"), "pa55-resolve");
    assert.equal(mode(field), 0o600);
  });

  it("resolveBytesTo: a failed call leaves nothing behind", async () => {
    const target = path.join(scratch, "never.bin");
    await rejects(client.secrets.resolveBytesTo(`op://${vault.id}/${item.id}/nothing`, target), NotFoundError);
    assert.equal(existsSync(target), false);
    const unwritable = await rejects(
      client.secrets.resolveBytesTo(ref, path.join(scratch, "no-such-dir", "x")),
      InvalidInputError,
      "pa55-resolve",
    );
    assert.deepEqual(unwritable.details, { argument: "destination" });
  });

  it("resolveAll: one answer per reference, errors as data", async () => {
    const missing = `op://${vault.id}/${item.id}/nothing`;
    const answer = await client.secrets.resolveAll([ref, missing, "not-a-reference"]);
    assert.deepEqual(Object.keys(answer.individualResponses).sort(), [ref, missing, "not-a-reference"].sort());
    const found = answer.individualResponses[ref];
    assert.deepEqual(found.content, { secret: "pa55-resolve", itemId: item.id, vaultId: vault.id });
    assert.equal(found.error, undefined);
    const absent = answer.individualResponses[missing];
    assert.equal(absent.content, undefined);
    assert.equal(absent.error.code, ErrorCode.NotFound);
    assert.equal(absent.error.resource, "field");
    assert.equal(answer.individualResponses["not-a-reference"].error.code, ErrorCode.InvalidReference);
  });
});

// --- Items -----------------------------------------------------------------------------

describe("client.items", () => {
  it("create, get, put, list, archive, delete: a round trip", async () => {
    const title = unique("round-trip");
    const created = await client.items.create({
      category: ItemCategory.Login,
      vaultId: vault.id,
      title,
      fields: [
        { id: "username", title: "username", fieldType: ItemFieldType.Text, value: "app" },
        { id: "password", title: "password", fieldType: ItemFieldType.Concealed, value: "first-pass" },
        { id: "otp", title: "one-time password", fieldType: ItemFieldType.Totp, value: "JBSWY3DPEHPK3PXP" },
        { id: "host", title: "host", fieldType: ItemFieldType.Text, value: "db.internal", sectionId: "admin" },
      ],
      sections: [{ id: "admin", title: "Admin" }],
      websites: [{ url: "https://example.com", label: "website", autofillBehavior: AutofillBehavior.Never }],
      tags: ["js", "round-trip"],
      notes: "created by api.test.mjs",
    });
    assert.equal(created.title, title);
    assert.equal(created.vaultId, vault.id);
    assert.equal(created.version, 1);
    assert.equal(created.category, ItemCategory.Login);
    assert.equal(created.category, "Login");
    assert.deepEqual(created.tags, ["js", "round-trip"]);
    assert.equal(created.notes, "created by api.test.mjs");
    assert.equal(created.websites[0].autofillBehavior, AutofillBehavior.Never);
    assert.deepEqual(created.files, []);
    assertDate(created.createdAt, "createdAt");
    assertDate(created.updatedAt, "updatedAt");
    assert.ok(Math.abs(created.createdAt.getTime() - Date.now()) < 60_000);
    // The TOTP field carries its current code.
    const otp = created.fields.find((f) => f.id === "otp");
    assert.equal(otp.details.type, "Otp");
    assert.match(otp.details.content.code, /^\d{6}$/);

    const fetched = await client.items.get(vault.id, created.id);
    assert.equal(fetched.id, created.id);
    assert.deepEqual(fetched.sections, created.sections);
    assert.deepEqual(fetched.websites, created.websites);
    assert.deepEqual(
      fetched.fields.map((f) => [f.id, f.fieldType, f.value, f.sectionId]),
      created.fields.map((f) => [f.id, f.fieldType, f.value, f.sectionId]),
    );
    assertDate(fetched.createdAt, "createdAt");
    assert.equal(fetched.createdAt.getTime(), created.createdAt.getTime());

    fetched.title = `${title}-renamed`;
    fetched.fields.find((f) => f.id === "password").value = "second-pass";
    fetched.tags.push("edited");
    const put = await client.items.put(fetched);
    assert.equal(put.version, 2);
    assert.equal(put.title, `${title}-renamed`);
    assert.equal(put.createdAt.getTime(), created.createdAt.getTime());
    assertDate(put.updatedAt, "updatedAt");
    assert.ok(put.updatedAt.getTime() >= created.updatedAt.getTime());
    assert.equal(await client.secrets.resolve(`op://${vault.id}/${created.id}/password`), "second-pass");

    const listed = new Map((await client.items.list(vault.id)).map((o) => [o.id, o]));
    const overview = listed.get(created.id);
    assert.equal(overview.title, `${title}-renamed`);
    assert.deepEqual(overview.tags, ["js", "round-trip", "edited"]);
    assert.equal(overview.state, ItemState.Active);
    assert.equal(overview.category, ItemCategory.Login);
    assertDate(overview.createdAt, "overview.createdAt");
    assertDate(overview.updatedAt, "overview.updatedAt");
    assert.equal("fields" in overview, false, "an overview carries no field values");

    assert.equal(await client.items.archive(vault.id, created.id), undefined);
    assert.ok(!(await client.items.list(vault.id)).some((o) => o.id === created.id));
    const archived = await client.items.list(vault.id, {
      state: { type: "ByState", content: { active: false, archived: true } },
    });
    assert.deepEqual(
      archived.filter((o) => o.id === created.id).map((o) => [o.id, o.state]),
      [[created.id, ItemState.Archived]],
    );
    assert.ok(archived.every((o) => o.state === ItemState.Archived));
    await rejects(client.secrets.resolve(`op://${vault.id}/${created.id}/password`), NotFoundError, "second-pass");

    assert.equal(await client.items.delete(vault.id, created.id), undefined);
    const gone = await rejects(client.items.get(vault.id, created.id), NotFoundError);
    assert.equal(gone.details.resource, "item");
    const everything = await client.items.list(vault.id, {
      state: { type: "ByState", content: { active: true, archived: true } },
    });
    assert.ok(!everything.some((o) => o.id === created.id));
  });

  it("createAll, getAll, deleteAll: one answer per item", async () => {
    const prefix = unique("batch");
    const params = [0, 1, 2].map((i) => login(vault.id, `${prefix}-${i}`, `batch-secret-${i}`));
    // An item for another vault fails alone; the others are created.
    params.push(login("a".repeat(26), `${prefix}-elsewhere`, "never-stored"));
    const created = await client.items.createAll(vault.id, params);
    assert.deepEqual(
      created.individualResponses.map((r) => r.error === undefined),
      [true, true, true, false],
    );
    assert.equal(created.individualResponses[3].error.code, ErrorCode.InvalidInput);
    assert.equal(created.individualResponses[3].content, undefined);
    for (const response of created.individualResponses.slice(0, 3)) assertDate(response.content.createdAt, "createdAt");
    const ids = created.individualResponses.slice(0, 3).map((r) => r.content.id);

    const missing = "z".repeat(26);
    const got = await client.items.getAll(vault.id, [...ids, missing]);
    assert.deepEqual(
      got.individualResponses.map((r) => r.content?.title ?? null),
      [`${prefix}-0`, `${prefix}-1`, `${prefix}-2`, null],
    );
    assert.equal(got.individualResponses[0].content.fields[0].value, "batch-secret-0");
    assertDate(got.individualResponses[0].content.updatedAt, "updatedAt");
    assert.equal(got.individualResponses[3].error.code, ErrorCode.NotFound);

    const deleted = await client.items.deleteAll(vault.id, [ids[0], missing]);
    assert.equal(deleted.individualResponses[ids[0]].error, undefined);
    assert.equal(deleted.individualResponses[missing].error.code, ErrorCode.NotFound);
    const remaining = new Set((await client.items.list(vault.id)).map((o) => o.id));
    assert.ok(!remaining.has(ids[0]) && remaining.has(ids[1]) && remaining.has(ids[2]));
  });

  it("list: tag, title and category filters (run in the client)", async () => {
    const own = await client.vaults.create({ title: unique("js-filters") });
    try {
      for (const [title, tag, category] of [
        ["Alpha Login", "blue", ItemCategory.Login],
        ["beta note", "BLUE", ItemCategory.SecureNote],
        ["Gamma", "red", ItemCategory.Login],
      ]) {
        await client.items.create({ category, vaultId: own.id, title, tags: [tag] });
      }
      const titles = async (filters) => (await client.items.list(own.id, filters)).map((o) => o.title).sort();
      assert.deepEqual(await titles(undefined), ["Alpha Login", "Gamma", "beta note"]);
      assert.deepEqual(await titles({ tag: "Blue" }), ["Alpha Login", "beta note"]);
      assert.deepEqual(await titles({ titleContains: "LOGIN" }), ["Alpha Login"]);
      assert.deepEqual(await titles({ category: ItemCategory.SecureNote }), ["beta note"]);
      assert.deepEqual(await titles({ category: ItemCategory.Login, tag: "red" }), ["Gamma"]);
    } finally {
      await client.vaults.delete(own.id);
    }
  });

  it(
    "put accepts an item that went through JSON (ISO-string timestamps), as Python's accepts str",
    async () => {
      const item = await client.items.create(login(vault.id, unique("stamps"), "stamp-secret"));
      const revived = JSON.parse(JSON.stringify(item));
      revived.notes = "from JSON";
      const put = await client.items.put(revived);
      assert.equal(put.version, 2);
      assert.equal(put.createdAt.getTime(), item.createdAt.getTime());
    },
  );
});

// --- Files -----------------------------------------------------------------------------

describe("client.items.files", () => {
  it("attach (Uint8Array), read, readTo, delete", async () => {
    let item = await client.items.create(holder(vault.id));
    const bytes = new Uint8Array([0, 0x63, 0x65, 0x72, 0x74, 0xff]);
    item = await client.items.files.attach(item, { content: bytes, name: "ca.pem", sectionId: "files", fieldId: "ca" });
    assert.equal(item.version, 2);
    assertDate(item.updatedAt, "updatedAt");
    assert.equal(item.files.length, 1);
    const [file] = item.files;
    assert.deepEqual([file.sectionId, file.fieldId, file.attributes.name, file.attributes.size], ["files", "ca", "ca.pem", 6]);

    assertBytes(await client.items.files.read(vault.id, item.id, file.attributes), bytes);

    const target = path.join(scratch, "ca.pem");
    writeFileSync(target, "stale", { mode: 0o644 });
    assert.equal(await client.items.files.readTo(vault.id, item.id, file.attributes, target), undefined);
    assert.deepEqual(new Uint8Array(readFileSync(target)), bytes);
    assert.equal(mode(target), 0o600);

    item = await client.items.files.delete(item, "files", "ca");
    assert.deepEqual(item.files, []);
    await rejects(client.items.files.read(vault.id, item.id, file.attributes), NotFoundError);
  });

  it("attach accepts a Buffer, a Blob and fs.openAsBlob (streamed in chunks); read gives a plain Uint8Array", async () => {
    let item = await client.items.create(holder(vault.id));
    // More than one 64 KiB chunk, and not a multiple of it.
    const large = randomBytes(300 * 1024 + 7);
    const onDisk = path.join(scratch, "large.bin");
    writeFileSync(onDisk, large);
    const inputs = [
      ["buffer", Buffer.from("from a Buffer")],
      ["blob", new Blob(["from ", "a Blob"])],
      ["disk", await openAsBlob(onDisk)],
    ];
    for (const [name, content] of inputs) {
      item = await client.items.files.attach(item, { content, name, sectionId: "files", fieldId: name });
    }
    const attributes = Object.fromEntries(item.files.map((f) => [f.attributes.name, f.attributes]));
    assert.equal(attributes.disk.size, large.length);
    assertBytes(await client.items.files.read(vault.id, item.id, attributes.buffer), Buffer.from("from a Buffer"));
    assertBytes(await client.items.files.read(vault.id, item.id, attributes.blob), Buffer.from("from a Blob"));
    const back = await client.items.files.read(vault.id, item.id, attributes.disk);
    assertBytes(back, large);
    const target = path.join(scratch, "large-back.bin");
    await client.items.files.readTo(vault.id, item.id, attributes.disk, target);
    assert.ok(readFileSync(target).equals(large));
    assert.equal(mode(target), 0o600);
  });

  it("create with files and a document (bytes in the JSON), replaceDocument with a Uint8Array and a Blob", async () => {
    const withFile = await client.items.create({
      ...holder(vault.id),
      files: [{ content: new Uint8Array([9, 8, 7]), name: "f.bin", sectionId: "files", fieldId: "f" }],
    });
    assert.equal(withFile.files[0].attributes.size, 3);
    assertBytes(await client.items.files.read(vault.id, withFile.id, withFile.files[0].attributes), [9, 8, 7]);

    let document = await client.items.create({
      category: ItemCategory.Document,
      vaultId: vault.id,
      title: unique("document"),
      document: { content: Buffer.from("v1"), name: "v1.txt" },
    });
    assert.equal(document.category, ItemCategory.Document);
    assert.deepEqual([document.document.name, document.document.size], ["v1.txt", 2]);
    assertBytes(await client.items.files.read(vault.id, document.id, document.document), Buffer.from("v1"));

    document = await client.items.files.replaceDocument(document, { content: Buffer.from("version 2"), name: "v2.txt" });
    assert.equal(document.document.name, "v2.txt");
    assertBytes(await client.items.files.read(vault.id, document.id, document.document), Buffer.from("version 2"));

    document = await client.items.files.replaceDocument(document, { content: new Blob(["version 3"]), name: "v3.txt" });
    assert.deepEqual([document.document.name, document.document.size], ["v3.txt", 9]);
    assertBytes(await client.items.files.read(vault.id, document.id, document.document), Buffer.from("version 3"));
    // A document resolves by its file's name.
    assertBytes(await client.secrets.resolveBytes(`op://${vault.id}/${document.id}/v3.txt`), Buffer.from("version 3"));
  });

  it("content that is neither bytes nor a Blob is InvalidInputError, and nothing is attached", async () => {
    const item = await client.items.create(holder(vault.id));
    const text = "text-that-might-be-a-secret";
    for (const content of [text, [1, 2, 3], 42, null, { length: 3 }]) {
      const refused = await rejects(
        client.items.files.attach(item, { content, name: "a", sectionId: "files", fieldId: "f" }),
        InvalidInputError,
        text,
      );
      assert.deepEqual(refused.details, { argument: "content" });
      local(refused);
    }
    const document = await client.items.create({
      category: ItemCategory.Document,
      vaultId: vault.id,
      title: unique("document"),
      document: { content: new Uint8Array([1]), name: "d" },
    });
    await rejects(client.items.files.replaceDocument(document, { content: text, name: "d" }), InvalidInputError, text);
    assert.deepEqual((await client.items.get(vault.id, item.id)).files, []);
    assert.equal((await client.items.get(vault.id, document.id)).version, 1);
  });

  it("a Blob whose stream fails is InvalidInputError, with the stream's error as its cause", async () => {
    const item = await client.items.create(holder(vault.id));
    const failure = new Error("disk on fire");
    class FailingBlob extends Blob {
      stream() {
        return new ReadableStream({ pull: (controller) => controller.error(failure) });
      }
    }
    const error = await rejects(
      client.items.files.attach(item, { content: new FailingBlob(["abc"]), name: "x", sectionId: "files", fieldId: "x" }),
      InvalidInputError,
    );
    assert.equal(error.cause, failure);
    assert.match(error.message, /disk on fire/);
    assert.deepEqual((await client.items.get(vault.id, item.id)).files, []);
  });

  it("readTo: a destination that is not a path is InvalidInputError", async () => {
    const item = await client.items.files.attach(await client.items.create(holder(vault.id)), {
      content: new Uint8Array([1, 2]),
      name: "a",
      sectionId: "files",
      fieldId: "a",
    });
    const attributes = item.files[0].attributes;
    const notPath = await rejects(client.items.files.readTo(vault.id, item.id, attributes, 42), InvalidInputError);
    assert.deepEqual(notPath.details, { argument: "destination" });
    const missingDir = path.join(scratch, "no-such-dir", "a");
    await rejects(client.items.files.readTo(vault.id, item.id, attributes, missingDir), InvalidInputError);
    assert.equal(existsSync(missingDir), false);
  });

  it("items.create refuses a Blob (it streams only through attach and replaceDocument), precisely", async () => {
    const refused = await rejects(
      client.items.create({
        category: ItemCategory.Document,
        vaultId: vault.id,
        title: unique("blob-document"),
        document: { content: new Blob(["blob doc"]), name: "b.txt" },
      }),
      InvalidInputError,
    );
    assert.equal(refused.details.argument, "content");
    assert.match(refused.message, /attach/);
  });

  it(
    "items.create refuses content that is not bytes (InvalidInputError), as attach does",
    async () => {
      for (const content of ["AB", [65, 66]]) {
        const refused = await rejects(
          client.items.create({
            category: ItemCategory.Document,
            vaultId: vault.id,
            title: unique("string-document"),
            document: { content, name: "s.txt" },
          }),
          InvalidInputError,
        );
        assert.equal(refused.details.argument, "content");
      }
    },
  );

  it(
    "attach without content is InvalidInputError, not an empty file",
    async () => {
      const item = await client.items.create(holder(vault.id));
      await rejects(client.items.files.attach(item, { name: "x", sectionId: "files", fieldId: "x" }), InvalidInputError);
      assert.deepEqual((await client.items.get(vault.id, item.id)).files, []);
    },
  );
});

// --- Shares ----------------------------------------------------------------------------

describe("client.items.shares and Shares.open", () => {
  it("getAccountPolicy, create, list, Shares.open, revoke", async () => {
    const item = await client.items.create(login(vault.id, unique("shared"), "shared-secret"));
    const policy = await client.items.shares.getAccountPolicy(vault.id, item.id);
    assert.ok(policy.allowedTypes.includes(AllowedType.Public));
    assert.equal(typeof policy.files.allowed, "boolean");
    assert.equal(typeof policy.files.maxSize, "number");

    const link = await client.items.shares.create(item, policy, {
      oneTimeOnly: false,
      expireAfter: ItemShareDuration.OneHour,
    });
    assert.equal(typeof link, "string");
    assert.ok(link.startsWith(server.url) && new URL(link).hash.length > 1);
    const once = await client.items.shares.create(item, policy, { oneTimeOnly: true });

    const listed = new Map((await client.items.shares.list()).map((s) => [s.id, s]));
    const share = listed.get(shareId(link));
    assert.equal(share.itemId, item.id);
    assert.equal(share.vaultId, vault.id);
    assert.equal(share.maxViews ?? undefined, undefined);
    assert.equal(share.views, 0);
    assert.equal(share.hasFiles, false);
    assert.equal(share.revokedAt ?? undefined, undefined);
    assertDate(share.createdAt, "share.createdAt");
    assertDate(share.expiresAt, "share.expiresAt");
    const hour = share.expiresAt.getTime() - share.createdAt.getTime();
    assert.ok(Math.abs(hour - 3_600_000) < 5_000, `expires ${hour} ms after creation`);
    assert.equal(listed.get(shareId(once)).maxViews, 1);
    // The link's secret is not in what the creator sees later.
    assert.ok(!JSON.stringify([...listed.values()]).includes(new URL(link).hash.slice(1)));

    // Opening needs no client.
    const opened = await Shares.open(link);
    assert.equal(opened.title, item.title);
    assert.equal(opened.category, ItemCategory.Login);
    assert.deepEqual(
      opened.fields.map((f) => [f.id, f.value]),
      [["password", "shared-secret"]],
    );
    assertDate(opened.expiresAt, "opened.expiresAt");
    assert.equal((await Shares.open(once)).viewsLeft, 0);
    const used = await rejects(Shares.open(once), NotFoundError, "shared-secret");
    assert.equal(used.details.resource, "share");
    // Used up: the server says Gone.
    fromServer(used, 410);

    assert.equal(await client.items.shares.revoke(shareId(link)), undefined);
    await rejects(Shares.open(link), NotFoundError);
    const revoked = new Map((await client.items.shares.list()).map((s) => [s.id, s]));
    assertDate(revoked.get(shareId(link)).revokedAt, "revokedAt");
    assert.equal(revoked.get(shareId(link)).views, 1);
  });

  it("Shares.open: a malformed link is InvalidInputError, thrown as a class instance", async () => {
    const noSecret = await rejects(Shares.open("not a link"), InvalidInputError);
    assert.deepEqual(noSecret.details, { argument: "share link" });
    await rejects(Shares.open(`${server.url}/s/${"a".repeat(26)}#AAAA`), InvalidInputError);
  });

  it("validateRecipients: against the policy given", async () => {
    const item = await client.items.create(login(vault.id, unique("policy"), "policy-secret"));
    const policy = await client.items.shares.getAccountPolicy(vault.id, item.id);
    assert.deepEqual(await client.items.shares.validateRecipients(policy, []), []);
    // The server has no SMTP, so the account allows only public links.
    const refused = await rejects(client.items.shares.validateRecipients(policy, ["a@example.com"]), InvalidInputError);
    assert.equal(refused.details.argument, "recipients");
    const restricted = {
      ...policy,
      allowedTypes: [AllowedType.Public, AllowedType.Authenticated],
      allowedRecipientTypes: [AllowedRecipientType.Email, AllowedRecipientType.Domain],
    };
    assert.deepEqual(await client.items.shares.validateRecipients(restricted, ["A@Example.com", "example.org"]), [
      { type: "Email", parameters: { email: "a@example.com" } },
      { type: "Domain", parameters: { domain: "example.org" } },
    ]);
  });

  it("setAccountPolicy: takes effect; shared files arrive as Uint8Array", async () => {
    const item = await client.items.create({
      ...holder(vault.id, unique("share-files")),
      files: [{ content: new Uint8Array([0, 7, 0xff]), name: "k.bin", sectionId: "files", fieldId: "k" }],
    });
    const policy = await client.items.shares.getAccountPolicy(vault.id, item.id);
    try {
      const changed = await client.items.shares.setAccountPolicy({
        ...policy,
        maxViews: 7,
        files: { ...policy.files, allowed: true },
      });
      assert.equal(changed.maxViews, 7);
      assert.equal(changed.files.allowed, true);
      const now = await client.items.shares.getAccountPolicy(vault.id, item.id);
      assert.equal(now.maxViews, 7);
      const link = await client.items.shares.create(item, now, { oneTimeOnly: true });
      const opened = await Shares.open(link);
      assert.equal(opened.files.length, 1);
      assert.deepEqual([opened.files[0].name, opened.files[0].size], ["k.bin", 3]);
      assertBytes(opened.files[0].content, [0, 7, 0xff]);
    } finally {
      // The policy is account-wide: give the other tests theirs back.
      const restored = await client.items.shares.setAccountPolicy(policy);
      assert.deepEqual(restored, policy);
    }
  });

  it(
    "client.shares.open opens a link through the client, as the Python SDK's client.shares.open does",
    async () => {
      const item = await client.items.create(login(vault.id, unique("via-client"), "via-client-secret"));
      const policy = await client.items.shares.getAccountPolicy(vault.id, item.id);
      const link = await client.items.shares.create(item, policy, { oneTimeOnly: true });
      assert.equal((await client.shares.open(link)).fields[0].value, "via-client-secret");
    },
  );
});

// --- Vaults ----------------------------------------------------------------------------

describe("client.vaults", () => {
  it("create, list, getOverview, update, get, delete", async () => {
    const title = unique("js-vault");
    const made = await client.vaults.create({ title, description: "first" });
    assert.deepEqual([made.title, made.description, made.activeItemCount], [title, "first", 0]);
    assert.equal(made.vaultType, VaultType.UserCreated);
    try {
      const listed = await client.vaults.list();
      assert.ok(listed.some((v) => v.id === made.id && v.title === title));
      for (const overview of listed) assertDate(overview.createdAt, "vault createdAt");
      const detailed = await client.vaults.list({ decryptDetails: true });
      assert.deepEqual(
        detailed.filter((v) => v.id === made.id).map((v) => v.description),
        ["first"],
      );
      const overview = await client.vaults.getOverview(made.id);
      assert.deepEqual([overview.title, overview.description, overview.vaultType], [title, "first", VaultType.UserCreated]);
      assertDate(overview.createdAt, "createdAt");
      assertDate(overview.updatedAt, "updatedAt");

      const updated = await client.vaults.update(made.id, { title: `${title}-renamed`, description: "second" });
      assert.deepEqual([updated.title, updated.description], [`${title}-renamed`, "second"]);
      assert.equal(updated.attributeVersion, made.attributeVersion + 1);
      const plain = await client.vaults.get(made.id);
      assert.equal(plain.title, `${title}-renamed`);
      assert.equal(plain.access, undefined);
      const withAccess = await client.vaults.get(made.id, { accessors: true });
      assert.equal(withAccess.access.length, 1);
      assert.equal(withAccess.access[0].permissions & READ, READ);
      assert.equal(withAccess.access[0].vaultUuid, made.id);
    } finally {
      assert.equal(await client.vaults.delete(made.id), undefined);
    }
    const gone = await rejects(client.vaults.getOverview(made.id), NotFoundError);
    assert.equal(gone.details.resource, "vault");
    assert.ok(!(await client.vaults.list()).some((v) => v.id === made.id));
  });

  it("grantPermissions, updatePermissions, revokePermissions, leave: they take effect for a second principal", async () => {
    const own = await client.vaults.create({ title: unique("js-perms") });
    await client.items.create(login(own.id, "db", "granted-secret"));
    const account = serviceAccount();
    const ref = `op://${own.id}/db/password`;
    const robot = await connect({ auth: account.token });
    try {
      assert.ok(!(await robot.vaults.list()).some((v) => v.id === own.id));
      await rejects(robot.secrets.resolve(ref), NotFoundError, "granted-secret");

      let access = await client.vaults.grantPermissions(own.id, account.id, READ);
      assert.deepEqual([access.accessorUuid, access.vaultUuid, access.permissions], [account.id, own.id, READ]);
      assert.equal(await robot.secrets.resolve(ref), "granted-secret");
      assert.equal((await robot.vaults.getOverview(own.id)).title, own.title);
      await rejects(robot.items.create(login(own.id, "robot", "robot-secret")), PermissionDeniedError, "robot-secret");

      access = await client.vaults.updatePermissions(own.id, account.id, READ | CREATE_ITEMS);
      assert.equal(access.permissions, READ | CREATE_ITEMS);
      const made = await robot.items.create(login(own.id, "robot", "made-by-robot"));
      assert.equal(await client.secrets.resolve(`op://${own.id}/${made.id}/password`), "made-by-robot");
      const listed = await client.vaults.get(own.id, { accessors: true });
      assert.equal(listed.access.find((a) => a.accessorUuid === account.id).permissions, READ | CREATE_ITEMS);

      assert.equal(await client.vaults.revokePermissions(own.id, account.id), undefined);
      await rejects(robot.secrets.resolve(ref), NotFoundError);
      assert.ok(!(await robot.vaults.list()).some((v) => v.id === own.id));

      // Leaving gives up a grant without any permission.
      await client.vaults.grantPermissions(own.id, account.id, READ);
      assert.equal(await robot.secrets.resolve(ref), "granted-secret");
      assert.equal(await robot.vaults.leave(own.id), undefined);
      await rejects(robot.secrets.resolve(ref), NotFoundError);
      const afterLeave = await client.vaults.get(own.id, { accessors: true });
      assert.ok(!afterLeave.access.some((a) => a.accessorUuid === account.id));
    } finally {
      robot.close();
      await client.vaults.delete(own.id);
      revoke(account);
    }
  });
});

// --- Events and client state -----------------------------------------------------------

describe("client.events", () => {
  it("list: every page, chained; verify: the whole trail", async () => {
    const integration = unique("js-events");
    const audited = await createClient({
      auth: server.ownerToken,
      integrationName: integration,
      integrationVersion: "2.0",
      serverUrl: server.url,
    });
    const item = await audited.items.create(login(vault.id, unique("audited"), "audit-secret"));
    audited.close();

    const events = [];
    let afterSeq;
    for (;;) {
      const page = await client.events.list(1000, afterSeq);
      events.push(...page.events);
      if (page.nextCursor == null) break;
      afterSeq = page.nextCursor;
    }
    assert.deepEqual(
      events.map((e) => e.seq),
      Array.from({ length: events.length }, (_, i) => i + 1),
    );
    assert.equal(events[0].prevHash, "0".repeat(64));
    for (let i = 1; i < events.length; i++) assert.equal(events[i].prevHash, events[i - 1].hash);
    for (const event of events) assertDate(event.time, `event ${event.seq} time`);
    const ours = events.filter((e) => e.integrationName === integration);
    assert.ok(ours.some((e) => e.action === "auth"));
    assert.ok(ours.every((e) => e.integrationVersion === "2.0"));
    const created = ours.filter((e) => e.itemId === item.id);
    assert.ok(created.length > 0);
    assert.equal(created[0].vaultId, vault.id);
    assert.equal(created[0].outcome, "ok");
    assert.ok(!JSON.stringify(events).includes("audit-secret"));

    const small = await client.events.list(2, 1);
    assert.deepEqual(
      small.events.map((e) => e.seq),
      [2, 3],
    );
    assert.equal(small.nextCursor, 3);

    const verified = await client.events.verify();
    assert.ok(verified.events >= events.at(-1).seq);
    assert.match(verified.headHash, /^[0-9a-f]{64}$/);
    assert.ok(verified.unsigned <= verified.events);
  });
});

describe("client state", () => {
  it("rateLimit: the budget the server last reported", async () => {
    await client.items.list(vault.id);
    const state = await client.rateLimit();
    assert.ok(state.remaining >= 0 && state.remaining < state.limit, inspect(state));
    assert.ok(state.resetSeconds > 0);
  });

  it("unreadableRecords: none for a healthy vault", async () => {
    const records = await client.unreadableRecords();
    assert.ok(Array.isArray(records));
    // Other tests may leave records this client cannot open; none are this vault's.
    assert.deepEqual(
      records.filter((r) => r.vaultId === vault.id),
      [],
    );
  });
});

// --- Errors ----------------------------------------------------------------------------

describe("errors: the classes", () => {
  it("every class: an Error and a SesameError, its stable code and number, ERRORS_BY_CODE", () => {
    assert.equal(Object.keys(sdk.ERRORS_BY_CODE).length, ERRORS.length);
    for (const [Class, code, number] of ERRORS) {
      const made = new Class("a message", { argument: "x" });
      assert.ok(made instanceof Error && made instanceof SesameError && made instanceof Class, Class.name);
      assert.deepEqual([made.code, made.number, made.name, made.message], [code, number, Class.name, "a message"]);
      assert.deepEqual(made.details, { argument: "x" });
      assert.equal(made.statusCode, undefined);
      assert.equal(sdk.ERRORS_BY_CODE[code], Class);
      assert.ok(Object.values(ErrorCode).includes(code), code);
      for (const [Other] of ERRORS) if (Other !== Class) assert.ok(!(made instanceof Other), `${Class.name} is a ${Other.name}`);
    }
    assert.equal(new SesameError("m").code, "unknown");
  });

  it("the 1Password SDK's names are the same classes", () => {
    assert.equal(RateLimitExceededError, RateLimitedError);
    assert.equal(AuthExpiredError, AuthenticationError);
  });

  it("errorFromEnvelope: the class of each code, its details and HTTP facts; an unknown code kept", () => {
    for (const [Class, code] of ERRORS) {
      const error = sdk.errorFromEnvelope({ code, message: "m", statusCode: 418, requestId: "r1", resource: "item" });
      assert.equal(error.constructor, Class);
      assert.deepEqual([error.code, error.message, error.statusCode, error.requestId], [code, "m", 418, "r1"]);
      assert.deepEqual(error.details, { statusCode: 418, requestId: "r1", resource: "item" });
    }
    const limited = sdk.errorFromEnvelope({ code: "rate_limited", message: "m", retryAfterSeconds: 7 });
    assert.equal(limited.retryAfter, 7);
    const newer = sdk.errorFromEnvelope({ code: "from_the_future", message: "m" });
    assert.equal(newer.constructor, SesameError);
    assert.equal(newer.code, "from_the_future");
  });
});

describe("errors: each from a real condition", () => {
  it("NotFoundError: a missing item or field, with what was not found", async () => {
    const item = await client.items.create(login(vault.id, unique("present"), "nf-secret-value"));
    const missingItem = await rejects(
      client.secrets.resolve(`op://${vault.id}/no-such-item/password`),
      NotFoundError,
      "nf-secret-value",
    );
    assert.deepEqual(
      { resource: missingItem.details.resource, name: missingItem.details.name },
      { resource: "item", name: "no-such-item" },
    );
    const missingField = await rejects(
      client.secrets.resolve(`op://${vault.id}/${item.id}/no-such-field`),
      NotFoundError,
      "nf-secret-value",
    );
    assert.deepEqual(
      { resource: missingField.details.resource, name: missingField.details.name },
      { resource: "field", name: "no-such-field" },
    );
    const fromHttp = await rejects(client.items.get(vault.id, "q".repeat(26)), NotFoundError);
    assert.equal(fromHttp.details.resource, "item");
  });

  it("InvalidReferenceError: where and why the reference is malformed", async () => {
    const empty = await rejects(client.secrets.resolve("op://Infra//password"), InvalidReferenceError);
    const { kind, offset, segment, hint } = empty.details.reference;
    assert.deepEqual([kind, offset, segment], ["empty_segment", 11, "item"]);
    assert.ok(hint.length > 0);
    local(empty);
    throws(() => Secrets.validateSecretReference("vault/item/field"), InvalidReferenceError);
  });

  it("InvalidInputError: a missing integration name, an out-of-range recipe (closed client, content: above)", async () => {
    const name = await rejects(connect({ integrationName: "" }), InvalidInputError, server.ownerToken);
    assert.deepEqual(name.details, { argument: "integration_name" });
    local(name);
    const recipe = throws(() => Secrets.generatePassword({ type: "Pin", parameters: { length: 0 } }), InvalidInputError);
    assert.equal(recipe.details.argument, "recipe.length");
  });

  it("InvalidTokenError: a malformed or altered token, at createClient, never shown", async () => {
    const prefix = await rejects(connect({ auth: "not-a-token" }), InvalidTokenError, "not-a-token");
    assert.deepEqual(prefix.details, { token: "wrong_prefix" });
    local(prefix);

    const owner = server.ownerToken;
    const altered = owner.slice(0, -1) + (owner.at(-1) === "A" ? "B" : "A");
    const secretPart = owner.replace(/^sesame_sa_/, "").split(".")[0];
    const checksum = await rejects(connect({ auth: altered }), InvalidTokenError, altered, owner, secretPart);
    assert.deepEqual(checksum.details, { token: "checksum_mismatch" });
  });

  it("AuthenticationError (AuthExpiredError): a revoked token, 401, at a call and at createClient", async () => {
    const account = serviceAccount(`${vault.id}:read`);
    const item = await client.items.create(login(vault.id, unique("tk"), "token-secret"));
    const ref = `op://${vault.id}/${item.id}/password`;
    const robot = await connect({ auth: account.token });
    try {
      assert.equal(await robot.secrets.resolve(ref), "token-secret");
      revoke(account);
      const revoked = await rejects(robot.secrets.resolve(ref), AuthenticationError, account.token, "token-secret");
      assert.ok(revoked instanceof AuthExpiredError);
      assert.match(revoked.message, /revoked/);
      fromServer(revoked, 401);
      const again = await rejects(connect({ auth: account.token }), AuthenticationError, account.token);
      fromServer(again, 401);
    } finally {
      robot.close();
    }
  });

  it("PermissionDeniedError: a read-only service account writes, 403 with the server's request id", async () => {
    const account = serviceAccount(`${vault.id}:read`);
    const reader = await connect({ auth: account.token });
    try {
      const write = await rejects(
        reader.items.create(login(vault.id, "denied", "denied-secret")),
        PermissionDeniedError,
        "denied-secret",
        account.token,
      );
      assert.match(write.message, /CREATE_ITEMS/);
      fromServer(write, 403);
      fromServer(await rejects(reader.events.list(1), PermissionDeniedError, account.token), 403);
      await rejects(reader.vaults.create({ title: unique("js-denied") }), PermissionDeniedError);
    } finally {
      reader.close();
      revoke(account);
    }
  });

  it("ConflictError: a second client's stale put, 409; the first write stays", async () => {
    const item = await client.items.create(login(vault.id, unique("conflict"), "conflict-secret"));
    const second = await connect();
    try {
      const stale = await second.items.get(vault.id, item.id);
      item.notes = "first writer";
      await client.items.put(item);
      stale.notes = "stale writer";
      const conflict = await rejects(second.items.put(stale), ConflictError, "conflict-secret", "stale writer");
      assert.match(conflict.message, /version/);
      fromServer(conflict, 409);
      assert.equal((await client.items.get(vault.id, item.id)).notes, "first writer");
    } finally {
      second.close();
    }
  });

  it("ConflictError: a stale item with files, found by the client itself (no HTTP facts)", async () => {
    const item = await client.items.files.attach(await client.items.create(holder(vault.id)), {
      content: new Uint8Array([1]),
      name: "a",
      sectionId: "files",
      fieldId: "a",
    });
    await client.items.put({ ...item, notes: "first" });
    const conflict = await rejects(client.items.put({ ...item, notes: "stale" }), ConflictError);
    local(conflict);
  });

  it("AmbiguousError: two items of the same name, with both candidates", async () => {
    const title = unique("twin");
    const first = await client.items.create(login(vault.id, title, "twin-secret-1"));
    const second = await client.items.create(login(vault.id, title, "twin-secret-2"));
    const twins = await rejects(
      client.secrets.resolve(`op://${vault.id}/${title}/password`),
      AmbiguousError,
      "twin-secret-1",
      "twin-secret-2",
    );
    assert.equal(twins.details.resource, "item");
    assert.equal(twins.details.name, title);
    assert.deepEqual([...twins.details.candidates].sort(), [first.id, second.id].sort());
    // By id, each is found.
    assert.equal(await client.secrets.resolve(`op://${vault.id}/${second.id}/password`), "twin-secret-2");
  });

  it("RateLimitedError (RateLimitExceededError): over a service account's limit, 429 with retryAfter", async () => {
    const item = await client.items.create(login(vault.id, unique("limited"), "limited-secret"));
    const account = serviceAccount(`${vault.id}:read`);
    server.cli(["service-account", "ratelimit", account.id, "--reads", "1"]);
    // No retries: a short Retry-After would otherwise be waited out.
    const limited = await connect({ auth: account.token, retries: 0 });
    try {
      let over;
      for (let i = 0; i < 5 && over === undefined; i++) {
        try {
          await limited.secrets.resolve(`op://${vault.id}/${item.id}/password`);
        } catch (e) {
          over = e;
        }
      }
      assert.ok(over !== undefined, "never rate limited");
      checkError(over, RateLimitedError, "limited-secret", account.token);
      assert.ok(over instanceof RateLimitExceededError);
      assert.equal(typeof over.retryAfter, "number");
      assert.ok(over.retryAfter > 0);
      assert.equal(over.details.retryAfterSeconds, over.retryAfter);
      fromServer(over, 429);
      const state = await limited.rateLimit();
      assert.deepEqual([state.limit, state.remaining], [1, 0]);
    } finally {
      limited.close();
      revoke(account);
    }
  });

  it("NetworkError: nothing listens at the server URL (retries 0)", async () => {
    const port = await closedPort();
    const refused = await rejects(
      connect({ serverUrl: `http://127.0.0.1:${port}`, retries: 0, timeoutSeconds: 5 }),
      NetworkError,
      server.ownerToken,
    );
    local(refused);
  });

  it("ServerError: a gateway answering 502", async () => {
    const gateway = await fakeServer((_, response) => {
      response.writeHead(502, { "content-type": "text/html" });
      response.end("<html>bad gateway</html>");
    });
    try {
      const failed = await rejects(connect({ serverUrl: gateway.url, retries: 0 }), ServerError, server.ownerToken);
      assert.match(failed.message, /502/);
      assert.equal(failed.statusCode, 502);
    } finally {
      await gateway.close();
    }
  });

  it(
    "IntegrityError: altered ciphertext fails alone; unreadableRecords names it",
    { skip: !HAVE_SQLITE3 && "the sqlite3 command line is needed to alter the server's database" },
    async () => {
      const own = await client.vaults.create({ title: unique("js-integrity") });
      const detailsVictim = await client.items.create(login(own.id, "details", "integrity-secret"));
      const overviewVictim = await client.items.create(login(own.id, "overview", "other-secret"));
      const healthy = await client.items.create(login(own.id, "healthy", "healthy-secret"));
      const originals = [];
      try {
        for (const [item, column] of [
          [detailsVictim, "details"],
          [overviewVictim, "overview"],
        ]) {
          const where = `vault_id = '${own.id}' AND id = '${item.id}'`;
          const hex = sqlite(`SELECT hex(${column}) FROM items WHERE ${where};`);
          assert.match(hex, /^[0-9A-F]+$/);
          originals.push([where, column, hex]);
          const last = (parseInt(hex.slice(-2), 16) ^ 1).toString(16).padStart(2, "0");
          sqlite(`UPDATE items SET ${column} = X'${hex.slice(0, -2)}${last}' WHERE ${where};`);
        }
        // A new client syncs the altered records.
        const fresh = await connect();
        try {
          await rejects(fresh.items.get(own.id, detailsVictim.id), IntegrityError, "integrity-secret", server.ownerToken);
          const listed = new Set((await fresh.items.list(own.id)).map((o) => o.id));
          assert.ok(listed.has(healthy.id) && !listed.has(overviewVictim.id));
          const unreadable = (await fresh.unreadableRecords()).filter((r) => r.vaultId === own.id);
          const kinds = Object.fromEntries(unreadable.map((r) => [r.itemId, r.kind]));
          assert.equal(kinds[overviewVictim.id], UnreadableKind.ItemOverview);
          assert.equal(kinds[healthy.id], undefined);
          assert.ok(unreadable.every((r) => typeof r.message === "string" && r.message.length > 0));
          assert.ok(!JSON.stringify(unreadable).includes("other-secret"));
          assert.equal(await fresh.secrets.resolve(`op://${own.id}/${healthy.id}/password`), "healthy-secret");
        } finally {
          fresh.close();
        }
      } finally {
        for (const [where, column, hex] of originals) sqlite(`UPDATE items SET ${column} = X'${hex}' WHERE ${where};`);
        await client.vaults.delete(own.id);
      }
    },
  );

  it(
    "optional fields that are absent are undefined, as the declarations (`?:`) say, not null",
    async () => {
      const item = await client.items.create(login(vault.id, unique("nulls"), "null-secret"));
      const policy = await client.items.shares.getAccountPolicy(vault.id, item.id);
      const link = await client.items.shares.create(item, policy, { oneTimeOnly: false });
      const share = (await client.items.shares.list()).find((s) => s.id === shareId(link));
      assert.equal(share.revokedAt, undefined);
      assert.equal(share.maxViews, undefined);
      assert.equal((await Shares.open(link)).viewsLeft, undefined);
      assert.equal((await client.events.verify()).checkpoint, undefined);
    },
  );
});
