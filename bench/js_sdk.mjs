#!/usr/bin/env node
// The JavaScript SDK (`@sesame/sdk`) against the official 1Password one (`@1password/sdk`),
// both installed as a user would install them into one directory.
//
// `make bench` installs the release `@sesame/sdk` tarball and `@1password/sdk@0.5.0` into
// target/js-bench (`make js-bench-install`) and runs
//
//     node bench/js_sdk.mjs --dir target/js-bench --server target/release/sesame \
//         --out target/bench-js.json
//
// Both packages are loaded from --dir (`createRequire(<dir>/package.json)`), never from
// the source tree, so what is measured is what npm installed. It prints a table of both
// SDKs' numbers, their ratio, the target and PASS/MISS, and writes it all to --out.
//
// Like bench/python_sdk.py it reports and never asserts: it exits 0 when a target is
// missed (the table says MISS and a last line lists them), non-zero only when it could
// not measure. Speed targets are ratios against the official SDK timed in the same
// process, so they mean the same on a fast or a slow machine; require time has an
// absolute target (20 ms).
//
// Measured for both: per-call latency of the offline calls (median of repeated batches),
// require time and the RSS a package adds (fresh node processes). For sesame alone: warm
// `secrets.resolve` (default and cached) and the throughput of concurrent resolves,
// against a local server started here, since the official SDK needs a 1Password account
// to resolve anything.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";

import { sesameBin, startServer } from "../tests/js/server.mjs";

const REFERENCE = "op://vault/item/field";
// The same object for both: the two SDKs declare the same PasswordRecipe shape.
const RECIPE = { type: "Random", parameters: { length: 32, includeDigits: true, includeSymbols: true } };
const PACKAGES = { sesame: "@sesame/sdk", official: "@1password/sdk" };

// Fresh-process runs per package (the median is kept), after one discarded round that
// warms the page cache. Single runs on a shared 2-core machine spread widely.
const FRESH_RUNS = 15;
// Offline calls: each timed batch lasts at least this long; the median of BATCHES is kept.
const BATCH_NS = 200e6;
const BATCHES = 7;
// Warm resolve: every reference once, then this many timed calls.
const RESOLVE_CALLS = 200;
const ITEMS = 100;
// Throughput: this many resolves started at once (Promise.all), THROUGHPUT_REPEATS times.
const CONCURRENT = 500;
const THROUGHPUT_REPEATS = 5;
const VAULT = "bench-js";

// Each fresh process reads its RSS, requires the package between two clock readings,
// reads its RSS again, makes one offline call (the official SDK instantiates its WASM
// core at require; a package could as well defer such work to its first call) and reads
// it a third time. Builtins only, all of them loaded by node before any user code runs,
// so they cost neither side anything. VmHWM (the peak) too, for the transient cost of
// loading that the current RSS no longer shows.
const FRESH_SCRIPT = `
const { createRequire } = require("node:module");
const { readFileSync } = require("node:fs");
const [manifest, name, reference] = process.argv.slice(1);
const peak = () => {
  try {
    const line = readFileSync("/proc/self/status", "utf8").split("\\n").find((l) => l.startsWith("VmHWM"));
    return Number(line.split(/\\s+/)[1]) * 1024;
  } catch {
    return null;
  }
};
const load = createRequire(manifest);
const peakBefore = peak();
const rssBefore = process.memoryUsage.rss();
const t0 = process.hrtime.bigint();
const sdk = load(name);
const t1 = process.hrtime.bigint();
const rssRequired = process.memoryUsage.rss();
sdk.Secrets.validateSecretReference(reference);
const t2 = process.hrtime.bigint();
const rssFirstCall = process.memoryUsage.rss();
const peakAfter = peak();
process.stdout.write(JSON.stringify({
  requireNs: Number(t1 - t0),
  firstCallNs: Number(t2 - t1),
  rssBefore,
  rssRequired,
  rssFirstCall,
  peakBefore,
  peakAfter,
}));
`;

function log(message) {
  process.stderr.write(`js_sdk: ${message}\n`);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The q-quantile (0 < q < 1) by linear interpolation between the closest ranks. */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

function spread(samples) {
  return { medianNs: median(samples), p10Ns: quantile(samples, 0.1), p90Ns: quantile(samples, 0.9) };
}

const now = () => process.hrtime.bigint();

// ---------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------

/**
 * Both packages in fresh node processes, FRESH_RUNS each (medians): require ns, first
 * offline call ns, RSS added by the require and by require + first call, peak added.
 * The packages take turns, so a burst of load from the other users of the machine
 * spreads over both instead of skewing one.
 */
function freshProcesses(manifest) {
  const samples = Object.fromEntries(Object.keys(PACKAGES).map((key) => [key, []]));
  // NODE_OPTIONS could preload code into one side's measurement (as -I keeps PYTHON*
  // variables out of bench/python_sdk.py's interpreters).
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  for (let round = 0; round <= FRESH_RUNS; round++) {
    for (const [key, name] of Object.entries(PACKAGES)) {
      const done = spawnSync(process.execPath, ["-e", FRESH_SCRIPT, manifest, name, REFERENCE], {
        env,
        encoding: "utf8",
        timeout: 120_000,
      });
      if (done.status !== 0) throw new Error(`${name} in a fresh process: ${done.stderr || done.error}`);
      if (round > 0) samples[key].push(JSON.parse(done.stdout));
    }
  }
  const summary = (runs) => {
    const of = (f) => (runs.every((r) => f(r) !== null && !Number.isNaN(f(r))) ? median(runs.map(f)) : null);
    return {
      requireNs: of((r) => r.requireNs),
      firstCallNs: of((r) => r.firstCallNs),
      rssBeforeBytes: of((r) => r.rssBefore),
      rssAddedByRequireBytes: of((r) => r.rssRequired - r.rssBefore),
      rssAddedByFirstCallBytes: of((r) => r.rssFirstCall - r.rssBefore),
      peakAddedBytes: of((r) => (r.peakBefore === null ? null : r.peakAfter - r.peakBefore)),
      runs,
    };
  };
  return Object.fromEntries(Object.entries(samples).map(([key, runs]) => [key, summary(runs)]));
}

// Where results go, so no engine could ever drop a call whose result is unused.
let sink;

/** Calls in one timed batch: doubled from 1 until a batch lasts BATCH_NS. Warms up too. */
function batchSize(call) {
  for (let number = 1; ; number *= 2) {
    const start = now();
    for (let i = 0; i < number; i++) sink = call();
    if (Number(now() - start) >= BATCH_NS) return number;
  }
}

/**
 * Per-call ns of each call, the median of BATCHES batches. The calls' batches take
 * turns (ours, theirs, ours, …) so that noise on the machine falls on both alike.
 */
function perCallNs(calls) {
  const sizes = Object.fromEntries(Object.entries(calls).map(([key, call]) => [key, batchSize(call)]));
  const samples = Object.fromEntries(Object.keys(calls).map((key) => [key, []]));
  for (let batch = 0; batch < BATCHES; batch++) {
    for (const [key, call] of Object.entries(calls)) {
      const number = sizes[key];
      const start = now();
      for (let i = 0; i < number; i++) sink = call();
      samples[key].push(Number(now() - start) / number);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([key, perCall]) => [key, median(perCall)]));
}

function offlineLatency(sdks) {
  const { sesame, official } = sdks;
  // Both must answer the same thing for the comparison to mean anything: a valid
  // reference passes, a broken one throws, and the recipe gives 32 characters.
  for (const [key, sdk] of Object.entries(sdks)) {
    sdk.Secrets.validateSecretReference(REFERENCE);
    let threw = false;
    try {
      sdk.Secrets.validateSecretReference("op://vault");
    } catch {
      threw = true;
    }
    if (!threw) throw new Error(`${PACKAGES[key]} accepted the invalid reference op://vault`);
    const { password } = sdk.Secrets.generatePassword(RECIPE);
    if (typeof password !== "string" || password.length !== 32) {
      throw new Error(`${PACKAGES[key]}: a 32-character recipe gave ${JSON.stringify(password)}`);
    }
  }
  return {
    validateSecretReference: perCallNs({
      sesame: () => sesame.Secrets.validateSecretReference(REFERENCE),
      official: () => official.Secrets.validateSecretReference(REFERENCE),
    }),
    generatePassword: perCallNs({
      sesame: () => sesame.Secrets.generatePassword(RECIPE),
      official: () => official.Secrets.generatePassword(RECIPE),
    }),
  };
}

/**
 * Warm `secrets.resolve`: every reference once untimed, then RESOLVE_CALLS timed calls
 * taking turns over them. Each answer is checked (the wrong secret fast is no result).
 */
async function resolveSpread(client, secrets) {
  const references = Object.keys(secrets);
  for (const reference of references) await client.secrets.resolve(reference);
  const samples = [];
  for (let i = 0; i < RESOLVE_CALLS; i++) {
    const reference = references[i % references.length];
    const start = now();
    const value = await client.secrets.resolve(reference);
    samples.push(Number(now() - start));
    if (value !== secrets[reference]) throw new Error(`${reference} resolved to the wrong secret`);
  }
  return spread(samples);
}

/** CONCURRENT resolves at once over the references: one untimed round, then resolves/s of each. */
async function throughput(client, secrets) {
  const references = Object.keys(secrets);
  const round = async () => {
    const wanted = Array.from({ length: CONCURRENT }, (_, i) => references[i % references.length]);
    const start = now();
    const values = await Promise.all(wanted.map((reference) => client.secrets.resolve(reference)));
    const took = Number(now() - start);
    values.forEach((value, i) => {
      if (value !== secrets[wanted[i]]) throw new Error(`${wanted[i]} resolved to the wrong secret`);
    });
    return took;
  };
  await round();
  const perSecond = [];
  for (let i = 0; i < THROUGHPUT_REPEATS; i++) perSecond.push((CONCURRENT / (await round())) * 1e9);
  return { medianPerSecond: median(perSecond), minPerSecond: Math.min(...perSecond), maxPerSecond: Math.max(...perSecond) };
}

/**
 * sesame against a local server, provisioned through the SDK itself: one vault, ITEMS
 * logins with one concealed field each.
 */
async function online(sesame) {
  const server = await startServer("sesame-bench-js-");
  const options = { auth: server.ownerToken, integrationName: "bench", integrationVersion: "1.0", serverUrl: server.url };
  const clients = [];
  try {
    const client = await sesame.createClient(options);
    clients.push(client);
    const vault = await client.vaults.create({ title: VAULT });
    const secrets = {};
    for (let i = 0; i < ITEMS; i++) {
      const title = `item-${String(i).padStart(3, "0")}`;
      const value = `secret-${String(i).padStart(3, "0")}-${randomBytes(8).toString("hex")}`;
      await client.items.create({
        category: sesame.ItemCategory.Login,
        vaultId: vault.id,
        title,
        fields: [{ id: "password", title: "password", fieldType: sesame.ItemFieldType.Concealed, value }],
      });
      secrets[`op://${VAULT}/${title}/password`] = value;
    }
    // A second client that may serve reads from its cache for 60 s, to show what the
    // default (a sync round trip on every read) costs. Made after provisioning, so its
    // first sync already sees every item.
    const cached = await sesame.createClient({ ...options, cacheTtlSeconds: 60 });
    clients.push(cached);
    return {
      resolve: await resolveSpread(client, secrets),
      resolveCached: await resolveSpread(cached, secrets),
      throughput: await throughput(client, secrets),
      throughputCached: await throughput(cached, secrets),
    };
  } finally {
    for (const client of clients) client.close();
    server.stop();
  }
}

/** Name, version and where each package was loaded from (the addon's size shows a debug build). */
function installed(dir, load) {
  const info = {};
  for (const [key, name] of Object.entries(PACKAGES)) {
    const root = path.join(dir, "node_modules", name);
    const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    info[key] = { name, version: manifest.version, main: realpathSync(load.resolve(name)) };
  }
  const addon = path.join(realpathSync(path.join(dir, "node_modules", PACKAGES.sesame)), "native", "sesame.node");
  info.sesame.addon = { path: addon, bytes: existsSync(addon) ? statSync(addon).size : null };
  return info;
}

// ---------------------------------------------------------------------------------------
// Judging and printing
// ---------------------------------------------------------------------------------------

function row(metric, unit, sesame, official, target, met) {
  const verdict = target === "" ? "info" : met ? "PASS" : "MISS";
  return { metric, unit, sesame, official, target, verdict };
}

/** official ÷ sesame: how many times faster or lighter sesame is. */
function ratio(r) {
  if (r.official === null || r.official === undefined || r.sesame === null || r.sesame <= 0) return null;
  return r.official / r.sesame;
}

/** The table: the targets first, then numbers shown for context. */
function rowsOf(raw) {
  const { offline, fresh } = raw;
  const { sesame: ours, official: theirs } = fresh;
  const rows = [];
  for (const [call, label] of [
    ["validateSecretReference", `Secrets.validateSecretReference(${JSON.stringify(REFERENCE)})`],
    ["generatePassword", "Secrets.generatePassword(Random 32, digits+symbols)"],
  ]) {
    const { sesame, official } = offline[call];
    rows.push(row(label, "ns", sesame, official, "≥ 5× faster", official >= 5 * sesame));
  }
  rows.push(row("require time (fresh process)", "ns", ours.requireNs, theirs.requireNs, "< 20 ms", ours.requireNs < 20e6));
  rows.push(
    row(
      "RSS added by require + first offline call",
      "bytes",
      ours.rssAddedByFirstCallBytes,
      theirs.rssAddedByFirstCallBytes,
      "< ¼ official",
      ours.rssAddedByFirstCallBytes < theirs.rssAddedByFirstCallBytes / 4,
    ),
  );
  rows.push(row("RSS added by require alone", "bytes", ours.rssAddedByRequireBytes, theirs.rssAddedByRequireBytes, ""));
  rows.push(row("first offline call after require", "ns", ours.firstCallNs, theirs.firstCallNs, ""));
  rows.push(row("peak RSS (VmHWM) added by require + call", "bytes", ours.peakAddedBytes, theirs.peakAddedBytes, ""));
  rows.push(row("fresh node process: RSS before require", "bytes", ours.rssBeforeBytes, null, ""));
  return rows;
}

function shown(value, unit) {
  if (value === null || value === undefined) return "—";
  if (unit === "ns") {
    for (const [scale, suffix] of [[1e9, "s"], [1e6, "ms"], [1e3, "µs"]]) {
      if (Math.abs(value) >= scale) return `${(value / scale).toFixed(2)} ${suffix}`;
    }
    return `${value.toFixed(0)} ns`;
  }
  for (const [scale, suffix] of [[2 ** 20, "MiB"], [2 ** 10, "KiB"]]) {
    if (Math.abs(value) >= scale) return `${(value / scale).toFixed(2)} ${suffix}`;
  }
  return `${value.toFixed(0)} B`;
}

const pad = (text, width) => String(text).padEnd(width);
const padStart = (text, width) => String(text).padStart(width);

/** Prints both tables; the rows that missed their target. */
function printTable(rows, raw) {
  const { packages } = raw;
  const addonBytes = packages.sesame.addon.bytes;
  console.log(
    `\nJavaScript SDK: ${packages.sesame.name} ${packages.sesame.version} (native addon ` +
      `${shown(addonBytes, "bytes")}) against ${packages.official.name} ${packages.official.version}, node ${raw.node}`,
  );
  console.log(`${pad("metric", 58)} ${padStart("sesame", 11)} ${padStart("official", 11)} ${padStart("off÷ses", 8)}  ${pad("target", 14)} verdict`);
  for (const r of rows) {
    const x = ratio(r);
    console.log(
      `${pad(r.metric, 58)} ${padStart(shown(r.sesame, r.unit), 11)} ${padStart(shown(r.official, r.unit), 11)} ` +
        `${padStart(x === null ? "" : `${x.toFixed(1)}×`, 8)}  ${pad(r.target, 14)} ${r.verdict}`,
    );
  }
  const { online: o } = raw;
  console.log(`\nsesame alone, against a local server (${ITEMS} items; no official: it needs an account):`);
  console.log(`${pad("call", 58)} ${padStart("median", 11)} ${padStart("p10", 11)} ${padStart("p90", 11)}  note`);
  for (const [key, label, note] of [
    ["resolve", `secrets.resolve, warm (${RESOLVE_CALLS} calls)`, "default: syncs on every read"],
    ["resolveCached", "secrets.resolve, cacheTtlSeconds: 60", "served from the client's cache"],
  ]) {
    const s = o[key];
    console.log(
      `${pad(label, 58)} ${padStart(shown(s.medianNs, "ns"), 11)} ${padStart(shown(s.p10Ns, "ns"), 11)} ` +
        `${padStart(shown(s.p90Ns, "ns"), 11)}  ${note}`,
    );
  }
  console.log(`${pad("", 58)} ${padStart("median", 11)} ${padStart("min", 11)} ${padStart("max", 11)}`);
  for (const [key, label] of [
    ["throughput", `${CONCURRENT} concurrent resolves (Promise.all), default`],
    ["throughputCached", `${CONCURRENT} concurrent resolves, cacheTtlSeconds: 60`],
  ]) {
    const t = o[key];
    const perSecond = (v) => `${Math.round(v)}/s`;
    console.log(
      `${pad(label, 58)} ${padStart(perSecond(t.medianPerSecond), 11)} ${padStart(perSecond(t.minPerSecond), 11)} ` +
        `${padStart(perSecond(t.maxPerSecond), 11)}  resolves per second`,
    );
  }
  const missed = rows.filter((r) => r.verdict === "MISS");
  const judgedCount = rows.filter((r) => r.verdict !== "info").length;
  if (missed.length) {
    const names = missed.map((r) => `${r.metric} (target ${r.target})`).join("; ");
    console.log(`\nMISS: ${missed.length} of ${judgedCount} targets missed: ${names}`);
  } else {
    console.log(`\nPASS: all ${judgedCount} targets met`);
  }
  return missed;
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      dir: { type: "string", default: "target/js-bench" },
      server: { type: "string" },
      out: { type: "string", default: "target/bench-js.json" },
    },
  });
  const dir = path.resolve(args.dir);
  const manifest = path.join(dir, "package.json");
  if (!existsSync(manifest)) throw new Error(`${manifest} is missing: --dir must be where both packages were npm-installed`);
  // tests/js/server.mjs starts $SESAME_BIN (else the workspace's debug build).
  if (args.server !== undefined) process.env.SESAME_BIN = path.resolve(args.server);
  sesameBin(); // throws now, not after half a minute of measuring, when it is missing
  const load = createRequire(manifest);
  const packages = installed(dir, load);

  log("measuring (about half a minute)");
  // Fresh processes first, before this one loads either SDK and keeps a core busy.
  const fresh = freshProcesses(manifest);
  const sdks = { sesame: load(PACKAGES.sesame), official: load(PACKAGES.official) };
  const offline = offlineLatency(sdks);
  const raw = { node: process.versions.node, packages, fresh, offline, online: await online(sdks.sesame) };

  const rows = rowsOf(raw);
  const missed = printTable(rows, raw);
  const report = {
    raw,
    rows: rows.map((r) => ({ ...r, ratio: ratio(r) })),
    missed: missed.map((r) => r.metric),
  };
  const out = path.resolve(args.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${args.out}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    log(`could not measure: ${error?.stack ?? error}`);
    process.exit(1);
  },
);
