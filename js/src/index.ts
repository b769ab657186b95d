// @sesame/sdk: the 1Password JS SDK's API (`createClient`, `Secrets`, the model types
// and enums), over Sesame's native core, plus Sesame's own calls and errors.

import { setProcessInvokers } from "./calls";
import { anonymousInvoker, offlineInvoker } from "./native";

setProcessInvokers(offlineInvoker, anonymousInvoker);

export { createClient, Client, DEFAULT_INTEGRATION_NAME, DEFAULT_INTEGRATION_VERSION } from "./client";
export type { ClientConfiguration } from "./client";
export { Events, Items, ItemsFiles, ItemsShares, Secrets, Shares, Vaults } from "./calls";
export type { Transfer } from "./calls";
export * from "./errors";
export * from "./types";
