// A real `sesame server` for the JavaScript suite: SQLite in a fresh data directory,
// listening on 127.0.0.1, with its owner's token. Each test file starts its own (node's
// test runner runs files in separate processes) and stops it when the process ends.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The `sesame` binary: $SESAME_BIN, else the workspace's debug build. */
export function sesameBin() {
  const bin = process.env.SESAME_BIN || path.join(ROOT, "target/debug/sesame");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo build -p sesame-cli\` (make test does)`);
  return bin;
}

/**
 * Starts a server; resolves to `{url, ownerToken, dataDir, cli(...args), stop()}`.
 * `server init` gets its own XDG_CONFIG_HOME: it never overwrites a saved credential.
 */
export async function startServer(prefix = "sesame-js-") {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(dataDir, "config") };
  const init = spawnSync(sesameBin(), ["server", "init", "--data-dir", dataDir, "--url", "http://127.0.0.1:1"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000,
  });
  if (init.status !== 0) throw new Error(`sesame server init failed: ${init.stderr}`);
  const ownerToken = readFileSync(path.join(dataDir, "owner.credential"), "utf8").trim();
  const child = spawn(sesameBin(), ["server", "start", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], {
    env,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const line = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before listening`)));
  });
  if (!String(line).startsWith("listening on ")) {
    child.kill("SIGKILL");
    throw new Error(`the server did not start: ${line}`);
  }
  const url = String(line).slice("listening on ".length);
  const stop = () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once("exit", stop);
  return {
    url,
    ownerToken,
    dataDir,
    /** Runs the `sesame` command line against this server (as the owner unless `token`); its stdout. */
    cli(args, token = ownerToken) {
      const done = spawnSync(sesameBin(), args, {
        env: { ...env, SESAME_URL: url, SESAME_SERVICE_ACCOUNT_TOKEN: token },
        encoding: "utf8",
        timeout: 120_000,
      });
      if (done.status !== 0) throw new Error(`sesame ${args.slice(0, 2).join(" ")} failed: ${done.stderr}`);
      return done.stdout;
    },
    stop,
  };
}
