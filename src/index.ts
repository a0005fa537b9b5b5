export { run, DEFAULT_OUTPUT_BYTES, type RunOptions, type RunResult } from "./sandbox/run.js";
export { SandboxedProcess, type SandboxExit, type SpawnOptions } from "./sandbox/sandboxed-process.js";
export type { SandboxBackend, LaunchedSandbox, LaunchOptions, StdioMode } from "./engine/backend.js";
export { BubblewrapBackend } from "./engine/bwrap/backend.js";
export { planSandbox, type SandboxPlan, type Mount } from "./engine/plan.js";
export type { LimitEnforcement, LimitName } from "./engine/limits/enforce.js";
export * from "./engine/exit-codes.js";
export {
  parsePermissions, type Permissions, type PermissionsInput, type Limits, type EnvGrant,
} from "./policy/permissions.js";
export { parseNetGrant, type NetGrant } from "./policy/net-grant.js";
export { parseDuration, parseSize } from "./policy/units.js";
export * from "./errors.js";
export { EgressProxy, SANDBOX_PROXY_PORT, BlockedDestinations, proxyEnvironment, type EgressEvent, type EgressConnectionEvent, type Destination } from "./net/index.js";
export { SandboxNetwork, type SandboxNetworkOptions } from "./net/sandbox-network.js";
export * as scan from "./scan/index.js";
export { scanPackageDir, scanTarball, scanSpec, scanTree, toSarif, type PackageReport, type Finding, type Verdict } from "./scan/index.js";
export { installProject, type InstallOptions, type InstallReport, type ReviewRequest, type ReviewAnswer } from "./install/install.js";
export { SandboxCertificateAuthority } from "./net/tls/certificate-authority.js";
export { parseSecretFlag, secretsFromRecord, type SecretGrant } from "./net/secrets/secret-grant.js";
export type { SecretEvent } from "./net/secrets/intercept.js";
export * from "./sdk/index.js";
