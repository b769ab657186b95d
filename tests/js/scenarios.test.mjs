// Runs every shared scenario (tests/scenarios/*.json, format in its README) through the
// installed @sesame/sdk package, against a real server of this file's own.
//
// Each `call` step goes through the public method that invokes that call: the package's
// declarations (dist/calls.d.ts, dist/types.d.ts) say which method, its parameters and
// their types; the step's wire JSON becomes those types as a JavaScript caller passes
// them (timestamps `Date`, bytes `Uint8Array`, models plain objects), the result is
// checked against the declared return type and becomes wire JSON again, and a thrown
// SesameError becomes the envelope `{code, message, ...details}`. Variables, step keys
// and matchers follow the Rust runner (bindings/invoke/tests/scenarios.rs) and the
// Python one (tests/python/test_scenarios.py).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, test } from "node:test";

import * as sdk from "@sesame/sdk";

import { ROOT, startServer } from "./server.mjs";

const SCENARIO_DIR = path.join(ROOT, "tests", "scenarios");
const SCENARIO_FILES = readdirSync(SCENARIO_DIR)
  .filter((name) => name.endsWith(".json"))
  .sort();

// The owner's client is this suite's own integration. Clients of `client` steps use the
// name the scenario format prescribes: client.json finds it in the audit trail.
const OWNER_INTEGRATION = "sesame-js-scenarios";
const STEP_INTEGRATION = "sesame-scenarios";
const INTEGRATION_VERSION = "1.0.0";
const TIMEOUT_SECONDS = 15;

// The keys a step may have: a misspelt key would make a step assert nothing.
const STEP_KEYS = [
  "call",
  "parameters",
  "as",
  "offline",
  "bytes",
  "bytesBase64",
  "expect",
  "expectBytes",
  "expectBytesBase64",
  "save",
  "client",
  "token",
  "cli",
];

// What serde fills in when a scenario leaves these keys out (`#[serde(default)]` in
// crates/core/src/model). The declarations follow the schema of what Sesame writes,
// where these keys are required, so a TypeScript caller would pass these values.
const WIRE_DEFAULTS = {
  Item: { fields: [], sections: [], notes: "", tags: [], websites: [], files: [] },
  ItemShareParams: { oneTimeOnly: false },
  FileCreateParams: { content: "" },
  DocumentCreateParams: { content: "" },
};

// A step without "expect" must succeed; `"expect": null` is an expectation nothing meets.
const NO_EXPECT = Symbol("no expect");
const TOKEN = /sesame_sa_[A-Za-z0-9_.-]*/g;

/** A step failed; the message says what differed. */
class StepError extends Error {}

/** A step's JSON cannot become the arguments of the JavaScript method. */
class ConversionError extends StepError {}

/** A step's JSON holds what the JavaScript types cannot carry (bytes as invalid base64). */
class Inexpressible extends ConversionError {}

/** `text` without service account tokens (saved values and CLI output hold some). */
function redact(text) {
  return String(text).replace(TOKEN, "sesame_sa_<redacted>");
}

/** JSON text as serde_json writes it (what `${…}` splices into a longer string). */
function compact(value) {
  return value === undefined ? "(nothing)" : JSON.stringify(value);
}

function isPlainObject(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function jsonKind(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean" || typeof value === "number" || typeof value === "string") return typeof value;
  if (isPlainObject(value)) return "object";
  throw new TypeError(`not a JSON value: ${typeof value}`);
}

/** Standard base64, canonical and padded, as the wire's decoder wants it. */
function strictBase64(text, what) {
  if (typeof text === "string") {
    const bytes = Buffer.from(text, "base64");
    // Buffer skips what is not base64: the text must be exactly the encoding of its bytes.
    if (bytes.toString("base64") === text) return new Uint8Array(bytes);
  }
  throw new Inexpressible(`${what}: ${compact(text)} is not canonical standard base64`);
}

function snakeCase(name) {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

// ---------- shapes ----------

/**
 * Throws StepError unless `actual` has the shape `expected` describes (README: objects
 * match the keys they name, arrays element by element, `{"$…": …}` are matchers).
 */
function matches(expected, actual, where = "$") {
  if (isPlainObject(expected)) {
    const keys = Object.keys(expected);
    if (keys.length === 1 && keys[0].startsWith("$")) {
      matchOperator(keys[0], expected[keys[0]], actual, where);
      return;
    }
    if (!isPlainObject(actual)) throw new StepError(`at ${where}: expected an object, got ${compact(actual)}`);
    for (const [key, want] of Object.entries(expected)) {
      const mayBeMissing = want === null || (isPlainObject(want) && "$absent" in want);
      if (!(key in actual) && !mayBeMissing) {
        throw new StepError(`at ${where}: missing key ${compact(key)} in ${compact(actual)}`);
      }
      matches(want, key in actual ? actual[key] : null, `${where}.${key}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new StepError(`at ${where}: expected an array, got ${compact(actual)}`);
    if (expected.length !== actual.length) {
      throw new StepError(`at ${where}: expected ${expected.length} elements, got ${actual.length}: ${compact(actual)}`);
    }
    expected.forEach((want, i) => matches(want, actual[i], `${where}[${i}]`));
    return;
  }
  if (jsonKind(expected) !== jsonKind(actual) || expected !== actual) {
    throw new StepError(`at ${where}: expected ${compact(expected)}, got ${compact(actual)}`);
  }
}

function matched(expected, actual, where) {
  try {
    matches(expected, actual, where);
    return true;
  } catch (e) {
    if (e instanceof StepError) return false;
    throw e;
  }
}

/** The length of an array, string (in code points, as Rust and Python count) or object. */
function lengthOf(value) {
  if (typeof value === "string") return [...value].length;
  if (Array.isArray(value)) return value.length;
  return isPlainObject(value) ? Object.keys(value).length : undefined;
}

function matchOperator(op, arg, actual, where) {
  const fail = (what) => new StepError(`at ${where}: ${what}`);
  switch (op) {
    case "$any":
      return;
    case "$type":
      if (jsonKind(actual) !== arg) throw fail(`expected a ${compact(arg)}, got ${compact(actual)}`);
      return;
    case "$length": {
      const length = lengthOf(actual);
      if (length === undefined) throw fail(`expected something with a length, got ${compact(actual)}`);
      if (arg !== length) throw fail(`expected length ${compact(arg)}, got ${length}: ${compact(actual)}`);
      return;
    }
    case "$contains": {
      const found =
        (typeof actual === "string" && typeof arg === "string" && actual.includes(arg)) ||
        (Array.isArray(actual) && actual.some((item) => matched(arg, item, where)));
      if (!found) throw fail(`expected ${compact(actual)} to contain ${compact(arg)}`);
      return;
    }
    case "$unordered": {
      if (!Array.isArray(arg) || !Array.isArray(actual)) throw fail(`expected an array, got ${compact(actual)}`);
      if (arg.length !== actual.length) throw fail(`expected ${arg.length} elements, got ${actual.length}: ${compact(actual)}`);
      const used = new Set();
      for (const want of arg) {
        const at = actual.findIndex((got, i) => !used.has(i) && matched(want, got, where));
        if (at === -1) throw fail(`no element matches ${compact(want)} in ${compact(actual)}`);
        used.add(at);
      }
      return;
    }
    case "$absent":
      if (actual !== null && actual !== undefined) throw fail(`expected nothing, got ${compact(actual)}`);
      return;
    case "$not":
      if (matched(arg, actual, where)) throw fail(`expected anything but ${compact(arg)}, got ${compact(actual)}`);
      return;
    default:
      throw fail(`unknown matcher ${op}`);
  }
}

// ---------- variables ----------

const MISSING = Symbol("missing");
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** The JSON pointer `pointer` (RFC 6901, as serde_json reads it) in `value`, or MISSING. */
function lookUp(value, pointer) {
  if (pointer === "") return value;
  if (!pointer.startsWith("/")) return MISSING;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (isPlainObject(value) && Object.hasOwn(value, token)) value = value[token];
    else if (Array.isArray(value) && ARRAY_INDEX.test(token) && Number(token) < value.length) value = value[Number(token)];
    else return MISSING;
  }
  return value;
}

/** Saved values and `${name}` / `${name/json/pointer}` substitution. */
class Variables {
  constructor(values) {
    this.values = values;
  }

  get(name) {
    const slash = name.indexOf("/");
    const head = slash === -1 ? name : name.slice(0, slash);
    const pointer = slash === -1 ? "" : name.slice(slash);
    if (!Object.hasOwn(this.values, head)) {
      throw new StepError(`\${${name}} is not defined (saved values: ${Object.keys(this.values).sort().join(", ")})`);
    }
    const value = lookUp(this.values[head], pointer);
    if (value === MISSING) throw new StepError(`\${${name}}: ${pointer} is not in the saved value`);
    // A copy: whatever a step does with it cannot change the saved value.
    return structuredClone(value);
  }

  /**
   * A string that is exactly one `${…}` becomes the saved value itself (any JSON);
   * otherwise each value's text is spliced in. Object keys too.
   */
  substitute(value) {
    if (typeof value === "string") {
      if (value.startsWith("${") && value.endsWith("}") && !value.slice(2, -1).includes("${")) {
        return this.get(value.slice(2, -1));
      }
      let out = "";
      let rest = value;
      for (let start = rest.indexOf("${"); start !== -1; start = rest.indexOf("${")) {
        const end = rest.indexOf("}", start);
        if (end === -1) throw new StepError(`unclosed \${ in ${compact(value)}`);
        const saved = this.get(rest.slice(start + 2, end));
        out += rest.slice(0, start) + (typeof saved === "string" ? saved : compact(saved));
        rest = rest.slice(end + 1);
      }
      return out + rest;
    }
    if (Array.isArray(value)) return value.map((item) => this.substitute(item));
    if (isPlainObject(value)) {
      const out = {};
      for (const [key, item] of Object.entries(value)) {
        const newKey = this.substitute(key);
        out[typeof newKey === "string" ? newKey : key] = this.substitute(item);
      }
      return out;
    }
    return value;
  }

  save(step, result) {
    if (!isPlainObject(step.save)) return;
    for (const [name, pointer] of Object.entries(step.save)) {
      const where = typeof pointer === "string" ? pointer : "";
      const value = lookUp(result, where);
      if (value === MISSING) throw new StepError(`save ${name}: ${compact(where)} is not in the result ${compact(result)}`);
      this.values[name] = structuredClone(value);
    }
  }
}

// ---------- the package's declarations ----------
//
// The runner reads the .d.ts files the package ships (what a TypeScript caller compiles
// against) with a reader of the subset tsc writes for them: interfaces, classes, string
// enums, type aliases (generic ones too), and types made of names, `T[]`, `A | B`,
// `A & B`, `Name<…>` (`Omit<T, "key">` among them), string literals, object literals
// and tuples. Anything else is an error, not a guess.

const TOKENS = /\s+|\/\*[\s\S]*?\*\/|\/\/[^\n]*|("(?:[^"\\]|\\.)*"|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*|\d+(?:\.\d+)?|=>|\.\.\.|[{}()[\]<>|&,:;?=*])/y;
const MODIFIERS = new Set(["static", "readonly", "protected", "private", "public", "declare", "abstract"]);

function tokenize(text, file) {
  const tokens = [];
  TOKENS.lastIndex = 0;
  while (TOKENS.lastIndex < text.length) {
    const at = TOKENS.lastIndex;
    const match = TOKENS.exec(text);
    if (match === null) throw new Error(`${file}: cannot read ${compact(text.slice(at, at + 30))}`);
    if (match[1] !== undefined) tokens.push(match[1]);
  }
  return tokens;
}

class DeclarationReader {
  constructor(tokens, file) {
    this.tokens = tokens;
    this.file = file;
    this.at = 0;
  }

  peek(ahead = 0) {
    return this.tokens[this.at + ahead];
  }

  next() {
    if (this.at >= this.tokens.length) throw new Error(`${this.file}: unexpected end`);
    return this.tokens[this.at++];
  }

  eat(token) {
    if (this.peek() !== token) return false;
    this.at++;
    return true;
  }

  expect(token) {
    const got = this.next();
    if (got !== token) throw new Error(`${this.file}: expected ${token}, got ${got} (token ${this.at})`);
  }

  name() {
    const token = this.next();
    if (!/^[A-Za-z_$]/.test(token)) throw new Error(`${this.file}: expected a name, got ${token} (token ${this.at})`);
    return token;
  }

  type() {
    this.eat("|");
    const options = [this.intersectionType()];
    while (this.eat("|")) options.push(this.intersectionType());
    return options.length === 1 ? options[0] : { kind: "union", options };
  }

  intersectionType() {
    const parts = [this.postfixType()];
    while (this.eat("&")) parts.push(this.postfixType());
    return parts.length === 1 ? parts[0] : { kind: "intersection", parts };
  }

  postfixType() {
    let type = this.primaryType();
    while (this.peek() === "[" && this.peek(1) === "]") {
      this.at += 2;
      type = { kind: "array", of: type };
    }
    return type;
  }

  primaryType() {
    const token = this.next();
    if (token.startsWith('"')) return { kind: "literal", value: JSON.parse(token) };
    if (token === "{") return { kind: "object", fields: this.members("}").fields };
    if (token === "(") {
      const inner = this.type();
      this.expect(")");
      return inner;
    }
    if (token === "[") {
      const items = [];
      while (!this.eat("]")) {
        items.push(this.type());
        this.eat(",");
      }
      return { kind: "tuple", items };
    }
    if (!/^[A-Za-z_$]/.test(token)) throw new Error(`${this.file}: unexpected ${token} in a type (token ${this.at})`);
    const args = [];
    if (this.eat("<")) {
      do args.push(this.type());
      while (this.eat(","));
      this.expect(">");
    }
    // calls.d.ts names the model types `types.Item`.
    return { kind: "name", name: token.replace(/^types\./, ""), args };
  }

  /** The members of an interface, a class or an object type, up to `close`. */
  members(close) {
    const fields = new Map();
    const methods = new Map();
    while (!this.eat(close)) {
      let isStatic = false;
      while (MODIFIERS.has(this.peek()) && ![":", "(", "?"].includes(this.peek(1))) {
        if (this.next() === "static") isStatic = true;
      }
      const name = this.name();
      const optional = this.eat("?");
      if (this.eat("(")) {
        const params = [];
        while (!this.eat(")")) {
          const param = this.name();
          const paramOptional = this.eat("?");
          this.expect(":");
          params.push({ name: param, optional: paramOptional, type: this.type() });
          this.eat(",");
        }
        const returns = this.eat(":") ? this.type() : { kind: "name", name: "void", args: [] };
        // A class may have a static method and an instance method of one name.
        methods.set(`${isStatic ? "static " : ""}${name}`, { name, static: isStatic, params, returns });
      } else {
        this.expect(":");
        fields.set(name, { optional, type: this.type() });
      }
      if (!this.eat(";")) this.eat(",");
    }
    return { fields, methods };
  }

  /** Adds the file's declarations to `into`. */
  readInto(into) {
    while (this.peek() !== undefined) {
      while (this.peek() === "export" || this.peek() === "declare") this.next();
      const keyword = this.next();
      if (keyword === "interface" || keyword === "class") {
        const name = this.name();
        while (this.peek() !== "{") this.next(); // `extends …`
        this.expect("{");
        (keyword === "interface" ? into.interfaces : into.classes).set(name, this.members("}"));
      } else if (keyword === "enum") {
        const name = this.name();
        const values = new Set();
        this.expect("{");
        while (!this.eat("}")) {
          this.name();
          this.expect("=");
          values.add(JSON.parse(this.next()));
          this.eat(",");
        }
        into.enums.set(name, values);
      } else if (keyword === "type") {
        const name = this.name();
        // Type parameters, `<T extends …>`: only their names matter here.
        const params = [];
        if (this.eat("<")) {
          do {
            params.push(this.name());
            if (this.eat("extends")) this.type();
          } while (this.eat(","));
          this.expect(">");
        }
        this.expect("=");
        into.aliases.set(name, { params, type: this.type() });
        this.expect(";");
      } else {
        // `import`, `function`, `const`: nothing the runner needs; skip to the `;` that
        // ends the statement.
        let depth = 0;
        for (let token = this.next(); depth > 0 || token !== ";"; token = this.next()) {
          if (token === "(" || token === "{" || token === "[") depth++;
          else if (token === ")" || token === "}" || token === "]") depth--;
        }
      }
    }
  }
}

/** The declarations of the installed package: interfaces, classes, enums and aliases. */
function loadDeclarations() {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve("@sesame/sdk"));
  const declarations = { interfaces: new Map(), classes: new Map(), enums: new Map(), aliases: new Map() };
  for (const file of ["types.d.ts", "calls.d.ts"]) {
    const text = readFileSync(path.join(dist, file), "utf8");
    new DeclarationReader(tokenize(text, file), file).readInto(declarations);
  }
  return declarations;
}

const DECLARATIONS = loadDeclarations();

function named(name, args = []) {
  return { kind: "name", name, args };
}

/** `type` with aliases (`Id`, `Content`, `Streamed<…>`, the tagged unions) replaced by what they stand for. */
function resolved(type) {
  while (type.kind === "name" && DECLARATIONS.aliases.has(type.name)) {
    const alias = DECLARATIONS.aliases.get(type.name);
    const bound = new Map(alias.params.map((param, i) => [param, type.args[i]]));
    type = bound.size ? substituted(alias.type, bound) : alias.type;
  }
  return type;
}

/** `type` with the type parameters `bound` maps replaced by their arguments. */
function substituted(type, bound) {
  switch (type.kind) {
    case "name":
      if (bound.has(type.name) && type.args.length === 0) return bound.get(type.name);
      return { ...type, args: type.args.map((arg) => substituted(arg, bound)) };
    case "array":
      return { kind: "array", of: substituted(type.of, bound) };
    case "union":
      return { kind: "union", options: type.options.map((option) => substituted(option, bound)) };
    case "intersection":
      return { kind: "intersection", parts: type.parts.map((part) => substituted(part, bound)) };
    case "tuple":
      return { kind: "tuple", items: type.items.map((item) => substituted(item, bound)) };
    case "object":
      return {
        kind: "object",
        fields: new Map([...type.fields].map(([key, field]) => [key, { ...field, type: substituted(field.type, bound) }])),
      };
    default:
      return type;
  }
}

/**
 * The fields of an object type: an interface, an object literal, an intersection of
 * them, or `Omit<T, "key" | …>`; undefined for any other type.
 */
function fieldsOf(type) {
  const t = resolved(type);
  if (t.kind === "object") return t.fields;
  if (t.kind === "intersection") {
    const parts = t.parts.map(fieldsOf);
    return parts.every(Boolean) ? new Map(parts.flatMap((fields) => [...fields])) : undefined;
  }
  if (t.kind !== "name") return undefined;
  if (t.name === "Omit" && t.args.length === 2) {
    const fields = fieldsOf(t.args[0]);
    const omitted = resolved(t.args[1]);
    const keys = (omitted.kind === "union" ? omitted.options : [omitted]).map((key) => key.value);
    return fields && new Map([...fields].filter(([key]) => !keys.includes(key)));
  }
  return DECLARATIONS.interfaces.get(t.name)?.fields;
}

/** The model an object type is made from (`Streamed<FileCreateParams>`: FileCreateParams), for messages and WIRE_DEFAULTS. */
function modelName(type) {
  const t = resolved(type);
  if (t.kind === "intersection") return modelName(t.parts[0]);
  if (t.kind === "name") return t.name === "Omit" ? modelName(t.args[0]) : t.name;
  return t.kind === "object" && tagOf(t) !== undefined ? `the variant ${compact(tagOf(t))}` : "object";
}

function show(type) {
  switch (type.kind) {
    case "name":
      return type.args.length ? `${type.name}<${type.args.map(show).join(", ")}>` : type.name;
    case "array":
      return `${show(type.of)}[]`;
    case "union":
      return type.options.map(show).join(" | ");
    case "literal":
      return JSON.stringify(type.value);
    case "tuple":
      return `[${type.items.map(show).join(", ")}]`;
    case "intersection":
      return type.parts.map(show).join(" & ");
    default:
      return "{…}";
  }
}

/** `undefined`, `null` or `void`: what an optional value is when it is not there. */
function isNothing(type) {
  return type.kind === "name" && ["undefined", "null", "void"].includes(type.name);
}

function isBytes(type) {
  const t = resolved(type);
  return t.kind === "name" && t.name === "Uint8Array";
}

/** The tag of a tagged union's variant (`{type: "Otp"; …}`), if it is one. */
function tagOf(type) {
  const t = resolved(type);
  const tag = t.kind === "object" ? t.fields.get("type") : undefined;
  return tag && tag.type.kind === "literal" ? tag.type.value : undefined;
}

/** The one variant of the tagged union `options` that `value` (`{type, …}`) names. */
function variantOf(options, value, where) {
  const variant = options.find((option) => tagOf(option) === value?.type);
  if (variant === undefined) {
    throw new ConversionError(`${where}: ${compact(value?.type)} is none of the tags ${options.map(tagOf).join(", ")}`);
  }
  return variant;
}

// ---------- wire JSON to the declared types, and back ----------

/**
 * A step's wire JSON `value` as a JavaScript caller passes a value of the declared
 * `type`: checked all the way down (a TypeScript caller could not pass a key the type
 * lacks), with the wire's defaults filled in, timestamps as `Date`, bytes (standard
 * base64 on the wire) as `Uint8Array`, and `null` for an optional value left out.
 */
function fromJson(value, type, where) {
  const t = resolved(type);
  switch (t.kind) {
    case "union": {
      const present = t.options.filter((option) => !isNothing(option));
      if (present.length < t.options.length && (value === null || value === undefined)) return undefined;
      // `Content` (`Uint8Array | Blob`): a caller's bytes in memory.
      if (present.some(isBytes)) return strictBase64(value, where);
      if (present.length === 1) return fromJson(value, present[0], where);
      if (present.every((option) => tagOf(option) !== undefined)) return fromJson(value, variantOf(present, value, where), where);
      throw new ConversionError(`${where}: the runner cannot build a ${show(t)}`);
    }
    case "array":
      if (!Array.isArray(value)) throw new ConversionError(`${where}: expected an array, got ${compact(value)}`);
      return value.map((item, i) => fromJson(item, t.of, `${where}[${i}]`));
    case "literal":
      if (value !== t.value) throw new ConversionError(`${where}: expected ${compact(t.value)}, got ${compact(value)}`);
      return value;
    case "name":
      if (!DECLARATIONS.interfaces.has(t.name) && t.name !== "Omit") break;
    // Falls through: a model.
    case "object":
    case "intersection": {
      const fields = fieldsOf(t);
      if (fields === undefined) throw new ConversionError(`${where}: the runner cannot build a ${show(t)}`);
      const model = modelName(t);
      const filled = isPlainObject(value) ? { ...structuredClone(WIRE_DEFAULTS[model] ?? {}), ...value } : value;
      return objectFromJson(filled, fields, model, where);
    }
    default:
      throw new ConversionError(`${where}: the runner cannot build a ${show(t)}`);
  }
  const { name } = t;
  if (name === "string" || name === "number" || name === "boolean") {
    if (typeof value !== name) throw new ConversionError(`${where}: expected a ${name}, got ${compact(value)}`);
    return value;
  }
  if (name === "Date") {
    const date = typeof value === "string" ? new Date(value) : undefined;
    if (date === undefined || Number.isNaN(date.getTime())) {
      throw new ConversionError(`${where}: expected a timestamp, got ${compact(value)}`);
    }
    return date;
  }
  if (name === "Uint8Array") return strictBase64(value, where);
  if (name === "Record") {
    if (!isPlainObject(value)) throw new ConversionError(`${where}: expected an object, got ${compact(value)}`);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fromJson(item, t.args[1], `${where}.${key}`)]));
  }
  if (DECLARATIONS.enums.has(name)) {
    // JavaScript enums are their strings. A value this version does not know is passed
    // as it is, as a caller holding a newer server's value would (the core reads it as
    // `Unsupported`, as Python's enums do).
    if (typeof value !== "string") throw new ConversionError(`${where}: expected a ${name}, got ${compact(value)}`);
    return value;
  }
  throw new ConversionError(`${where}: the runner cannot build a ${name}`);
}

function objectFromJson(value, fields, typeName, where) {
  if (!isPlainObject(value)) throw new ConversionError(`${where}: expected a ${typeName} object, got ${compact(value)}`);
  const unknown = Object.keys(value).filter((key) => !fields.has(key));
  if (unknown.length) throw new ConversionError(`${where}: ${typeName} has no field ${unknown.join(", ")}`);
  const out = {};
  for (const [key, field] of fields) {
    const given = value[key];
    if (given === undefined || (given === null && field.optional)) {
      if (!field.optional) throw new ConversionError(`${where}: ${typeName}.${key} is missing`);
      continue;
    }
    const converted = fromJson(given, field.type, `${where}.${key}`);
    if (converted !== undefined) out[key] = converted;
  }
  return out;
}

/**
 * A method's result as wire JSON, after checking that it is what the declared `type`
 * promises, all the way down: no key the type lacks, every required key, `Date` where
 * a timestamp is declared, `Uint8Array` where bytes are, enum values of the enum.
 *
 * An absent optional value must be `undefined`, never the wire's `null`: the
 * declarations say `key?: T` or `T | undefined`, and a caller tests `=== undefined`.
 */
function toJson(value, type, where) {
  const t = resolved(type);
  const fail = (what) => new StepError(`${where}: expected ${what}, got ${describeValue(value)}`);
  const allowsNull = (t.kind === "name" ? [t] : t.kind === "union" ? t.options : []).some((option) => option.name === "null");
  if (value === null) {
    if (!allowsNull) throw fail(`a ${show(t)} (an absent value is undefined)`);
    return null;
  }
  switch (t.kind) {
    case "union": {
      const present = t.options.filter((option) => !isNothing(option));
      if (present.length < t.options.length && value === undefined) return null;
      if (present.length === 1) return toJson(value, present[0], where);
      if (present.every((option) => tagOf(option) !== undefined) && isPlainObject(value)) {
        const variant = present.find((option) => tagOf(option) === value.type);
        if (variant === undefined) throw fail(`one of the tags ${present.map(tagOf).join(", ")}`);
        return toJson(value, variant, where);
      }
      for (const option of present) {
        try {
          return toJson(value, option, where);
        } catch (e) {
          if (!(e instanceof StepError)) throw e;
        }
      }
      throw fail(`a ${show(t)}`);
    }
    case "array":
      if (!Array.isArray(value)) throw fail("an array");
      return value.map((item, i) => toJson(item, t.of, `${where}[${i}]`));
    case "literal":
      if (value !== t.value) throw fail(compact(t.value));
      return value;
    case "name":
      if (!DECLARATIONS.interfaces.has(t.name) && t.name !== "Omit") break;
    // Falls through: a model.
    case "object":
    case "intersection": {
      const fields = fieldsOf(t);
      if (fields === undefined) throw new StepError(`${where}: the runner cannot check a ${show(t)}`);
      const model = modelName(t);
      return objectToJson(value, fields, model, where);
    }
    default:
      throw new StepError(`${where}: the runner cannot check a ${show(t)}`);
  }
  const { name } = t;
  if (isNothing(t)) {
    if (value !== undefined) throw fail("nothing");
    return null;
  }
  if (name === "string" || name === "boolean") {
    if (typeof value !== name) throw fail(`a ${name}`);
    return value;
  }
  if (name === "number") {
    if (typeof value !== "number" || !Number.isFinite(value)) throw fail("a number");
    return value;
  }
  if (name === "Date") {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw fail("a Date");
    return value.toISOString();
  }
  if (name === "Uint8Array") {
    if (!(value instanceof Uint8Array)) throw fail("a Uint8Array");
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  }
  if (name === "Record") {
    if (!isPlainObject(value)) throw fail("an object");
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, toJson(item, t.args[1], `${where}[${compact(key)}]`)]),
    );
  }
  if (DECLARATIONS.enums.has(name)) {
    if (typeof value !== "string" || !DECLARATIONS.enums.get(name).has(value)) throw fail(`a ${name}`);
    return value;
  }
  throw new StepError(`${where}: the runner cannot check a ${name}`);
}

function objectToJson(value, fields, typeName, where) {
  if (!isPlainObject(value)) throw new StepError(`${where}: expected a ${typeName} object, got ${describeValue(value)}`);
  const unknown = Object.keys(value).filter((key) => !fields.has(key));
  if (unknown.length) throw new StepError(`${where}: ${typeName} declares no ${unknown.join(", ")}`);
  const out = {};
  for (const [key, field] of fields) {
    const item = value[key];
    if (item === undefined) {
      if (!field.optional) throw new StepError(`${where}: ${typeName}.${key} is missing`);
    } else {
      out[key] = toJson(item, field.type, `${where}.${key}`);
    }
  }
  return out;
}

/** What a value is, for a message: its type, never its content. */
function describeValue(value) {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  return `a ${typeof value}`;
}

// ---------- the call table ----------

/**
 * Every call of the package, from its declarations: the groups reachable from a client
 * (`client.items.files`, …) and their methods, each with the call it invokes (read from
 * the method's own code: `invoke("ItemsFilesAttach", …)`). The `…To` variants, which
 * write a download to a `destination` path, share their call with the method they vary
 * and are left out. An instance method that invokes nothing itself must be the twin of
 * a static method of its class with the same signature (`client.shares.open` of
 * `Shares.open`); the runner calls it when the step has a client.
 */
function callTable() {
  const table = new Map();
  const twins = [];
  // The generated base class of `Client`, which the package does not export by name.
  const ClientCalls = Object.getPrototypeOf(sdk.Client);
  const visit = (className, groupPath) => {
    const declared = DECLARATIONS.classes.get(className);
    const runtime = className === "ClientCalls" ? ClientCalls : sdk[className];
    assert.ok(declared && typeof runtime === "function" && runtime.name === className, `the package has no class ${className}`);
    for (const [property, field] of declared.fields) {
      const group = field.type.kind === "name" && DECLARATIONS.classes.has(field.type.name);
      if (group) visit(field.type.name, [...groupPath, property]);
    }
    for (const method of declared.methods.values()) {
      if (method.name === "constructor" || method.params.some((param) => param.name === "destination")) continue;
      const where = `${className}.${method.static ? "" : "prototype."}${method.name}`;
      const fn = method.static ? runtime[method.name] : runtime.prototype[method.name];
      assert.equal(typeof fn, "function", `${where} is declared but missing`);
      const source = fn.toString();
      const invoked = [...source.matchAll(/\binvoke\(\s*"(\w+)"/g)].map((match) => match[1]);
      const twin = declared.methods.get(`static ${method.name}`);
      if (invoked.length === 0 && !method.static && twin !== undefined) {
        const signature = (m) => show({ kind: "tuple", items: [...m.params.map((param) => param.type), m.returns] });
        assert.equal(signature(method), signature(twin), `${where} differs from its static twin`);
        twins.push({ className, groupPath, method: method.name });
        continue;
      }
      assert.equal(invoked.length, 1, `${where} invokes ${invoked.length} calls`);
      for (const param of method.params) {
        // The wire's parameter is the argument's name in snake case (`vaultId`: vault_id).
        const wire = snakeCase(param.name);
        assert.ok(source.includes(`parameters["${wire}"]`), `${where}(${param.name}) is not sent as ${wire}`);
      }
      const call = invoked[0];
      assert.ok(!table.has(call), `${call} is invoked by two methods`);
      const returns = resolved(method.returns);
      const isAsync = returns.kind === "name" && returns.name === "Promise";
      table.set(call, {
        call,
        className,
        runtime,
        groupPath,
        method: method.name,
        static: method.static,
        // Set below when the class also has an instance twin of a static method.
        onInstance: !method.static,
        params: method.params,
        async: isAsync,
        returns: isAsync ? returns.args[0] : returns,
        label: method.static ? `${className}.${method.name}` : ["client", ...groupPath, method.name].join("."),
      });
    }
  };
  visit("ClientCalls", []);
  for (const twin of twins) {
    const entry = [...table.values()].find((e) => e.static && e.className === twin.className && e.method === twin.method);
    entry.onInstance = true;
    entry.groupPath = twin.groupPath;
  }
  return table;
}

const CALLS = callTable();

/** Whether `type` is a model that carries file content (`content`: bytes), as FileCreateParams does. */
function carriesContent(type) {
  const content = fieldsOf(type)?.get("content");
  const contentType = content && resolved(content.type);
  if (contentType === undefined) return false;
  return isBytes(contentType) || (contentType.kind === "union" && contentType.options.some(isBytes));
}

/** The envelope of a thrown SesameError, after checking the error is what its code says. */
function envelope(error, label) {
  const Class = sdk.ERRORS_BY_CODE[error.code];
  if (Class === undefined || !(error instanceof Class)) {
    throw new StepError(`${label} threw a ${error.constructor.name} with code ${compact(error.code)}`);
  }
  const details = error.details;
  if (!isPlainObject(details)) throw new StepError(`${label} threw an error without details`);
  // The typed properties are the details' facts, as the 1Password SDK's errors carry them.
  if (error.statusCode !== details.statusCode || error.requestId !== details.requestId) {
    throw new StepError(`${label}: statusCode/requestId ${compact([error.statusCode, error.requestId])} differ from the details`);
  }
  if (error instanceof sdk.RateLimitedError && error.retryAfter !== details.retryAfterSeconds) {
    throw new StepError(`${label}: retryAfter ${error.retryAfter} differs from retryAfterSeconds`);
  }
  return { code: error.code, message: error.message, ...details };
}

/**
 * Compares an outcome ("ok" or "error") with `{"ok": …}` / `{"error": …}` (no
 * expectation: any success).
 */
function checkOutcome(kind, value, expect) {
  if (expect === NO_EXPECT) {
    if (kind === "error") throw new StepError(`expected success, got error ${compact(value)}`);
    return;
  }
  if (!isPlainObject(expect) || !(kind in expect)) {
    throw new StepError(`expected ${compact(expect)}, got ${kind} ${compact(value)}`);
  }
  matches(expect[kind], value, kind);
}

/**
 * A step whose JSON the JavaScript types cannot carry (bytes as invalid base64) is
 * consistent only if its scenario expects the wire to refuse it; it is left out, since
 * no JavaScript caller can send it. Returns why, for the skipped step's report.
 */
function acceptInexpressible(call, error, expect) {
  const wanted = isPlainObject(expect) ? expect.error : undefined;
  if (!isPlainObject(wanted) || wanted.code !== "invalid_input") {
    throw new StepError(`${call}: ${error.message}, yet the scenario expects ${compact(expect)}`);
  }
  return `not sent: ${error.message}; the JavaScript API takes bytes (Uint8Array), which cannot be invalid base64`;
}

function describe(step) {
  if (!isPlainObject(step)) return "?";
  if (typeof step.client === "string") return `client ${step.client}`;
  if ("cli" in step) return `cli ${compact(step.cli)}`;
  return String(step.call ?? "?");
}

function load(file) {
  const scenario = JSON.parse(readFileSync(path.join(SCENARIO_DIR, file), "utf8"));
  assert.ok(isPlainObject(scenario) && Array.isArray(scenario.steps), `${file}: no steps`);
  return scenario;
}

// ---------- the runner ----------

/** One scenario's state: its clients, their tokens and the saved values. */
class Run {
  constructor(server, unique) {
    this.server = server;
    this.clients = new Map();
    this.tokens = new Map();
    this.vars = new Variables({ unique, serverUrl: server.url });
  }

  /** Creates client `name`; the SesameError if it could not. */
  async connect(name, token, integrationName) {
    let client;
    try {
      client = await sdk.createClient({
        auth: token,
        integrationName,
        integrationVersion: INTEGRATION_VERSION,
        serverUrl: this.server.url,
        timeoutSeconds: TIMEOUT_SECONDS,
      });
    } catch (e) {
      if (e instanceof sdk.SesameError) return e;
      throw e;
    }
    this.clients.get(name)?.close();
    this.clients.set(name, client);
    this.tokens.set(name, token);
    return null;
  }

  close() {
    for (const client of this.clients.values()) client.close();
  }

  /** `text` without any token this run knows or that looks like one. */
  redact(text) {
    let out = String(text);
    for (const token of this.tokens.values()) if (token.length >= 8) out = out.replaceAll(token.trim(), "<token>");
    return redact(out);
  }

  /** Runs one step; resolves to the reason it was left out, if it was. */
  async step(step) {
    if (!isPlainObject(step)) throw new StepError(`a step is an object, not ${compact(step)}`);
    const unknown = Object.keys(step).filter((key) => !STEP_KEYS.includes(key));
    if (unknown.length) throw new StepError(`unknown step key ${compact(unknown[0])} (the keys are ${STEP_KEYS.join(", ")})`);
    if ("cli" in step && "expect" in step) throw new StepError('a cli step cannot have "expect": it must succeed');
    const expect = "expect" in step ? this.vars.substitute(step.expect) : NO_EXPECT;
    if (typeof step.client === "string") {
      const token = this.vars.substitute(step.token);
      const error = await this.connect(step.client, typeof token === "string" ? token : "", STEP_INTEGRATION);
      if (error === null) checkOutcome("ok", null, expect);
      else checkOutcome("error", envelope(error, "createClient"), expect);
      return undefined;
    }
    if ("cli" in step) {
      this.vars.save(step, this.cli(step, this.vars.substitute(step.cli)));
      return undefined;
    }
    const call = step.call;
    if (typeof call !== "string") throw new StepError('a step needs "call", "cli" or "client"');
    const parameters = this.vars.substitute(step.parameters ?? {});
    if (!isPlainObject(parameters)) throw new StepError(`${call}: parameters are an object, not ${compact(parameters)}`);
    const upload = this.bytesOf(step, "bytes", "bytesBase64");
    let client = null;
    if (step.offline !== true) {
      const who = typeof step.as === "string" ? step.as : "owner";
      if (!this.clients.has(who)) throw new StepError(`no client named ${compact(who)}`);
      client = this.clients.get(who);
    }
    let outcome;
    try {
      outcome = await this.invoke(call, parameters, upload, client);
    } catch (e) {
      if (e instanceof Inexpressible) return acceptInexpressible(call, e, expect);
      throw e;
    }
    const [kind, result, content] = outcome;
    const expectedBytes = this.bytesOf(step, "expectBytes", "expectBytesBase64");
    if (expectedBytes !== null && (content === null || Buffer.compare(content, expectedBytes) !== 0)) {
      const text = (bytes) => (bytes === null ? "nothing" : compact(Buffer.from(bytes).toString("utf8")));
      throw new StepError(`${call}: expected bytes ${text(expectedBytes)}, got ${text(content)}`);
    }
    try {
      if (kind === "ok") this.vars.save(step, result);
      checkOutcome(kind, result, expect);
    } catch (e) {
      if (e instanceof StepError) throw new StepError(`${call}: ${e.message}`);
      throw e;
    }
    return undefined;
  }

  /** `textKey`'s UTF-8 text (after substitution) or `base64Key`'s bytes, or null. */
  bytesOf(step, textKey, base64Key) {
    if (textKey in step && base64Key in step) throw new StepError(`a step has ${textKey} or ${base64Key}, not both`);
    if (textKey in step) {
      const text = this.vars.substitute(step[textKey]);
      if (typeof text !== "string") throw new StepError(`${textKey} must be a string`);
      return new TextEncoder().encode(text);
    }
    if (base64Key in step) {
      try {
        return strictBase64(step[base64Key], base64Key);
      } catch (e) {
        throw new StepError(e.message);
      }
    }
    return null;
  }

  /** Runs the `sesame` command line as a principal (default the owner); its stdout is JSON. */
  cli(step, args) {
    const who = typeof step.as === "string" ? step.as : "owner";
    if (!this.tokens.has(who)) throw new StepError(`no token for ${compact(who)}`);
    if (!Array.isArray(args)) throw new StepError("cli is a list of arguments");
    const argv = args.map((arg) => (typeof arg === "string" ? arg : compact(arg)));
    let stdout;
    try {
      stdout = this.server.cli(argv, this.tokens.get(who));
    } catch (e) {
      throw new StepError(`sesame ${argv.join(" ")}: ${e.message}`);
    }
    try {
      return JSON.parse(stdout);
    } catch (e) {
      throw new StepError(`sesame ${argv.join(" ")}: stdout is not JSON: ${e.message}`);
    }
  }

  /**
   * Runs `call` through its method: ["ok", result as JSON, bytes returned] or
   * ["error", envelope, null].
   */
  async invoke(call, parameters, upload, client) {
    const entry = CALLS.get(call);
    if (entry === undefined) throw new StepError(`${call} is invoked by no method of the package`);
    let target;
    if (client !== null && entry.onInstance) {
      target = entry.groupPath.reduce((holder, key) => holder[key], client);
    } else if (entry.static) {
      // A static method with no instance twin is on the class only (`Secrets.validateSecretReference`).
      target = entry.runtime;
    } else {
      throw new StepError(`${call}: ${entry.label} needs a client: it cannot run offline`);
    }
    const args = this.arguments(entry, parameters, upload);
    let result;
    try {
      result = target[entry.method](...args);
      const isThenable = typeof result?.then === "function";
      if (entry.async !== isThenable) {
        const declared = entry.async ? "async" : "synchronous";
        throw new StepError(`${entry.label} is declared ${declared} but returned ${describeValue(result)}`);
      }
      if (isThenable) result = await result;
    } catch (e) {
      if (e instanceof sdk.SesameError) return ["error", envelope(e, entry.label), null];
      throw e;
    }
    if (isBytes(entry.returns)) {
      // Raw content is compared with expectBytes; the JSON result is null.
      if (!(result instanceof Uint8Array)) {
        throw new StepError(`${entry.label}() returned ${describeValue(result)}, not a Uint8Array`);
      }
      return ["ok", null, result];
    }
    return ["ok", toJson(result, entry.returns, `${entry.label}()`), null];
  }

  /**
   * The method's positional arguments from the step's wire parameters; `upload` becomes
   * the `content` of the one parameter whose model has one.
   */
  arguments(entry, parameters, upload) {
    const wireNames = new Map(entry.params.map((param) => [snakeCase(param.name), param]));
    const unknown = Object.keys(parameters).filter((key) => !wireNames.has(key));
    if (unknown.length) throw new ConversionError(`${entry.label} has no parameter ${unknown.join(", ")}`);
    let carrier = null;
    if (upload !== null) {
      const carriers = entry.params.filter((param) => carriesContent(param.type));
      if (carriers.length !== 1) throw new ConversionError(`${entry.label} takes no file content, yet the step has bytes`);
      carrier = carriers[0];
      if (isPlainObject(parameters[snakeCase(carrier.name)]) && "content" in parameters[snakeCase(carrier.name)]) {
        throw new ConversionError(`${carrier.name} has content in the parameters and as bytes`);
      }
    }
    return entry.params.map((param) => {
      const key = snakeCase(param.name);
      if (!(key in parameters)) {
        if (!param.optional) throw new ConversionError(`${entry.label}: parameter ${key} is missing`);
        return undefined;
      }
      const value = fromJson(parameters[key], param.type, key);
      // As a caller passes it: the raw bytes as the params' content.
      if (param === carrier) value.content = upload;
      return value;
    });
  }
}

// ---------- tests ----------

let server;

before(async () => {
  // A server of this file's own: client.json expects a fresh account (an audit trail no
  // checkpoint has signed yet), and the scenarios run one after the other on it.
  server = await startServer("sesame-js-scenarios-");
});

after(() => server?.stop());

for (const [index, file] of SCENARIO_FILES.entries()) {
  test(`scenario ${file}`, async (t) => {
    const scenario = load(file);
    // A short lowercase suffix unique to this run (vault titles, service account names).
    const unique = `j${index}${randomBytes(3).toString("hex")}`;
    const run = new Run(server, unique);
    try {
      const error = await run.connect("owner", server.ownerToken, OWNER_INTEGRATION);
      if (error !== null) assert.fail(`${file}: the owner could not authenticate: ${error.code}: ${error.message}`);
      for (const [i, step] of scenario.steps.entries()) {
        const where = `${file} step ${i + 1} (${describe(step)})`;
        let skipped;
        try {
          skipped = await run.step(step);
        } catch (e) {
          // Anything but a StepError is unexpected (a TypeError in the package, say):
          // its stack says where.
          const what = e instanceof StepError ? e.message : `raised ${e?.stack ?? e}`;
          // A new error: its message says it all, without a value of the failed step.
          assert.fail(run.redact(`${where}: ${what}`));
        }
        if (skipped !== undefined) await t.test(`step ${i + 1} (${describe(step)})`, { skip: skipped }, () => {});
      }
    } finally {
      run.close();
    }
  });
}

test("there are scenarios", () => {
  assert.ok(SCENARIO_FILES.length >= 9, SCENARIO_FILES.join(", "));
});

test("every call of the package is exercised by a scenario", () => {
  const used = new Set(
    SCENARIO_FILES.flatMap((file) => load(file).steps)
      .map((step) => step.call)
      .filter((call) => typeof call === "string"),
  );
  assert.deepEqual([...CALLS.keys()].filter((call) => !used.has(call)), [], "calls no scenario exercises");
  assert.deepEqual([...used].filter((call) => !CALLS.has(call)), [], "scenario calls no method of the package invokes");
});

test("the matcher can fail", () => {
  const ok = (expected, actual) => matched(expected, actual, "$");
  assert.ok(!ok({ a: 1 }, { a: 2 }));
  assert.ok(!ok({ a: { $type: "string" } }, { a: 2 }));
  assert.ok(!ok([1], [1, 2]));
  assert.ok(ok({ $unordered: [1, 2] }, [2, 1]));
  assert.ok(!ok({ $unordered: [1, 1] }, [1, 2]));
  assert.ok(ok({ b: { $absent: true } }, { a: 1 }));
  assert.ok(ok({ b: null }, { a: 1 }));
  assert.ok(!ok({ b: 1 }, { a: 1 }));
  assert.ok(ok({ $not: { $contains: 1 } }, [2, 3]));
  assert.ok(!ok({ $not: { $contains: 1 } }, [1, 3]));
  assert.ok(ok({ $contains: "ell" }, "hello") && !ok({ $contains: "x" }, "hello"));
  assert.ok(ok({ $length: 2 }, "äö") && ok({ $length: 1 }, "😀") && !ok({ $length: 2 }, 12));
  // JSON types: true is not 1.
  assert.ok(!ok(true, 1) && !ok(1, true) && ok(1, 1.0));
  assert.ok(!ok({ $type: "number" }, false));
  assert.throws(() => matches({ $whatever: 1 }, 1), StepError);
  assert.deepEqual(strictBase64("//4A", "x"), new Uint8Array([0xff, 0xfe, 0x00]));
  for (const bad of ["%%", "//4", "//5=", 1]) assert.throws(() => strictBase64(bad, "x"), Inexpressible);
});

test("variables substitute and save", () => {
  const scope = new Variables({ v: { id: "abc", n: 2, list: [{ x: "y" }] }, s: "text" });
  assert.deepEqual(scope.substitute("${v}"), { id: "abc", n: 2, list: [{ x: "y" }] });
  assert.equal(scope.substitute("${v/n}"), 2);
  assert.equal(scope.substitute("id=${v/id}, n=${v/n}, ${s}"), "id=abc, n=2, text");
  assert.deepEqual(scope.substitute({ "k ${s}": ["${v/list/0/x}"] }), { "k text": ["y"] });
  for (const bad of ["${nope}", "${v/missing}", "${v/list/01}", "a ${s"]) assert.throws(() => scope.substitute(bad), StepError);
  scope.save({ save: { whole: "", x: "/list/0/x" } }, { list: [{ x: 5 }] });
  assert.deepEqual(scope.values.whole, { list: [{ x: 5 }] });
  assert.equal(scope.values.x, 5);
  assert.throws(() => scope.save({ save: { y: "/nope" } }, {}), StepError);
  assert.equal(redact("a sesame_sa_eyJ2.abc-_ b"), "a sesame_sa_<redacted> b");
});

test("wire parameters become the declared types, and results are checked against theirs", () => {
  const recipe = fromJson({ type: "Pin", parameters: { length: 6 } }, named("PasswordRecipe"), "recipe");
  assert.deepEqual(recipe, { type: "Pin", parameters: { length: 6 } });
  assert.deepEqual(fromJson({}, named("ItemShareParams"), "params"), { oneTimeOnly: false });
  assert.throws(() => fromJson({ title: "t", colour: "red" }, named("VaultCreateParams"), "params"), /has no field colour/);
  assert.throws(() => fromJson({ type: "Long", parameters: {} }, named("PasswordRecipe"), "recipe"), ConversionError);
  assert.throws(() => fromJson("3", named("number"), "limit"), /expected a number/);
  assert.throws(() => fromJson({ name: "a", content: "%%" }, named("DocumentCreateParams"), "doc"), Inexpressible);
  const document = fromJson({ name: "a", content: "aGk=" }, named("DocumentCreateParams"), "doc");
  assert.deepEqual(document.content, new TextEncoder().encode("hi"));
  const wire = {
    id: "i",
    vaultId: "v",
    title: "t",
    category: "Login",
    version: 1,
    createdAt: "2024-01-02T03:04:05.123Z",
    updatedAt: "2024-01-02T03:04:05.123Z",
  };
  const item = fromJson(wire, named("Item"), "item");
  assert.ok(item.createdAt instanceof Date && Array.isArray(item.websites));
  const defaults = { fields: [], sections: [], notes: "", tags: [], websites: [], files: [] };
  assert.deepEqual(toJson(item, named("Item"), "r"), { ...wire, ...defaults });
  // What a result must not be: a timestamp left as text, a key no type declares, an
  // unknown enum value, a required key missing.
  assert.throws(() => toJson({ ...item, createdAt: wire.createdAt }, named("Item"), "r"), /expected a Date/);
  assert.throws(() => toJson({ ...item, colour: "red" }, named("Item"), "r"), /declares no colour/);
  assert.throws(() => toJson({ ...item, category: "Spaceship" }, named("Item"), "r"), /expected a ItemCategory/);
  assert.throws(() => toJson({ ...item, id: undefined }, named("Item"), "r"), /Item.id is missing/);
  // An absent value is undefined, as declared; the wire's null is not.
  const maybeState = { kind: "union", options: [named("RateLimitState"), named("undefined")] };
  assert.equal(toJson(undefined, maybeState, "r"), null);
  assert.throws(() => toJson(null, maybeState, "r"), /an absent value is undefined/);
  assert.throws(() => toJson({ ...item, document: null }, named("Item"), "r"), /an absent value is undefined/);
  // `Omit<FileCreateParams, "content"> & {content: Content}`: what the upload methods take.
  const streamed = {
    kind: "intersection",
    parts: [
      named("Omit", [named("FileCreateParams"), { kind: "literal", value: "content" }]),
      { kind: "object", fields: new Map([["content", { optional: false, type: named("Content") }]]) },
    ],
  };
  assert.ok(carriesContent(streamed) && !carriesContent(named("ItemCreateParams")));
  assert.deepEqual([...fieldsOf(streamed).keys()].sort(), ["content", "fieldId", "name", "sectionId"]);
  const upload = fromJson({ name: "n", sectionId: "s", fieldId: "f", content: "aGk=" }, streamed, "fileParams");
  assert.deepEqual(upload.content, new TextEncoder().encode("hi"));
});
