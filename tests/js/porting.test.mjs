// Porting from @1password/sdk is an import change: every name it exports exists here,
// its enums have the same members and values, and its clients' API groups have the same
// methods. What Sesame deliberately lacks is listed with the reason.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, it } from "node:test";

import * as ours from "@sesame/sdk";

const require = createRequire(import.meta.url);
const theirs = require("@1password/sdk");
// The official package exports only its root; its group classes live beside it.
const officialDist = path.dirname(require.resolve("@1password/sdk"));
const official = (file) => require(path.join(officialDist, file));

const NOT_IN_SESAME = new Map([
  // 1Password account features Sesame has no equivalent of.
  ["GroupState", "groups are a 1Password account feature"],
  ["GroupType", "groups are a 1Password account feature"],
  // Desktop-app authentication: Sesame authenticates with service account tokens only.
  ["DesktopAuth", "Sesame authenticates with service account tokens"],
  ["DesktopSessionExpiredError", "Sesame authenticates with service account tokens"],
  // The official SDK's internals: its JSON reviver/replacer and its string-to-error helper.
  ["ReplacerFunc", "internal to the official SDK's WASM bridge"],
  ["ReviverFunc", "internal to the official SDK's WASM bridge"],
  ["throwError", "internal to the official SDK's WASM bridge"],
]);
// Enum members of 1Password features Sesame does not have.
const MEMBERS_NOT_IN_SESAME = new Map([["VaultAccessorType.Broker", "1Password's credential broker"]]);
// Group grants: Sesame grants per principal, with vaults.grantPermissions,
// updatePermissions and revokePermissions (same permission bits).
const METHODS_NOT_IN_SESAME = new Set([
  "vaults.grantGroupPermissions",
  "vaults.updateGroupPermissions",
  "vaults.revokeGroupPermissions",
]);

describe("the official SDK's exports", () => {
  it("all exist in @sesame/sdk", () => {
    const missing = Object.keys(theirs).filter((name) => !NOT_IN_SESAME.has(name) && !(name in ours));
    assert.deepEqual(missing, []);
  });

  it("the names listed as missing really are (the list stays honest)", () => {
    for (const name of NOT_IN_SESAME.keys()) assert.ok(name in theirs && !(name in ours), name);
  });

  it("enums have the same members with the same values", () => {
    for (const [name, value] of Object.entries(theirs)) {
      if (!isEnum(value) || NOT_IN_SESAME.has(name)) continue;
      for (const [member, wire] of Object.entries(value)) {
        if (MEMBERS_NOT_IN_SESAME.has(`${name}.${member}`)) continue;
        assert.equal(ours[name][member], wire, `${name}.${member}`);
      }
    }
  });

  it("permission constants have the same values", () => {
    for (const [name, value] of Object.entries(theirs)) {
      if (/^[A-Z_]+$/.test(name) && typeof value === "number") assert.equal(ours[name], value, name);
    }
  });

  it("error classes a ported catch block names are Error subclasses here", () => {
    for (const name of ["RateLimitExceededError", "AuthExpiredError"]) {
      assert.ok(ours[name].prototype instanceof Error, name);
    }
    assert.equal(ours.RateLimitExceededError, ours.RateLimitedError);
  });

  it("Secrets has the same static functions", () => {
    for (const name of Object.getOwnPropertyNames(theirs.Secrets)) {
      if (typeof theirs.Secrets[name] === "function") assert.equal(typeof ours.Secrets[name], "function", name);
    }
  });
});

describe("the client's API groups", () => {
  // Groups and environments are 1Password account features; every other group's methods
  // exist with the same names.
  const groups = [
    ["secrets", theirs.Secrets, ours.Secrets],
    ["items", official("items.js").Items, ours.Items],
    ["items.files", official("items_files.js").ItemsFiles, ours.ItemsFiles],
    ["items.shares", official("items_shares.js").ItemsShares, ours.ItemsShares],
    ["vaults", official("vaults.js").Vaults, ours.Vaults],
  ];
  for (const [group, official, mine] of groups) {
    it(`${group} has every official method`, () => {
      for (const method of Object.getOwnPropertyNames(official.prototype)) {
        if (method === "constructor" || METHODS_NOT_IN_SESAME.has(`${group}.${method}`)) continue;
        assert.equal(typeof mine.prototype[method], "function", `${group}.${method}`);
      }
    });
  }
});

function isEnum(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    Object.values(value).length > 0 &&
    Object.values(value).every((v) => typeof v === "string")
  );
}
