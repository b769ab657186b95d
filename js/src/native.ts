// The addon (bindings/node), loaded once, and the invokers the generated wrappers run
// on: they encode a call as JSON, hand content and destinations to the addon, and turn
// error envelopes into the generated error classes. No model or business logic here.

import type * as Native from "../native/index";
import type { Invoker, OfflineInvoker, Transfer } from "./calls";
import { errorFromEnvelope, InvalidInputError, SesameError } from "./errors";

function load(): typeof Native {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("../native/sesame.node") as typeof Native;
  } catch (cause) {
    throw new Error(
      "the Sesame native addon could not be loaded (native/sesame.node in @sesame/sdk). It is " +
        "built when the package is installed, which needs Rust (https://rustup.rs): run " +
        "`npm rebuild @sesame/sdk` and read its output.",
      { cause },
    );
  }
}

/** The addon. */
export const native: typeof Native = load();

/**
 * JSON's `null` as JavaScript's `undefined`: the model's optional fields are `field?: T`,
 * so an absent value must read as `undefined` (and `"x" in object` as false).
 */
function withoutNulls(_key: string, value: unknown): unknown {
  return value === null ? undefined : value;
}

/** The result of a reply and the bytes beside it, or its error thrown. */
export function opened(reply: Native.Reply, cause?: unknown): [unknown, Uint8Array | undefined] {
  // Most replies have no null at all: skip the reviver's cost for them.
  const reviver = reply.json.includes("null") ? withoutNulls : undefined;
  const envelope = JSON.parse(reply.json, reviver) as { ok?: unknown; error?: Record<string, unknown> };
  if (envelope.error !== undefined) {
    const error: SesameError = errorFromEnvelope(envelope.error);
    // The caller's own stream failed: say so, as the error's cause.
    if (cause !== undefined) Object.defineProperty(error, "cause", { value: cause, configurable: true });
    throw error;
  }
  // A plain view of the addon's Buffer, without a copy: bytes are `Uint8Array` everywhere.
  const bytes = reply.bytes && new Uint8Array(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength);
  return [envelope.ok, bytes];
}

type NativeInvoke = (
  request: string,
  content: Uint8Array | null,
  size: number | null,
  readChunk: (() => Promise<Uint8Array | null>) | null,
  destination: string | null,
) => Promise<Native.Reply>;

/** Runs a call on `invoke` with its transfer: bytes as they are, a `Blob` pulled chunk by chunk. */
async function run(
  invoke: NativeInvoke,
  name: string,
  parameters: Record<string, unknown>,
  transfer: Transfer = {},
): Promise<[unknown, Uint8Array | undefined]> {
  const request = JSON.stringify({ name, parameters });
  const destination = transfer.destination ?? null;
  if (destination !== null && typeof destination !== "string") {
    throw new InvalidInputError("destination must be a file path (a string)", { argument: "destination" });
  }
  const content = transfer.content;
  if (content === undefined) {
    // A call that uploads names `content` in its transfer: it must be there.
    if ("content" in transfer) {
      throw new InvalidInputError("content is missing: give the file's bytes (a Uint8Array) or a Blob", {
        argument: "content",
      });
    }
    return opened(await invoke(request, null, null, null, destination));
  }
  if (content instanceof Uint8Array) return opened(await invoke(request, content, null, null, destination));
  if (typeof Blob !== "undefined" && content instanceof Blob) {
    const reader = content.stream().getReader();
    let failure: unknown;
    const readChunk = async (): Promise<Uint8Array | null> => {
      try {
        const { done, value } = await reader.read();
        return done ? null : value;
      } catch (e) {
        failure = e;
        throw e;
      }
    };
    try {
      return opened(await invoke(request, null, content.size, readChunk, destination), failure);
    } finally {
      // A call that failed before reading all of it leaves the rest unread.
      reader.cancel().catch(() => undefined);
    }
  }
  throw new InvalidInputError(
    "content must be a Uint8Array (or Buffer) or a Blob such as `await fs.openAsBlob(path)`",
    { argument: "content" },
  );
}

/** Calls against one client. */
export class ClientInvoker implements Invoker {
  constructor(private readonly client: Native.NativeClient) {}

  invoke(name: string, parameters: Record<string, unknown>, transfer?: Transfer): Promise<[unknown, Uint8Array | undefined]> {
    return run(
      (request, content, size, readChunk, destination) => this.client.invoke(request, content, size, readChunk, destination),
      name,
      parameters,
      transfer,
    );
  }
}

/** Calls that need no client but do I/O (opening a share link). */
export const anonymousInvoker: Invoker = {
  invoke: (name, parameters, transfer) => run(native.invoke, name, parameters, transfer),
};

/** Offline calls, synchronous (validate a reference, generate a password or a TOTP code). */
export const offlineInvoker: OfflineInvoker = {
  invoke(name, parameters) {
    if (name === "ValidateSecretReference" && typeof parameters["secret_reference"] === "string") {
      // The hottest offline call: straight to the native validator, no JSON on success.
      const failure = native.validateSecretReference(parameters["secret_reference"]);
      if (failure !== null) throw errorFromEnvelope((JSON.parse(failure) as { error: Record<string, unknown> }).error);
      return [undefined, undefined];
    }
    return opened(native.invokeOffline(JSON.stringify({ name, parameters })));
  },
};
