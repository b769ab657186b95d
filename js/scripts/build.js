#!/usr/bin/env node
// Builds what an installed @sesame/sdk needs, from source: the native addon (Rust, with
// cargo) and, when the package comes straight from a clone, its JavaScript (TypeScript,
// with tsc). npm runs it on install; `npm pack` runs it with --pack to put the
// JavaScript and the Rust sources the addon is built from into the tarball.
//
//   node scripts/build.js          build native/sesame.node (and dist/ if missing)
//   node scripts/build.js --pack   compile dist/ and copy the Rust sources into rust/
//
// Environment: SESAME_NATIVE_PROFILE (cargo profile, default release), CARGO_TARGET_DIR
// (share a target directory between builds), CARGO (the cargo to run).

"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const pkg = path.resolve(__dirname, "..");
const repo = path.resolve(pkg, "..");
// The crates the addon is built from, relative to the Rust workspace's root.
const CRATES = ["crates/core", "bindings/invoke", "bindings/node"];

function fail(message) {
  console.error(`@sesame/sdk: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const done = spawnSync(command, args, { stdio: "inherit", ...options });
  if (done.error) fail(`${command} could not be run: ${done.error.message}`);
  if (done.status !== 0) fail(`${command} ${args.join(" ")} failed (exit ${done.status})`);
  return done;
}

/** The Rust workspace: this checkout's when installed from a clone, else the tarball's copy. */
function workspace() {
  if (fs.existsSync(path.join(repo, "bindings/node/Cargo.toml"))) return repo;
  const vendored = path.join(pkg, "rust");
  if (fs.existsSync(path.join(vendored, "Cargo.toml"))) return vendored;
  return fail("the Rust sources of the addon are missing (neither ../bindings/node nor rust/)");
}

/** Compiles src/ into dist/, installing the package's build tools first if needed. */
function compileTypeScript() {
  let tsc;
  try {
    tsc = require.resolve("typescript/bin/tsc", { paths: [pkg] });
  } catch {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    run(npm, ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-package-lock"], { cwd: pkg });
    tsc = require.resolve("typescript/bin/tsc", { paths: [pkg] });
  }
  run(process.execPath, [tsc, "-p", pkg]);
}

/** Builds the addon with cargo and installs it as native/sesame.node. */
function buildAddon() {
  const root = workspace();
  const cargo = process.env.CARGO || "cargo";
  const profile = process.env.SESAME_NATIVE_PROFILE || "release";
  const ownTarget = !process.env.CARGO_TARGET_DIR && root !== repo;
  console.error(`@sesame/sdk: building the native addon (cargo, profile ${profile}); the first build takes a few minutes`);
  const done = spawnSync(
    cargo,
    ["build", "-p", "sesame-node", "--profile", profile, "--message-format=json-render-diagnostics", "--manifest-path", path.join(root, "Cargo.toml")],
    { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 256 * 1024 * 1024 },
  );
  if (done.error) {
    fail(`cargo could not be run (${done.error.message}). Building the addon needs Rust: install it from https://rustup.rs, then run \`npm rebuild @sesame/sdk\``);
  }
  if (done.status !== 0) fail(`cargo build failed (exit ${done.status}); its messages are above`);
  let library;
  for (const line of done.stdout.toString().split("\n")) {
    if (!line.startsWith("{")) continue;
    const message = JSON.parse(line);
    if (message.reason === "compiler-artifact" && message.target.name === "sesame_node") {
      library = message.filenames.find((f) => /\.(so|dylib|dll)$/.test(f));
    }
  }
  if (!library) fail("cargo built no sesame_node library");
  // Copied then renamed: a process loading the addon never sees half a file.
  const dest = path.join(pkg, "native/sesame.node");
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(library, `${dest}.tmp`);
  fs.renameSync(`${dest}.tmp`, dest);
  // A build inside the installed package keeps only the addon (the target is large).
  if (ownTarget) fs.rmSync(path.join(root, "target"), { recursive: true, force: true });
}

/** Copies the addon's Rust sources into rust/, a workspace of just those crates. */
function vendorRust() {
  const dest = path.join(pkg, "rust");
  fs.rmSync(dest, { recursive: true, force: true });
  const skip = new Set(["target", "node_modules"]);
  for (const crate of CRATES) {
    fs.cpSync(path.join(repo, crate), path.join(dest, crate), {
      recursive: true,
      filter: (source) => !skip.has(path.basename(source)),
    });
  }
  // core documents itself with the project's README.
  for (const file of ["Cargo.lock", "README.md"]) fs.copyFileSync(path.join(repo, file), path.join(dest, file));
  const manifest = fs.readFileSync(path.join(repo, "Cargo.toml"), "utf8");
  const members = `members = [${CRATES.map((c) => JSON.stringify(c)).join(", ")}]`;
  const rewritten = manifest.replace(/^members = \[.*\]$/m, members);
  if (rewritten === manifest) fail("the workspace's Cargo.toml has no one-line `members = [...]` to rewrite");
  fs.writeFileSync(path.join(dest, "Cargo.toml"), rewritten);
}

if (process.argv.includes("--pack")) {
  compileTypeScript();
  vendorRust();
} else {
  if (!fs.existsSync(path.join(pkg, "dist/index.js"))) compileTypeScript();
  buildAddon();
}
