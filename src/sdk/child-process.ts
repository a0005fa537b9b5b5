import { constants as osConstants } from "node:os";
import type net from "node:net";
import { Readable } from "node:stream";
import type { AgentProcess } from "./agent.js";
import type { ProcessSignaller } from "./backend.js";

/** Signals a process can be sent, as `@deno/sandbox` names them. */
export type Signal = "SIGABRT" | "SIGALRM" | "SIGBUS" | "SIGCHLD" | "SIGCONT" | "SIGFPE" | "SIGHUP" | "SIGILL" | "SIGINT" | "SIGIO" | "SIGKILL" | "SIGPIPE" | "SIGPROF" | "SIGPWR" | "SIGQUIT" | "SIGSEGV" | "SIGSTKFLT" | "SIGSTOP" | "SIGSYS" | "SIGTERM" | "SIGTRAP" | "SIGTSTP" | "SIGTTIN" | "SIGTTOU" | "SIGURG" | "SIGUSR1" | "SIGUSR2" | "SIGVTALRM" | "SIGWINCH" | "SIGXCPU" | "SIGXFSZ";

export interface ChildProcessStatus {
  success: boolean;
  /** The exit code; 128+N when the process died of signal N (as a shell reports it). */
  code: number;
  signal: Signal | null;
  /** True when the sandbox's memory limit ended it. */
  oom: boolean;
}

export interface ChildProcessOutput {
  status: ChildProcessStatus;
  readonly stdout: Uint8Array | null;
  readonly stderr: Uint8Array | null;
  readonly stdoutText: string | null;
  readonly stderrText: string | null;
}

const SIGNAL_NAMES = new Map<number, Signal>(
  Object.entries(osConstants.signals).map(([name, number]) => [number, name as Signal]),
);

export function statusFromCode(code: number, oom: boolean): ChildProcessStatus {
  const signal = code > 128 ? SIGNAL_NAMES.get(code - 128) ?? null : null;
  return { success: code === 0, code, signal, oom: oom && code === 137 };
}

export function isSignal(value: unknown): value is Signal {
  return typeof value === "string" && value in osConstants.signals;
}

/** @internal What a ChildProcess is made of (Sandbox.spawn() gathers it). */
export interface ChildParts {
  signaller: ProcessSignaller;
  started: AgentProcess;
  modes: { stdout: string; stderr: string };
  isOom: () => boolean;
}

/**
 * A process running in a sandbox: `@deno/sandbox`'s ChildProcess, with Web
 * Streams for stdio. Streams a caller did not ask to pipe are null.
 */
export class ChildProcess extends EventTarget implements AsyncDisposable {
  readonly pid: number;
  readonly stdin: WritableStream<Uint8Array> | null;
  readonly stdout: ReadableStream<Uint8Array> | null;
  readonly stderr: ReadableStream<Uint8Array> | null;
  readonly status: Promise<ChildProcessStatus>;
  readonly #signaller: ProcessSignaller;
  #outputTaken = false;
  #stderrTail: string | undefined;

  /** @internal Created by Sandbox.spawn(). */
  constructor({ signaller, started, modes, isOom }: ChildParts) {
    super();
    this.#signaller = signaller;
    this.pid = started.pid;
    this.stdin = started.stdin ? writableFor(started.stdin) : null;
    this.stdout = readableFor(started.stdout, modes.stdout === "inherit" ? process.stdout : undefined);
    this.stderr = readableFor(started.stderr, modes.stderr === "inherit" ? process.stderr : undefined);
    if (modes.stderr === "inherit" && started.stderr) {
      this.#stderrTail = "";
      started.stderr.on("data", (chunk: Buffer) => { this.#stderrTail = (this.#stderrTail + chunk.toString()).slice(-2000); });
    }
    this.status = started.exitCode.then(
      (code) => statusFromCode(code, isOom()),
      // The sandbox ended under the process (killed, closed, timed out).
      () => statusFromCode(128 + 9, isOom()),
    );
    void this.status.then(() => {
      started.stdin?.destroy();
      started.channel?.requests.destroy();
    });
  }

  /** @internal The last 2000 characters of an inherited stderr (already printed), for error messages. */
  get inheritedStderrTail(): string | undefined {
    return this.#stderrTail;
  }

  /** Sends a signal (default SIGTERM). Does not wait for the process to exit: await `status`. */
  async kill(signal: Signal = "SIGTERM"): Promise<void> {
    if (!isSignal(signal)) throw new TypeError(`kill: "${String(signal)}" is not a signal name such as "SIGTERM" or "SIGKILL".`);
    this.#signaller.kill(this.pid, signal);
  }

  /**
   * Waits for the exit and returns the status with everything the process
   * wrote to piped streams. A stream that is not piped, or that was read
   * already (by the caller or an earlier output()), gives null, as in
   * `@deno/sandbox`.
   */
  async output(): Promise<ChildProcessOutput> {
    const taken = this.#outputTaken;
    this.#outputTaken = true;
    // Bounded like cordon run's capture: past the cap the process is killed
    // (its status then says SIGKILL) and what was read so far is returned.
    // The stream is left unread until the kill has landed, so the writer
    // ends by SIGKILL and not by a SIGPIPE race.
    const overflow = async (): Promise<void> => {
      await this.kill("SIGKILL").catch(() => undefined);
      await this.status;
    };
    const [stdout, stderr, status] = await Promise.all([
      taken ? null : collect(this.stdout, overflow),
      taken ? null : collect(this.stderr, overflow),
      this.status,
    ]);
    const decoder = new TextDecoder();
    return {
      status,
      stdout,
      stderr,
      get stdoutText() { return stdout === null ? null : decoder.decode(stdout); },
      get stderrText() { return stderr === null ? null : decoder.decode(stderr); },
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill("SIGKILL").catch(() => undefined);
    await this.status;
  }
}

function readableFor(socket: net.Socket | null, inheritTo: NodeJS.WriteStream | undefined): ReadableStream<Uint8Array> | null {
  if (!socket) return null;
  if (inheritTo) {
    socket.pipe(inheritTo, { end: false });
    return null;
  }
  return Readable.toWeb(socket) as ReadableStream<Uint8Array>;
}

/**
 * stdin as a WritableStream. Closing destroys the socket rather than
 * shutting it down: shutdown() does not apply to a FIFO.
 */
function writableFor(socket: net.Socket): WritableStream<Uint8Array> {
  socket.on("error", () => { /* the process went away; writes fail below */ });
  return new WritableStream<Uint8Array>({
    write: (chunk) => new Promise<void>((resolve, reject) => {
      socket.write(chunk, (error) => (error ? reject(error) : resolve()));
    }),
    close: () => new Promise<void>((resolve) => {
      if (socket.writableLength === 0) {
        socket.destroy();
        resolve();
      } else socket.once("drain", () => { socket.destroy(); resolve(); });
    }),
    abort: () => { socket.destroy(); },
  });
}

/** What output() keeps of each stream (as the library's run() does). */
export const OUTPUT_CAP_BYTES = 64 * 1024 ** 2;

/** A stream the caller already read from (it is locked) gives null, as in `@deno/sandbox`. */
async function collect(stream: ReadableStream<Uint8Array> | null, onOverflow: () => Promise<void>): Promise<Uint8Array | null> {
  if (!stream || stream.locked) return null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    if (size + chunk.length > OUTPUT_CAP_BYTES) {
      chunks.push(chunk.subarray(0, OUTPUT_CAP_BYTES - size));
      await onOverflow();
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return new Uint8Array(Buffer.concat(chunks));
}
