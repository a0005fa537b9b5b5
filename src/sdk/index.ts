/**
 * The Sandbox SDK: `import { Sandbox } from "cordon"`, shaped after
 * `@deno/sandbox` 0.13 so code written for it runs after changing the
 * import. See docs/sdk.md for the design and the differences.
 */
// `SpawnOptions` is also the engine's name in src/index.ts (which wins there); `SandboxSpawnOptions` is the same type.
export { Sandbox, type SpawnOptions, type SpawnOptions as SandboxSpawnOptions } from "./sandbox.js";
export { ChildProcess, type ChildProcessOutput, type ChildProcessStatus, type Signal } from "./child-process.js";
export { SandboxCommandBuilder, type SandboxCommandResult, type ShellPipeKind } from "./command.js";
export { SandboxEnv } from "./env.js";
export { SandboxFs, type DirEntry, type ExpandGlobOptions, type FileInfo, type MkdirOptions, type ReadFileOptions, type RemoveOptions, type WalkEntry, type WalkOptions, type WriteFileOptions } from "./fs.js";
export { FsFile, SeekMode, type OpenOptions } from "./fs-file.js";
export { KillController, KillSignal, type KillSignalListener } from "./kill-signal.js";
export {
  // `@deno/sandbox`'s classes (see errors.ts for which cordon throws).
  ApiError, ConnectionClosedError, ConnectionEstablishmentError, InvalidMemoryError, InvalidTimeoutError, InvalidTokenError,
  MissingTokenError, NetworkError, RpcError, SandboxCommandError, SandboxKillError, SandboxSdkError,
  // cordon's.
  SandboxClosedError, SandboxFsError, SandboxNotFoundError, SandboxTimeoutError,
} from "./errors.js";
export { type Memory, type SandboxOptions, type SecretConfig } from "./options.js";
export { Client, Snapshot, Volume, type CatalogOptions, type PaginatedList, type SandboxMetadata, type VolumeInit } from "./catalog.js";
export { SandboxDeno, DenoProcess, DenoRepl, type CodeExtension, type DenoReplOptions, type DenoRunOptions } from "./deno.js";
export { DenoReplError } from "./deno-values.js";
export { type ConnectOptions } from "./service/client.js";
export { quoteShellWord as escapeShellArg } from "./shell-quote.js";
export { type SnapshotInfo, type VolumeInfo } from "./store.js";
