// The share page's own cryptography and one-time passwords, checked in Node against the
// language-neutral vectors every implementation checks: tests/vectors/share.json (made by
// the Rust client) and tests/vectors/totp.json (RFC 4226 / RFC 6238).
// Run: node --test tests/share_page/   (make test does)
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..", "..");
const page = require(path.join(root, "crates/server/src/share_page/share.js"));
const vectors = (name) => JSON.parse(fs.readFileSync(path.join(root, "tests/vectors", name), "utf8"));
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const fromHex = (text) => new Uint8Array(Buffer.from(text, "hex"));

test("share links: access token, decryption, and binding to share and part", async () => {
  const { links } = vectors("share.json");
  assert.ok(links.length > 0);
  for (const link of links) {
    const secret = page.b64urlDecode(link.fragment);
    assert.equal(secret.length, 32);
    const { access, key } = await page.shareKeys(secret, link.share_id);
    assert.equal(hex(access), link.access_token);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", access));
    assert.equal(hex(digest), link.access_hash);
    const item = await page.openBox(key, link.sealed_item, `sesame/v1/share/item/${link.share_id}`);
    assert.equal(new TextDecoder().decode(item), link.item_plaintext);
    const files = await page.openBox(key, link.sealed_files, `sesame/v1/share/files/${link.share_id}`);
    assert.equal(new TextDecoder().decode(files), link.files_plaintext);
    await assert.rejects(page.openBox(key, link.sealed_item, `sesame/v1/share/files/${link.share_id}`));
    const other = await page.shareKeys(secret, "a".repeat(26));
    await assert.rejects(page.openBox(other.key, link.sealed_item, `sesame/v1/share/item/${link.share_id}`));
  }
});

test("base64url round trips and rejects malformed input", () => {
  const bytes = new Uint8Array([0xfb, 0xff, 0x01, 0x00]);
  assert.deepEqual(page.b64urlDecode(page.b64urlEncode(bytes)), bytes);
  assert.equal(page.b64urlDecode("+/8B"), null);
  assert.equal(page.b64urlDecode("A"), null);
});

test("HOTP and TOTP codes match RFC 4226 and RFC 6238", async () => {
  const { hotp, totp } = vectors("totp.json");
  const HASH = { SHA1: "SHA-1", SHA256: "SHA-256", SHA512: "SHA-512" };
  const otp = (v) => ({ key: fromHex(v.secret_hex), hash: HASH[v.algorithm], digits: v.digits });
  for (const v of hotp) assert.equal(await page.hotp(otp(v), v.counter), v.code, JSON.stringify(v));
  for (const v of totp) {
    assert.equal(await page.hotp(otp(v), Math.floor(v.time / v.period)), v.code, JSON.stringify(v));
  }
});

test("otpauth URIs the page accepts give the vectors' codes", async () => {
  const { parse_valid } = vectors("totp.json");
  let checked = 0;
  for (const v of parse_valid.filter((v) => v.kind === "totp" && v.code)) {
    const otp = page.parseOtp(v.input);
    assert.ok(otp, `the page cannot use ${v.input}`);
    assert.equal(hex(otp.key), v.secret_hex, v.input);
    assert.equal(await page.hotp(otp, Math.floor(v.time / otp.period)), v.code, v.input);
    checked += 1;
  }
  assert.ok(checked > 5, `only ${checked} URIs checked`);
  assert.equal(page.parseOtp("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1"), null);
  assert.equal(page.parseOtp("not base32!"), null);
});
