// `createClient` and the `Client` it returns: the 1Password JS SDK's entry point, over
// the addon. The wrappers themselves (`client.secrets`, `client.items`, …) are generated.

import { inspect } from "node:util";

import { ClientCalls } from "./calls";
import { errorFromEnvelope } from "./errors";
import { ClientInvoker, native } from "./native";
import type * as Native from "../native/index";

/** The integration name the 1Password SDK records when none is given. */
export const DEFAULT_INTEGRATION_NAME = "Unknown";
/** The integration version the 1Password SDK records when none is given. */
export const DEFAULT_INTEGRATION_VERSION = "Unknown";

/**
 * How to create a client: as in the 1Password SDK (`auth`, `integrationName`,
 * `integrationVersion`), plus Sesame's options.
 */
export interface ClientConfiguration {
  /** The service account token. It is handed to the native client and not kept. */
  auth: string;
  /** Your program's name, recorded in the audit trail. */
  integrationName: string;
  /** Your program's version. */
  integrationVersion: string;
  /** The server to use instead of the one the token records (default: `$SESAME_URL` if set). */
  serverUrl?: string;
  /** The limit on every HTTP call, in seconds (default 30). */
  timeoutSeconds?: number;
  /** How often an idempotent call is retried after a transient failure, waiting as long as a `Retry-After` says (default 3). */
  retries?: number;
  /** Reads skip the sync round trip while the last sync is younger than this, in seconds (default 0: sync on every read; your own writes are always seen). */
  cacheTtlSeconds?: number;
}

/**
 * An authenticated client: `client.secrets`, `client.items` (with `.files` and
 * `.shares`), `client.vaults`, `client.shares`, `client.events`, `client.rateLimit()`.
 *
 * Many calls may run at once, from anywhere in the program. `close()` releases the
 * session at once; garbage collection releases it too. Neither `util.inspect` nor
 * `JSON.stringify` shows anything secret: the token is not kept in JavaScript at all.
 */
export class Client extends ClientCalls {
  readonly #native: Native.NativeClient;
  readonly #integration: string;

  /** @internal Use `createClient`. */
  constructor(nativeClient: Native.NativeClient, integration: string) {
    super(new ClientInvoker(nativeClient));
    this.#native = nativeClient;
    this.#integration = integration;
    // The invoker holds the native handle; keep it out of enumeration and inspection.
    Object.defineProperty(this, "invoker", { enumerable: false });
  }

  /** Releases the session now. Idempotent; later calls fail with `InvalidInputError`. */
  close(): void {
    this.#native.close();
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#native.closed;
  }

  /** What `JSON.stringify` shows: the integration and whether the client is closed. */
  toJSON(): { integration: string; closed: boolean } {
    return { integration: this.#integration, closed: this.closed };
  }

  /** What `util.inspect` and `console.log` show. */
  [inspect.custom](): string {
    return `Client { integration: ${JSON.stringify(this.#integration)}, ${this.closed ? "closed" : "open"} }`;
  }
}

/**
 * Authenticates with a service account token and syncs the vaults it can read.
 *
 * ```js
 * const client = await createClient({
 *   auth: process.env.SESAME_SERVICE_ACCOUNT_TOKEN,
 *   integrationName: "My Integration",
 *   integrationVersion: "v1.0.0",
 * });
 * ```
 */
export async function createClient(config: ClientConfiguration): Promise<Client> {
  const integrationName = config?.integrationName ?? DEFAULT_INTEGRATION_NAME;
  const integrationVersion = config?.integrationVersion ?? DEFAULT_INTEGRATION_VERSION;
  const outcome = await native.authenticate(JSON.stringify({ ...config, integrationName, integrationVersion }));
  if (typeof outcome === "string") {
    const envelope = JSON.parse(outcome) as { error: Record<string, unknown> };
    throw errorFromEnvelope(envelope.error);
  }
  return new Client(outcome, `${integrationName}/${integrationVersion}`);
}
