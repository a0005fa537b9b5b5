import { spawn, type StdioOptions } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { BackendUnavailableError } from "../../errors.js";
import type { BackendExit, LaunchedSandbox, LaunchOptions, SandboxBackend } from "../backend.js";
import type { SandboxPlan } from "../plan.js";
import { buildSeccompFilter } from "../seccomp/filter.js";
import { seccompArchFor } from "../seccomp/syscalls.js";
import { renderBwrapArgs } from "./argv.js";
import { findOnHostPath, locateBwrap } from "./locate.js";

const FIRST_EXTRA_FD = 3;

/** Runs sandboxes with bubblewrap: Linux user, mount, PID, IPC, UTS, network and cgroup namespaces. */
export class BubblewrapBackend implements SandboxBackend {
  readonly name = "bubblewrap";
  readonly #bwrap: string;
  readonly #seccomp: Buffer;
  readonly #runningAsRoot: boolean;

  constructor() {
    this.#bwrap = locateBwrap();
    const arch = seccompArchFor(process.arch);
    if (!arch) {
      throw new BackendUnavailableError(`cordon's seccomp filter does not support the ${process.arch} architecture yet.`, {
        hint: "Supported: x86_64 and aarch64.",
      });
    }
    this.#seccomp = buildSeccompFilter(arch);
    this.#runningAsRoot = process.getuid?.() === 0;
  }

  launch(plan: SandboxPlan, options: LaunchOptions): LaunchedSandbox {
    const fileCount = plan.mounts.filter((m) => m.kind === "file").length;
    const blocking = options.beforeStart !== undefined;
    const seccompFd = FIRST_EXTRA_FD;
    const statusFd = FIRST_EXTRA_FD + 1;
    const blockFd = blocking ? FIRST_EXTRA_FD + 2 : undefined;
    const firstFileFd = FIRST_EXTRA_FD + (blocking ? 3 : 2);
    const files = Array.from({ length: fileCount }, (_, i) => firstFileFd + i);
    const bwrapArgs = renderBwrapArgs(plan, { seccomp: seccompFd, status: statusFd, block: blockFd, files }, this.#runningAsRoot);

    const stdio: StdioOptions = [options.stdin, options.stdout, options.stderr, "pipe", "pipe"];
    if (blocking) stdio.push("pipe");
    for (let i = 0; i < fileCount; i += 1) stdio.push("pipe");

    const { file, args } = withCgroupEntry(withRlimits({ file: this.#bwrap, args: bwrapArgs }, options.rlimits), options.cgroupProcs);
    // bubblewrap itself gets an empty environment: the sandbox's variables are
    // passed with --setenv, and nothing of cordon's environment rides along.
    const child = spawn(file, args, { stdio, env: {}, windowsHide: true });
    const pipeAt = (fd: number): Writable & Readable => child.stdio[fd] as Writable & Readable;

    writeAndClose(pipeAt(seccompFd), this.#seccomp);
    let fileMount = 0;
    for (const mount of plan.mounts) {
      if (mount.kind === "file") writeAndClose(pipeAt(firstFileFd + fileMount++), Buffer.from(mount.content));
    }

    let resolvePid: (pid: number | undefined) => void = () => {};
    const hostPid = new Promise<number | undefined>((resolve) => (resolvePid = resolve));
    let exitCode: number | null = null;
    let started = false;
    let startError: string | undefined;
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
          resolvePid(pid);
          if (blockFd !== undefined) release(pid);
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
        child.kill("SIGKILL");
      },
    };
  }
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

/**
 * Starts the launcher inside the sandbox's cgroups: a fixed shell stub writes
 * its own PID into each cgroup.procs file and then execs the real command,
 * so bubblewrap and everything it starts are inside before the sandboxed
 * command exists. The paths and the command travel as positional arguments,
 * never spliced into the script. (About 2 ms, against about 8 ms for
 * pausing bubblewrap on --block-fd and moving its child from Node.)
 */
const CGROUP_ENTRY_SCRIPT = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';

function withCgroupEntry(command: Command, procsFiles: readonly string[] | undefined): Command {
  if (!procsFiles || procsFiles.length === 0) return command;
  return { file: "/bin/sh", args: ["-c", CGROUP_ENTRY_SCRIPT, "cordon-cgroup-entry", String(procsFiles.length), ...procsFiles, command.file, ...command.args] };
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
