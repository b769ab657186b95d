// The shared vectors (tests/vectors) that concern the public SDK surface, through the
// installed @sesame/sdk package: references.json with `Secrets.validateSecretReference`,
// totp.json with `Secrets.generateTotpCode`, and `Secrets.generatePassword` recipes. The
// properties are those crates/core/tests/{reference_vectors,totp_vectors,
// password_generator}.rs check, as far as the JavaScript API exposes them; the JS
// counterpart of tests/python/test_vectors.py.
//
// There are no password vectors (passwords are random): the recipe tests check lengths,
// alphabets, separators, word lists, entropy and range errors instead. tokens.json,
// crypto.json and share.json concern formats below the SDK surface.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

import {
  InvalidInputError,
  InvalidReferenceError,
  Secrets,
  SeparatorType,
  SesameError,
  WordListType,
} from "@sesame/sdk";

import { ROOT } from "./server.mjs";

const VECTORS = path.join(ROOT, "tests", "vectors");

// JSON numbers are doubles in JavaScript, and totp.json holds a counter no double can
// (2^64 - 1): integer literals too long for one are read as BigInt.
const LONG_INTEGER = /(?<=[:[,]\s*)(\d{16,})(?=\s*[,}\]])/g;

function load(name) {
  const text = readFileSync(path.join(VECTORS, name), "utf8").replace(LONG_INTEGER, '"$1n"');
  const document = JSON.parse(text, (_, value) => {
    if (typeof value !== "string" || !/^\d+n$/.test(value)) return value;
    const exact = BigInt(value.slice(0, -1));
    return Number.isSafeInteger(Number(exact)) ? Number(exact) : exact;
  });
  assert.equal(typeof document?.description, "string", name);
  return document;
}

/** What `call` returned, or the error it threw. */
function outcome(call) {
  try {
    return call();
  } catch (e) {
    return e;
  }
}

/** An error for a message: its class and code, never its text (which may hold input). */
function kindOf(value) {
  if (value instanceof SesameError) return `${value.constructor.name} (${value.code})`;
  if (value instanceof Error) return value.constructor.name;
  return value === undefined ? "no error" : typeof value;
}

// ---------- references.json ----------

const REFERENCES = load("references.json").cases;

test("there are enough reference cases", () => {
  assert.ok(REFERENCES.length >= 150, String(REFERENCES.length));
  assert.deepEqual(new Set(REFERENCES.map((c) => c.valid)), new Set([true, false]));
});

test("valid references pass", () => {
  const failures = [];
  for (const c of REFERENCES.filter((c) => c.valid === true)) {
    const got = outcome(() => Secrets.validateSecretReference(c.input));
    if (got !== undefined) failures.push(`${JSON.stringify(c.input)}: ${kindOf(got)}`);
  }
  assert.deepEqual(failures, []);
});

test("invalid references fail with their kind, offset and segment", () => {
  const failures = [];
  for (const c of REFERENCES.filter((c) => c.valid !== true)) {
    const text = c.input;
    const want = { kind: c.error, offset: c.offset, segment: c.segment };
    const error = outcome(() => Secrets.validateSecretReference(text));
    if (!(error instanceof InvalidReferenceError)) {
      failures.push(`${JSON.stringify(text)}: got ${kindOf(error)}, want InvalidReferenceError ${JSON.stringify(want)}`);
      continue;
    }
    // An Error and a SesameError, so generic `catch` and `instanceof` code both work.
    assert.ok(error instanceof Error && error instanceof SesameError && error.code === "invalid_reference");
    const details = error.details.reference;
    const got = details && { kind: details.kind, offset: details.offset, segment: details.segment };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      failures.push(`${JSON.stringify(text)}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      continue;
    }
    // The offset is a byte offset at a character boundary of the UTF-8 input.
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(text, "utf8").subarray(0, details.offset));
    } catch {
      failures.push(`${JSON.stringify(text)}: offset ${details.offset} splits a character`);
    }
    const hint = details.hint;
    if (typeof hint !== "string" || !hint) failures.push(`${JSON.stringify(text)}: no hint in ${JSON.stringify(details)}`);
    else if (!(error.message.startsWith("invalid secret reference: ") && error.message.includes(hint))) {
      failures.push(`${JSON.stringify(text)}: message ${JSON.stringify(error.message)} lacks its hint`);
    }
  }
  assert.deepEqual(failures, []);
});

// ---------- totp.json ----------

const TOTP = load("totp.json");
const HASHES = { SHA1: "sha1", SHA256: "sha256", SHA512: "sha512" };

/**
 * RFC 4226 HOTP, written independently of Sesame (checked against the RFC tables below)
 * to check the codes the SDK computes for the current time.
 */
function hotp(secretHex, counter, digits, algorithm) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac(HASHES[algorithm], Buffer.from(secretHex, "hex")).update(message).digest();
  const start = digest[digest.length - 1] & 0x0f;
  const number = digest.readUInt32BE(start) & 0x7fffffff;
  return String(number % 10 ** digits).padStart(digits, "0");
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding (what otpauth URIs carry). */
function base32(secretHex) {
  let bits = "";
  for (const byte of Buffer.from(secretHex, "hex")) bits += byte.toString(2).padStart(8, "0");
  let out = "";
  for (let i = 0; i < bits.length; i += 5) out += BASE32[parseInt(bits.slice(i, i + 5).padEnd(5, "0"), 2)];
  return out;
}

/** An otpauth URI for a row of the RFC 6238 table (which gives only the secret), as the Rust test builds it. */
function totpUri(c) {
  return `otpauth://totp/RFC:test?secret=${base32(c.secret_hex)}&algorithm=${c.algorithm}&digits=${c.digits}&period=${c.period}`;
}

/** The secret an input carries, to check that no error message repeats it. */
function secretIn(text) {
  let secret;
  if (text.includes("secret=")) secret = text.split("secret=")[1].split("&")[0];
  else if (!text.includes("://")) secret = text.trim();
  else return undefined;
  return secret.length >= 8 ? secret : undefined;
}

/**
 * The SDK cannot take a time: it gives the code of the current window. Checks the window
 * (it holds the time of the call, one period long) and the code, computed here for that
 * window. Messages name the case, never the code.
 */
function checkCurrentCode(text, c, note) {
  const { period, digits } = c;
  const before = Math.floor(Date.now() / 1000);
  const code = Secrets.generateTotpCode(text);
  const after = Math.ceil(Date.now() / 1000);
  assert.deepEqual(Object.keys(code).sort(), ["code", "expiresInSeconds", "validFrom", "validUntil"], note);
  assert.ok(new RegExp(`^[0-9]{${digits}}$`).test(code.code), `${note}: not ${digits} digits`);
  assert.equal(code.validUntil - code.validFrom, period, note);
  assert.equal(code.validFrom % period, 0, note);
  assert.ok(Math.floor(before / period) * period <= code.validFrom && code.validFrom <= after, note);
  assert.ok(code.validUntil - after <= code.expiresInSeconds && code.expiresInSeconds <= code.validUntil - before, note);
  assert.ok(code.expiresInSeconds > 0 && code.expiresInSeconds <= period, note);
  const counter = code.validFrom / period;
  assert.ok(code.code === hotp(c.secret_hex, counter, digits, c.algorithm), `${note}: not the code of its window`);
}

test("the reference HOTP matches the RFC tables", () => {
  // What the checks of the SDK's codes rest on.
  assert.equal(TOTP.hotp.length, 10);
  assert.equal(TOTP.totp.length, 18);
  for (const c of TOTP.hotp) assert.equal(hotp(c.secret_hex, c.counter, c.digits, c.algorithm), c.code);
  assert.ok(TOTP.parse_valid.some((c) => c.counter === 2n ** 64n - 1n), "the largest counter is read exactly");
  for (const c of TOTP.totp) assert.equal(hotp(c.secret_hex, Math.floor(c.time / c.period), c.digits, c.algorithm), c.code);
  for (const c of TOTP.parse_valid) {
    const counter = c.kind === "totp" ? Math.floor(c.time / c.period) : c.counter;
    assert.equal(hotp(c.secret_hex, counter, c.digits, c.algorithm), c.code, c.note);
  }
  // And base32 as RFC 4648 writes it.
  assert.equal(base32(Buffer.from("foobar").toString("hex")), "MZXW6YTBOI");
});

test("the RFC 6238 table through the SDK", () => {
  for (const c of TOTP.totp) checkCurrentCode(totpUri(c), c, `${c.algorithm} ${c.digits} digits`);
});

test("valid TOTP inputs give the code of their parameters", () => {
  const cases = TOTP.parse_valid.filter((c) => c.kind === "totp");
  assert.ok(cases.length > 0);
  for (const c of cases) {
    checkCurrentCode(c.input, c, c.note);
    // The bare secret means SHA1, 6 digits, 30 seconds.
    checkCurrentCode(base32(c.secret_hex), { ...c, algorithm: "SHA1", digits: 6, period: 30 }, `${c.note} (bare secret)`);
  }
});

test("HOTP URIs are refused", () => {
  // generateTotpCode computes time-based codes only; a counter-based URI is an error,
  // not a code of the wrong kind.
  const cases = TOTP.parse_valid.filter((c) => c.kind === "hotp");
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const error = outcome(() => Secrets.generateTotpCode(c.input));
    assert.ok(error instanceof InvalidInputError, `${c.note}: got ${kindOf(error)}`);
    assert.equal(error.details.argument, "totp.uri", c.note);
  }
});

test("invalid TOTP inputs fail with their argument and message", () => {
  assert.ok(TOTP.parse_invalid.some((c) => c.kind === "totp"));
  const failures = [];
  for (const c of TOTP.parse_invalid) {
    const text = c.input;
    const secret = secretIn(text);
    const error = outcome(() => Secrets.generateTotpCode(text));
    if (c.kind !== "totp") {
      // The vector gives Hotp::from_uri's verdict, which the SDK does not expose (it
      // accepts the TOTP URIs among them); whatever it says must not hold the secret.
      if (error instanceof SesameError && secret !== undefined) {
        assert.ok(!error.message.includes(secret), `${c.note}: the message repeats the secret`);
      }
      continue;
    }
    if (!(error instanceof InvalidInputError)) {
      failures.push(`${c.note}: got ${kindOf(error)}, want InvalidInputError`);
      continue;
    }
    assert.ok(error instanceof Error && error.code === "invalid_input");
    const argument = error.details.argument;
    if (argument !== c.what || !error.message.includes(c.message_contains)) {
      const want = `${c.what} with ${JSON.stringify(c.message_contains)}`;
      failures.push(`${c.note}: got ${argument} ${JSON.stringify(error.message)}, want ${want}`);
    }
    if (secret !== undefined && error.message.includes(secret)) failures.push(`${c.note}: the message repeats the secret`);
  }
  assert.deepEqual(failures, []);
});

// ---------- generatePassword ----------

// crates/core/src/password/mod.rs: RANDOM_LETTERS, RANDOM_DIGITS, SYMBOLS.
const RANDOM_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";
const RANDOM_DIGITS = "23456789";
const SYMBOLS = "!#$%&()*+,-./:;<=>?@[]^_{}~";
const LOOK_ALIKES = "0Oo1lI|";
const DIGITS = "0123456789";
const WORD_LIST = path.join(ROOT, "crates", "core", "data", "eff_large_wordlist.txt");
const FULL_WORDS = new Set(readFileSync(WORD_LIST, "utf8").split(/\s+/).filter(Boolean));
const SEPARATORS = {
  digits: (gap) => DIGITS.includes(gap),
  digitsAndSymbols: (gap) => DIGITS.includes(gap) || SYMBOLS.includes(gap),
  spaces: (gap) => gap === " ",
  hyphens: (gap) => gap === "-",
  underscores: (gap) => gap === "_",
  periods: (gap) => gap === ".",
  commas: (gap) => gap === ",",
};
const WORD_LISTS = {
  // Size of the list, and whether a (lowercased) word belongs to it.
  fullWords: [7772, (word) => FULL_WORDS.has(word)],
  syllables: [
    1710,
    (word) => (word.length === 2 || word.length === 3) && "aeiou".includes(word[1]) && !"aeiouqxy".includes(word[0]),
  ],
  threeLetters: [17_576, (word) => word.length === 3],
};

const pin = (length) => ({ type: "Pin", parameters: { length } });
const randomRecipe = (length, includeDigits, includeSymbols) => ({
  type: "Random",
  parameters: { includeDigits, includeSymbols, length },
});
const memorable = (wordCount, separatorType, capitalize, wordListType) => ({
  type: "Memorable",
  parameters: { capitalize, separatorType, wordCount, wordListType },
});

function generate(recipe) {
  const generated = Secrets.generatePassword(recipe);
  assert.deepEqual(Object.keys(generated).sort(), ["entropyBits", "password"]);
  assert.equal(typeof generated.password, "string");
  assert.equal(typeof generated.entropyBits, "number");
  return [generated.password, generated.entropyBits];
}

const has = (text, alphabet) => [...text].some((ch) => alphabet.includes(ch));
const within = (text, alphabet) => [...text].every((ch) => alphabet.includes(ch));
const close = (a, b) => Math.abs(a - b) <= 1e-9;

/** log2 of a count too large for a double to hold exactly. */
function log2(count) {
  const bits = count.toString(2).length;
  if (bits <= 53) return Math.log2(Number(count));
  // The top 53 bits keep the precision; the rest is a power of two.
  return Math.log2(Number(count >> BigInt(bits - 53))) + (bits - 53);
}

test("the enums hold every separator and word list", () => {
  assert.deepEqual(new Set(Object.values(SeparatorType)), new Set(Object.keys(SEPARATORS)));
  assert.deepEqual(new Set(Object.values(WordListType)), new Set(Object.keys(WORD_LISTS)));
});

test("a PIN is digits of its length", () => {
  for (const length of [4, 8, 12]) {
    for (let i = 0; i < 20; i++) {
      const [password, bits] = generate(pin(length));
      const what = `a PIN of length ${length} is ${password.length} long or not digits`;
      assert.ok(new RegExp(`^[0-9]{${length}}$`).test(password), what);
      assert.ok(close(bits, length * Math.log2(10)), String(bits));
    }
  }
});

test("random uses its alphabet and never look-alikes", () => {
  for (const digits of [false, true]) {
    for (const symbols of [false, true]) {
      const allowed = RANDOM_LETTERS + (digits ? RANDOM_DIGITS : "") + (symbols ? SYMBOLS : "");
      for (const length of [8, 9, 32, 100]) {
        for (let i = 0; i < 10; i++) {
          const [password] = generate(randomRecipe(length, digits, symbols));
          const what = `digits ${digits}, symbols ${symbols}, length ${length}`;
          assert.equal(password.length, length, what);
          assert.ok(within(password, allowed), `${what}: a character outside the alphabet`);
          assert.ok(!has(password, LOOK_ALIKES), `${what}: a look-alike`);
          // Each class asked for appears at least once.
          assert.equal(has(password, RANDOM_DIGITS), digits, what);
          assert.equal(has(password, SYMBOLS), symbols, what);
        }
      }
    }
  }
});

test("random entropy counts the allowed strings", () => {
  // 48 letters, 8 digits, 27 symbols: strings of the alphabet holding every class asked
  // for, counted by inclusion-exclusion (exactly, in BigInt).
  for (const n of [8n, 12n, 20n]) {
    const counts = [
      [false, false, 48n ** n],
      [true, false, 56n ** n - 48n ** n],
      [false, true, 75n ** n - 48n ** n],
      [true, true, 83n ** n - 75n ** n - 56n ** n + 48n ** n],
    ];
    for (const [digits, symbols, count] of counts) {
      const [, bits] = generate(randomRecipe(Number(n), digits, symbols));
      assert.ok(close(bits, log2(count)), `n ${n}, digits ${digits}, symbols ${symbols}: ${bits} bits, want ${log2(count)}`);
    }
  }
});

test("memorable: words, separators and entropy", () => {
  const isUpper = (word) => word === word.toUpperCase() && word !== word.toLowerCase();
  const isLower = (word) => word === word.toLowerCase() && word !== word.toUpperCase();
  for (const [separator, isSeparator] of Object.entries(SEPARATORS)) {
    for (const [listName, [size, inList]] of Object.entries(WORD_LISTS)) {
      for (const capitalize of [false, true]) {
        for (const count of [3, 7, 15]) {
          const what = `${count} ${listName}, ${separator}, capitalize ${capitalize}`;
          const [password, bits] = generate(memorable(count, separator, capitalize, listName));
          const words = password.split(/[^A-Za-z]/);
          const gaps = password.match(/[^A-Za-z]/g) ?? [];
          assert.ok(words.length === count && gaps.length === count - 1, `${what}: ${words.length} words, ${gaps.length} gaps`);
          assert.ok(gaps.every(isSeparator), `${what}: a wrong separator`);
          // Capitalize: one word in capitals, the others lowercase.
          assert.equal(words.filter(isUpper).length, capitalize ? 1 : 0, what);
          assert.ok(words.every((word) => isUpper(word) || isLower(word)), what);
          assert.ok(words.every((word) => /^[A-Za-z]+$/.test(word)), what);
          assert.ok(words.every((word) => inList(word.toLowerCase())), `${what}: a word outside the list`);
          const separators = { digits: 10, digitsAndSymbols: 37 }[separator] ?? 1;
          const want = count * Math.log2(size) + (count - 1) * Math.log2(separators) + (capitalize ? Math.log2(count) : 0);
          assert.ok(close(bits, want), `${what}: ${bits} bits, want ${want}`);
        }
      }
    }
  }
});

// [recipe, the argument its error names, the allowed range, the value given]
const BAD_RECIPES = [
  [pin(3), "recipe.length", [4, 12], 3],
  [pin(13), "recipe.length", [4, 12], 13],
  [pin(0), "recipe.length", [4, 12], 0],
  [randomRecipe(7, true, true), "recipe.length", [8, 100], 7],
  [randomRecipe(101, false, false), "recipe.length", [8, 100], 101],
  [memorable(2, "spaces", true, "syllables"), "recipe.wordCount", [3, 15], 2],
  [memorable(16, "hyphens", false, "fullWords"), "recipe.wordCount", [3, 15], 16],
];

for (const [recipe, argument, [low, high], given] of BAD_RECIPES) {
  test(`a bad recipe names its argument: ${recipe.type} ${argument} ${given}`, () => {
    const error = outcome(() => Secrets.generatePassword(recipe));
    assert.ok(error instanceof InvalidInputError && error instanceof Error, kindOf(error));
    assert.equal(error.details.argument, argument);
    assert.equal(error.message, `invalid ${argument}: must be between ${low} and ${high}, got ${given}`);
  });
}

for (const length of [-1, 2 ** 32, 4.5]) {
  test(`a length the wire cannot carry is invalid input: ${length}`, () => {
    // Not a u32: refused as input (not a crash, not another error class).
    const error = outcome(() => Secrets.generatePassword(pin(length)));
    assert.ok(error instanceof InvalidInputError && error instanceof SesameError, kindOf(error));
    assert.ok(error.details.argument, "no argument in the details");
  });
}

test("passwords differ", () => {
  const recipe = randomRecipe(16, true, true);
  assert.notEqual(generate(recipe)[0], generate(recipe)[0]);
});
