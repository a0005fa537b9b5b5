import type { Readable, Writable } from "node:stream";
import type { SandboxPlan } from "./plan.js";

export type StdioMode = "inherit" | "pipe" | "ignore";

export interface LaunchOptions {
  stdin: StdioMode;
  stdout: StdioMode;
  stderr: StdioMode;
  /** Called with the host PID of the sandbox's first process before the command runs; resolve to release it. */
  beforeStart?: (hostPid: number) => void | Promise<void>;
  /**
   * cgroup.procs files the sandbox must be in from its first instruction:
   * the launcher enters them before the sandbox's first process exists, so
   * every process of the sandbox is counted.
   */
  cgroupProcs?: readonly string[];
  /**
   * A program that starts bubblewrap: it is run with its own arguments, then
   * bubblewrap's path and arguments, and must exec them as the same process
   * (e.g. a user+mount namespace stage that mounts an overlay first). File
   * descriptors 3 and up must pass through unchanged.
   */
  launcherPrefix?: { file: string; args: readonly string[] };
  /** Resource limits applied per process by the kernel (the fallback when no cgroup is writable). */
  rlimits?: { nproc?: number; dataBytes?: number };
}

/** How a sandbox ended, as the backend saw it. */
export interface BackendExit {
  /** False when the sandbox never got as far as running the command. */
  started: boolean;
  /** The command's exit code (128+N when it died of signal N), when it ran to an end. */
  exitCode: number | null;
  /** Set when the backend process itself was killed (cordon's timeout or limit). */
  signal: NodeJS.Signals | null;
  /** The backend's own error text when the sandbox failed to start. */
  startError: string | undefined;
}

export interface LaunchedSandbox {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Host PID of the sandbox's first process, once known. */
  readonly hostPid: Promise<number | undefined>;
  readonly exited: Promise<BackendExit>;
  /** Ends every process of the sandbox at once. */
  kill(): void;
}

/**
 * An isolation backend: turns a plan into a running sandbox. Today's is
 * bubblewrap (Linux namespaces); a microVM or remote backend implements the
 * same two calls.
 */
export interface SandboxBackend {
  readonly name: string;
  launch(plan: SandboxPlan, options: LaunchOptions): LaunchedSandbox;
}
