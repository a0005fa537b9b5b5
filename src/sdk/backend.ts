import type { AgentProcess, PipeMode } from "./agent.js";
import type { SnapshotInfo } from "./store.js";

/** One process to start, as the Sandbox's spawn() has checked it. */
export interface ProcessRequest {
  command: string;
  args: string[];
  cwd: string;
  /** Added to (or, with clearEnv, instead of) the sandbox's variables. */
  env: Record<string, string>;
  clearEnv: boolean;
  stdin: "piped" | "null";
  stdout: PipeMode;
  stderr: PipeMode;
  /** A private request/answer channel beside stdio (see AgentRunRequest). */
  channel?: boolean;
}

/** Sends a signal to a process a sandbox started. */
export interface ProcessSignaller {
  kill(pid: number, signal: string): void;
}

/** The variables later processes start with (`sandbox.env`), wherever they are kept. */
export interface EnvStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  toObject(): Promise<Record<string, string>>;
}

/**
 * What a `Sandbox` stands on: a sandbox owned by this process
 * (LocalSandbox), or one owned by the sandbox service and reached over its
 * socket (RemoteSandbox). The Sandbox class checks every argument and builds
 * everything else (sh, fs, deno) on these operations.
 */
export interface SandboxBackend extends ProcessSignaller {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Local: every process is gone and the folder removed. Remote: the connection is closed. */
  readonly closed: Promise<void>;
  readonly env: EnvStore;
  readonly url: string | undefined;
  readonly deadline: Date | undefined;
  /** @internal The sandbox's folder and first process on this host (tests, benchmarks). */
  readonly stateDir: string;
  hostPid(): Promise<number>;
  start(request: ProcessRequest): Promise<AgentProcess>;
  /** True once the whole sandbox has hit its memory limit. */
  isOom(): boolean;
  exposeHttp(port: number): Promise<string>;
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  snapshot(name: string): Promise<SnapshotInfo>;
  extendTimeout(ms: number): Promise<Date>;
  /** Deno's close(): a local sandbox ends; a service's sandbox is left running until its timeout. */
  close(): Promise<void>;
  /** Deno's kill(): the sandbox ends, wherever it runs. */
  terminate(): Promise<void>;
}
