import { spawn, type StdioOptions } from "node:child_process";
import fs from "node:fs";
import type { Readable, Writable } from "node:stream";
import { BackendUnavailableError } from "../../errors.js";
import type { BackendExit, LaunchedSandbox, LaunchOptions, SandboxBackend } from "../backend.js";
import type { SandboxPlan } from "../plan.js";
import { buildSeccompFilter } from "../seccomp/filter.js";
import { seccompArchFor } from "../seccomp/syscalls.js";
import { renderBwrapArgs } from "./argv.js";
import { bindsByDescriptor, closeAll, inheritableDescriptors, openBindSources } from "./bind-sources.js";
import { isAlive, readProcStat } from "../proc-stat.js";
import { findOnHostPath } from "../../host/tools.js";
import { locateBwrap } from "./locate.js";

const FIRST_EXTRA_FD = 3;

/** Runs sandboxes with bubblewrap: Linux user, mount, PID, IPC, UTS, network and cgroup namespaces. */
export class BubblewrapBackend implements SandboxBackend {
  readonly name = "bubblewrap";
  readonly #bwrap: string;
  /** The filter, built once per variant: [shared memory allowed, refused]. */
  readonly #seccomp: readonly [Buffer, Buffer];
  readonly #runningAsRoot: boolean;

  constructor() {
    this.#bwrap = locateBwrap();
    const arch = seccompArchFor(process.arch);
    if (!arch) {
      throw new BackendUnavailableError(`cordon's seccomp filter does not support the ${process.arch} architecture yet.`, {
        hint: "Supported: x86_64 and aarch64.",
      });
    }
    this.#seccomp = [buildSeccompFilter(arch, { denySharedMemory: false }), buildSeccompFilter(arch, { denySharedMemory: true })];
    this.#runningAsRoot = process.getuid?.() === 0;
  }

  launch(plan: SandboxPlan, options: LaunchOptions): LaunchedSandbox {
    const fileCount = plan.mounts.filter((m) => m.kind === "file" || m.kind === "data").length;
    const blocking = options.beforeStart !== undefined;
    const argsFd = FIRST_EXTRA_FD;
    const seccompFd = FIRST_EXTRA_FD + 1;
    const statusFd = FIRST_EXTRA_FD + 2;
    const blockFd = blocking ? FIRST_EXTRA_FD + 3 : undefined;
    const firstFileFd = FIRST_EXTRA_FD + (blocking ? 4 : 3);
    const files = Array.from({ length: fileCount }, (_, i) => firstFileFd + i);
    const pinned = bindsByDescriptor(plan.mounts);
    const firstBindFd = firstFileFd + fileCount;
    const bindSources = pinned.map((_, i) => firstBindFd + i);
    const bwrapArgs = renderBwrapArgs(plan, { seccomp: seccompFd, status: statusFd, block: blockFd, files, bindSources }, this.#runningAsRoot);

    const stdio: StdioOptions = [options.stdin, options.stdout, options.stderr, "pipe", "pipe", "pipe"];
    if (blocking) stdio.push("pipe");
    for (let i = 0; i < fileCount; i += 1) stdio.push("pipe");

    // Only "--args FD" and the command are on bubblewrap's command line: the
    // sandbox's options (its variables included) never appear in the host's
    // process list, and bubblewrap cannot create the sandbox before it has
    // read them.
    const separator = bwrapArgs.indexOf("--");
    const sandboxOptions = bwrapArgs.slice(0, separator);
    const command = bwrapArgs.slice(separator);
    const launched = withRlimits({ file: this.#bwrap, args: ["--args", String(argsFd), ...command] }, options.rlimits);
    const { file, args } = options.launcherPrefix
      ? { file: options.launcherPrefix.file, args: [...options.launcherPrefix.args, launched.file, ...launched.args] }
      : launched;
    // bubblewrap itself gets an empty environment: the sandbox's variables are
    // passed with --setenv, and nothing of cordon's environment rides along.
    // Opened last, right before the spawn, so no path out leaks them.
    const hostSourceFds = openBindSources(pinned);
    const childStdio: StdioOptions = [...stdio, ...hostSourceFds];
    const devNull = coverInheritedDescriptors(childStdio);
    let child;
    try {
      child = spawn(file, args, { stdio: childStdio, env: {}, windowsHide: true });
    } finally {
      // bubblewrap holds its own copies now; cordon's would only leak.
      closeAll(devNull === undefined ? hostSourceFds : [...hostSourceFds, devNull]);
    }
    const pipeAt = (fd: number): Writable & Readable => child.stdio[fd] as Writable & Readable;

    let startError: string | undefined;
    try {
      // bubblewrap is now blocked reading its arguments, before any clone():
      // moving it into the sandbox's cgroups here puts every process of the
      // sandbox inside from its first instruction.
      if (child.pid !== undefined) for (const procs of options.cgroupProcs ?? []) fs.writeFileSync(procs, String(child.pid));
    } catch (error) {
      startError = `could not enter the sandbox's cgroup: ${(error as Error).message}`;
      child.kill("SIGKILL");
    }
    writeAndClose(pipeAt(argsFd), Buffer.from(sandboxOptions.map((arg) => `${arg}\0`).join("")));
    // Memory limited per process (no cgroup): shared memory would escape it.
    writeAndClose(pipeAt(seccompFd), this.#seccomp[plan.seccomp.denySharedMemory ? 1 : 0]);
    let fileMount = 0;
    for (const mount of plan.mounts) {
      if (mount.kind === "file" || mount.kind === "data") writeAndClose(pipeAt(firstFileFd + fileMount++), Buffer.from(mount.content));
    }

    let resolvePid: (pid: number | undefined) => void = () => {};
    const hostPid = new Promise<number | undefined>((resolve) => (resolvePid = resolve));
    let exitCode: number | null = null;
    let started = false;
    /** The sandbox's PID 1, as a host pid and its start time (so a reused pid is never killed). */
    let sandboxInit: { pid: number; startTime: number } | undefined;
    /**
     * Set when the sandbox is killed before bubblewrap reported its PID 1: a
     * kill that early (a 1 ms timeout, an abort) can land between bubblewrap's
     * clone() and the child arming its parent-death signal, leaving PID 1
     * orphaned, blocked on its start signal and holding cordon's pipes. Its
     * PID is still in the status pipe: it is killed as soon as it is read.
     */
    let killRequested = false;
    const killInit = (): void => {
      if (sandboxInit && isAlive(sandboxInit.pid, sandboxInit.startTime)) {
        try {
          process.kill(sandboxInit.pid, "SIGKILL");
        } catch { /* gone in between */ }
      }
    };
    let statusText = "";
    pipeAt(statusFd).on("data", (chunk: Buffer) => {
      statusText += chunk.toString();
      let newline: number;
      while ((newline = statusText.indexOf("\n")) >= 0) {
        const line = statusText.slice(0, newline);
        statusText = statusText.slice(newline + 1);
        const status = parseStatus(line);
        if (status["child-pid"] !== undefined) {
          started = true;
          const pid = status["child-pid"];
          const stat = readProcStat(pid);
          if (stat) sandboxInit = { pid, startTime: stat.startTime };
          resolvePid(pid);
          if (killRequested) killInit();
          else if (blockFd !== undefined) release(pid);
        }
        if (status["exit-code"] !== undefined) exitCode = status["exit-code"];
      }
    });
    const release = (pid: number): void => {
      Promise.resolve()
        .then(() => options.beforeStart?.(pid))
        .then(
          () => writeAndClose(pipeAt(blockFd as number), Buffer.from("go")),
          (error: unknown) => {
            startError = error instanceof Error ? error.message : String(error);
            child.kill("SIGKILL");
          },
        );
    };

    const exited = new Promise<BackendExit>((resolve) => {
      child.on("error", (error) => {
        startError = error.message;
      });
      child.on("close", (code, signal) => {
        resolvePid(undefined);
        if (!started && startError === undefined) startError = `bubblewrap exited with code ${code ?? signal} before starting the command`;
        resolve({
          started: started && startError === undefined,
          exitCode: exitCode ?? (signal === null ? code : null),
          signal,
          startError,
        });
      });
    });

    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      hostPid,
      exited,
      kill: () => {
        killRequested = true;
        child.kill("SIGKILL");
        // Killing the PID namespace's init makes the kernel kill every process
        // in it, whatever they did to their own parent-death signals; killing
        // bubblewrap alone relies on --die-with-parent reaching them.
        killInit();
      },
    };
  }
}

/**
 * Puts /dev/null in the child at the number of every descriptor cordon
 * holds without close-on-exec beyond the ones it passes on purpose (see
 * inheritableDescriptors). Returns the /dev/null descriptor to close after
 * the spawn, if one was needed.
 */
function coverInheritedDescriptors(stdio: StdioOptions): number | undefined {
  if (!Array.isArray(stdio)) return undefined;
  const leaking = inheritableDescriptors().filter((fd) => fd >= stdio.length);
  if (leaking.length === 0) return undefined;
  const devNull = fs.openSync("/dev/null", "r");
  for (const fd of leaking) {
    while (stdio.length < fd) stdio.push("ignore");
    stdio[fd] = devNull;
  }
  return devNull;
}

/**
 * Applies kernel resource limits through util-linux's prlimit, which sets
 * them and then execs bubblewrap (Node cannot call setrlimit on a child).
 */
function withRlimits(command: Command, rlimits: LaunchOptions["rlimits"]): Command {
  if (!rlimits || (rlimits.nproc === undefined && rlimits.dataBytes === undefined)) return command;
  const prlimit = findOnHostPath("prlimit");
  if (!prlimit) {
    throw new BackendUnavailableError("Limits need prlimit on this machine (no writable cgroup), and it is missing.", {
      hint: "Install util-linux (sudo apt-get install -y util-linux), or run where cgroups are delegated.",
    });
  }
  const flags: string[] = [];
  if (rlimits.nproc !== undefined) flags.push(`--nproc=${rlimits.nproc}`);
  if (rlimits.dataBytes !== undefined) flags.push(`--data=${rlimits.dataBytes}`);
  return { file: prlimit, args: [...flags, "--", command.file, ...command.args] };
}

interface Command {
  file: string;
  args: string[];
}

function writeAndClose(stream: Writable, data: Buffer): void {
  stream.on("error", () => { /* the sandbox died before reading; the exit status says why */ });
  stream.end(data);
}

function parseStatus(line: string): { "child-pid"?: number; "exit-code"?: number } {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as { "child-pid"?: number; "exit-code"?: number }) : {};
  } catch {
    return {};
  }
}
