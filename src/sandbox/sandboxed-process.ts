import { randomBytes } from "node:crypto";
import { ConfigError, SandboxStartError } from "../errors.js";
import type { Permissions, PermissionsInput } from "../policy/permissions.js";
import type { LaunchedSandbox, SandboxBackend, StdioMode } from "../engine/backend.js";
import { BubblewrapBackend } from "../engine/bwrap/backend.js";
import { EXIT_MEMORY_LIMIT, EXIT_OUTPUT_LIMIT, EXIT_SANDBOX_FAILED, EXIT_TIMEOUT } from "../engine/exit-codes.js";
import { SandboxCgroup } from "../engine/limits/cgroup.js";
import type { LimitEnforcement, LimitName } from "../engine/limits/enforce.js";
import type { SandboxPlan } from "../engine/plan.js";
import { persistenceChanges, type PersistenceChange } from "../engine/persistence.js";
import { readProcStat } from "../engine/proc-stat.js";
import { explainStartFailure } from "../engine/diagnose.js";
import { composeSandbox, type ComposedSandbox, type ComposeOptions } from "./compose.js";

export interface SpawnOptions extends Omit<ComposeOptions, "capturingOutput"> {
  stdin?: StdioMode;
  stdout?: StdioMode;
  stderr?: StdioMode;
  /** Aborting kills the sandbox. */
  signal?: AbortSignal;
  backend?: SandboxBackend;
  /** Called when a limit is about to end the sandbox. */
  onLimit?: (limit: LimitName) => void;
  /**
   * Refuse to run when memory can only be limited per process (no writable
   * cgroup). Front doors set it when the user asked for a memory limit by
   * name: per-process rlimits are escapable (shared mappings, stacks, kernel
   * buffers), and a limit must never only look enforced.
   */
  requireMemoryBound?: boolean;
  /** Called with the plan before anything runs (its warnings are for the user to see now, not afterwards). */
  onPlan?: (plan: SandboxPlan) => void;
  /** See LaunchOptions.launcherPrefix. */
  launcherPrefix?: { file: string; args: readonly string[] };
}

/** How a sandboxed command ended. Errors and results share this shape. */
export interface SandboxExit {
  /** What `cordon run` exits with: the command's code, or one of exit-codes.ts. */
  exitCode: number;
  /** The command's own exit code (128+N for signal N), when it ended by itself. */
  commandExitCode: number | null;
  /** The limit that ended the sandbox, if one did. */
  limitHit: LimitName | undefined;
  durationMs: number;
  /** How each limit was enforced on this machine (downgrades are visible here). */
  enforcement: LimitEnforcement[];
  /**
   * Files that run code later (git config and hooks, husky, workflows,
   * .envrc, editor tasks, shell rc, .npmrc) that the sandbox created or
   * changed inside its writable grants. Empty when it planted nothing.
   */
  persistence: PersistenceChange[];
  /**
   * False when the writable grants held more than cordon walks (a sandbox can
   * flood them to hide a planted file): `persistence` is then not the whole
   * story, and callers must say so.
   */
  persistenceChecked: boolean;
  warnings: readonly string[];
}

/**
 * One command running in its own sandbox. Owns the backend process, the
 * cgroup and the timers; every path out of it (exit, timeout, limit, abort,
 * failed start) releases all three.
 */
export class SandboxedProcess {
  readonly plan: SandboxPlan;
  readonly stdin: LaunchedSandbox["stdin"];
  readonly stdout: LaunchedSandbox["stdout"];
  readonly stderr: LaunchedSandbox["stderr"];
  readonly hostPid: Promise<number | undefined>;
  /** Resolves when the sandbox is gone; rejects with SandboxStartError if it never started. */
  readonly exited: Promise<SandboxExit>;
  readonly #launched: LaunchedSandbox;
  #limitHit: LimitName | undefined;
  readonly #onLimit: ((limit: LimitName) => void) | undefined;

  /**
   * Starts a command in a new sandbox. Resolves once the sandbox is launched
   * (not when it ends: see `exited`). With network grants, the egress proxy
   * is attached to the sandbox's loopback before the command runs.
   */
  static async start(command: string, args: readonly string[], permissions: Permissions | PermissionsInput, options: SpawnOptions = {}): Promise<SandboxedProcess> {
    const capturingOutput = options.stdout === "pipe" || options.stderr === "pipe";
    const composed = await composeSandbox(command, args, permissions, { ...options, capturingOutput });
    try {
      return new SandboxedProcess(composed, options);
    } catch (error) {
      await composed.close();
      throw error;
    }
  }

  private constructor(composed: ComposedSandbox, options: SpawnOptions) {
    const started = performance.now();
    const { network } = composed;
    this.plan = composed.plan;
    options.onPlan?.(this.plan);
    const strategy = this.plan.limitStrategy;
    if (options.requireMemoryBound && !strategy.cgroup) {
      const note = strategy.enforcement.find((e) => e.limit === "memory")?.note ?? "";
      throw new ConfigError(`--memory cannot be enforced on this machine: there is no cgroup cordon can write (${note.replace(/^.*because /, "").replace(/;.*$/, "")}), and limits per process can be escaped.`, {
        input: "--memory",
        hint: "Run where cgroups are delegated to you (e.g. systemd-run --user --scope -p Delegate=yes cordon run …) or as root; or leave out --memory (a per-process default then applies, reported as such).",
      });
    }
    const backend = options.backend ?? new BubblewrapBackend();
    const cgroup = strategy.cgroup
      ? SandboxCgroup.create(strategy.cgroup, randomBytes(6).toString("hex"), this.plan.limits)
      : undefined;
    this.#onLimit = options.onLimit;

    try {
      this.#launched = backend.launch(this.plan, {
        stdin: options.stdin ?? "ignore",
        stdout: options.stdout ?? "pipe",
        stderr: options.stderr ?? "pipe",
        cgroupProcs: cgroup?.procsFiles,
        // The proxy must be listening on the sandbox's loopback before the
        // command can try to use it: bubblewrap holds the command until then.
        beforeStart: network ? async (pid) => void (await network.attach(pid)) : undefined,
        rlimits: strategy.rlimits,
        launcherPrefix: options.launcherPrefix,
      });
    } catch (error) {
      void cgroup?.dispose();
      void network?.close();
      throw error;
    }
    this.stdin = this.#launched.stdin;
    this.stdout = this.#launched.stdout;
    this.stderr = this.#launched.stderr;
    this.hostPid = this.#launched.hostPid;

    const timeoutMs = this.plan.limits.timeoutMs;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => this.stopForLimit("timeout"), timeoutMs);
    const onAbort = (): void => this.kill();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) this.kill();

    this.exited = this.#launched.exited.then(async (exit) => {
      if (timer) clearTimeout(timer);
      // Killing bubblewrap ends the sandbox through die-with-parent, which the
      // kernel delivers a moment later: wait until its first process is gone,
      // so nothing of the sandbox is still running when `exited` resolves.
      await waitUntilGone(await this.hostPid);
      options.signal?.removeEventListener("abort", onAbort);
      if (cgroup?.memoryKilled() && this.#limitHit === undefined) this.#limitHit = "memory";
      await cgroup?.dispose();
      await network?.close();
      if (!exit.started && this.#limitHit === undefined && !options.signal?.aborted) {
        throw new SandboxStartError(`The sandbox could not start: ${exit.startError ?? "unknown error"}.`, {
          hint: explainStartFailure(),
        });
      }
      return {
        exitCode: exitCodeFor(this.#limitHit, exit.exitCode, exit.signal),
        commandExitCode: this.#limitHit === undefined ? exit.exitCode : null,
        limitHit: this.#limitHit,
        durationMs: performance.now() - started,
        enforcement: strategy.enforcement,
        ...persistenceReport(this.plan),
        warnings: this.plan.warnings,
      };
    });
  }

  /** Ends the sandbox and every process in it. */
  kill(): void {
    this.#launched.kill();
  }

  /** Ends the sandbox because a limit was reached, and records which. */
  stopForLimit(limit: LimitName): void {
    if (this.#limitHit !== undefined) return;
    this.#limitHit = limit;
    this.#onLimit?.(limit);
    this.kill();
  }
}

function persistenceReport(plan: SandboxPlan): Pick<SandboxExit, "persistence" | "persistenceChecked"> {
  const { changes, complete } = persistenceChanges(plan.persistenceWatch.baseline, plan.persistenceWatch.roots);
  return { persistence: changes, persistenceChecked: complete };
}

function exitCodeFor(limit: LimitName | undefined, commandExit: number | null, signal: NodeJS.Signals | null): number {
  switch (limit) {
    case "timeout": return EXIT_TIMEOUT;
    case "memory": return EXIT_MEMORY_LIMIT;
    case "output": return EXIT_OUTPUT_LIMIT;
    case "pids": case "disk": case undefined: break;
  }
  if (commandExit !== null) return commandExit;
  return signal === null ? EXIT_SANDBOX_FAILED : 128 + 9;
}

/** Resolves once `pid` has exited (or is a zombie), waiting at most about a second. */
async function waitUntilGone(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const state = readProcStat(pid)?.state;
    if (state === undefined || state === "Z" || state === "X") return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
