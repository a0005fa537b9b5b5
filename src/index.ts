/**
 * `import ... from "cordon"`: what running code in a sandbox needs, and
 * nothing heavier. The scanner, the installer and the network layer's
 * building blocks (proxy, CA) load only when imported by name:
 * "cordon/scan", "cordon/install", "cordon/net". A sandbox with network
 * grants or secrets loads its network and TLS parts on demand.
 */
export { run, DEFAULT_OUTPUT_BYTES, type RunOptions, type RunResult } from "./sandbox/run.js";
export { SandboxedProcess, type SandboxExit, type SpawnOptions } from "./sandbox/sandboxed-process.js";
export { composeSandbox, type ComposedSandbox, type ComposeOptions } from "./sandbox/compose.js";
export type { SandboxBackend, LaunchedSandbox, LaunchOptions, StdioMode } from "./engine/backend.js";
export { BubblewrapBackend } from "./engine/bwrap/backend.js";
export { planSandbox, type SandboxPlan, type Mount } from "./engine/plan.js";
export type { LimitEnforcement, LimitName } from "./engine/limits/enforce.js";
export type { PersistenceChange } from "./engine/persistence.js";
export * from "./engine/exit-codes.js";
export {
  parsePermissions, isEnvName, type Permissions, type PermissionsInput, type Limits, type EnvGrant,
} from "./policy/permissions.js";
export { parseNetGrant, type NetGrant } from "./policy/net-grant.js";
export { parseDuration, parseSize } from "./policy/units.js";
export * from "./errors.js";
export { parseSecretFlag, secretsFromRecord, type SecretGrant } from "./net/secrets/secret-grant.js";
export type { SecretEvent } from "./net/secrets/intercept.js";
export type { EgressEvent, EgressConnectionEvent } from "./net/events.js";
export * from "./sdk/index.js";
