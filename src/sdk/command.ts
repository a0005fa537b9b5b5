import type { ChildProcess, ChildProcessStatus, Signal } from "./child-process.js";
import { SandboxCommandError } from "./errors.js";
import { KillSignal } from "./kill-signal.js";
import { quoteInterpolation } from "./shell-quote.js";

export type ShellPipeKind = "inherit" | "piped" | "null";

export interface SandboxCommandResult {
  status: ChildProcessStatus;
  stdoutText: string | null;
  stderrText: string | null;
  stdout: Uint8Array | null;
  stderr: Uint8Array | null;
}

/** What a command builder needs from a sandbox. */
export interface CommandRunner {
  spawn(command: string, options: {
    args: string[]; cwd?: string; env?: Record<string, string>;
    stdin: "null"; stdout: ShellPipeKind; stderr: ShellPipeKind;
  }): Promise<ChildProcess>;
}

interface BuilderState {
  script: string;
  /** The script with each interpolated value shown as ${…}: safe for messages (values may be secrets). */
  shape: string;
  noThrow: boolean;
  cwd: string | undefined;
  env: Record<string, string>;
  stdout: ShellPipeKind;
  stderr: ShellPipeKind;
  signal: KillSignal | undefined;
}

/**
 * `sh` runs bash, as `@deno/sandbox`'s does (`[[ … ]]`, `{1..3}`, `set -o
 * pipefail`), and, as it does, reads `~/.bashrc` first through BASH_ENV
 * (bash expands the `$HOME` in it).
 */
const SHELL = "bash";
const SHELL_ENV = { BASH_ENV: "$HOME/.bashrc" };

/**
 * `sandbox.sh\`…\``: an immutable builder (every setter returns a new one),
 * awaited directly or through text(), json(), result(), spawn(). Every
 * interpolated value becomes one single-quoted shell word (an array,
 * several), so values can never change the command's shape. A non-zero exit
 * throws SandboxCommandError unless noThrow() was set.
 */
export class SandboxCommandBuilder implements PromiseLike<SandboxCommandResult> {
  readonly #runner: CommandRunner;
  readonly #state: BuilderState;

  /** @internal */
  constructor(runner: CommandRunner, templateStrings: TemplateStringsArray | BuilderState, substitutions: unknown[] = []) {
    this.#runner = runner;
    if ("raw" in templateStrings) {
      let script = templateStrings[0] ?? "";
      let shape = script;
      substitutions.forEach((value, i) => {
        script += quoteInterpolation(value) + (templateStrings[i + 1] ?? "");
        shape += "${…}" + (templateStrings[i + 1] ?? "");
      });
      // "inherit" for both, as `@deno/sandbox`'s runtime does (its docs say
      // "piped"): awaiting a command prints its output and returns null
      // streams; text() and json() pipe stdout.
      this.#state = { script, shape, noThrow: false, cwd: undefined, env: {}, stdout: "inherit", stderr: "inherit", signal: undefined };
    } else this.#state = templateStrings;
  }

  /** The shell text that will run (for logs and tests). */
  get script(): string {
    return this.#state.script;
  }

  noThrow(value = true): SandboxCommandBuilder { return this.#with({ noThrow: value }); }
  /** Accepted for compatibility: sandboxed code has no sudo; the command runs as the sandbox's user. */
  sudo(_enable = true): SandboxCommandBuilder { return this; }
  cwd(path: string): SandboxCommandBuilder { return this.#with({ cwd: path }); }
  env(name: string, value: string): SandboxCommandBuilder { return this.#with({ env: { ...this.#state.env, [name]: value } }); }
  stdout(kind: ShellPipeKind): SandboxCommandBuilder { return this.#with({ stdout: kind }); }
  stderr(kind: ShellPipeKind): SandboxCommandBuilder { return this.#with({ stderr: kind }); }
  /**
   * A KillSignal (each signal its controller sends reaches the command) or
   * an AbortSignal (aborting sends SIGTERM). A second call links the new
   * signal below the first, so both reach the command.
   */
  signal(signal: KillSignal | AbortSignal): SandboxCommandBuilder {
    const kill = signal instanceof KillSignal ? signal
      : signal instanceof AbortSignal ? KillSignal.fromAbortSignal(signal)
      : undefined;
    if (!kill) throw new TypeError("signal(): expected a KillSignal (new KillController().signal) or an AbortSignal.");
    this.#state.signal?.linkChild(kill);
    return this.#with({ signal: kill });
  }

  async text(): Promise<string> {
    const result = await this.stdout("piped").result();
    return result.stdoutText ?? "";
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  async result(): Promise<SandboxCommandResult> {
    // Aborted before it started: the command never runs, and its result says
    // how it would have ended (as `@deno/sandbox` does).
    const aborted = this.#state.signal?.abortedExitCode;
    if (aborted !== undefined) return abortedResult(aborted, this.#state.noThrow, this.#state.shape);
    const child = await this.spawn();
    const output = await child.output();
    if (!output.status.success && !this.#state.noThrow) {
      const how = output.status.signal ? `was killed by ${output.status.signal}` : `exited with code ${output.status.code}`;
      // An inherited stderr was printed already; its tail still explains the failure.
      const stderr = (output.stderrText ?? child.inheritedStderrTail)?.trim();
      throw new SandboxCommandError(
        // The template, not the script: interpolated values (tokens, keys)
        // must not ride into logs and error trackers with the message.
        `The command ${how}: ${this.#state.shape.slice(0, 200)}${stderr ? `\n${stderr.slice(-2000)}` : ""}`,
        output.status.code,
        output.stderrText,
      );
    }
    return output;
  }

  /** Starts the command; each signal sent through signal() reaches it until it exits. */
  async spawn(): Promise<ChildProcess> {
    const state = this.#state;
    const aborted = state.signal?.abortedExitCode;
    if (aborted !== undefined) abortedResult(aborted, false, state.shape);
    const child = await this.#runner.spawn(SHELL, {
      args: ["-c", state.script],
      cwd: state.cwd,
      env: { ...SHELL_ENV, ...state.env },
      stdin: "null",
      stdout: state.stdout,
      stderr: state.stderr,
    });
    const signal = state.signal;
    if (signal) {
      const listener = (sent: Signal): void => void child.kill(sent).catch(() => undefined);
      signal.addListener(listener);
      void child.status.finally(() => signal.removeListener(listener));
    }
    return child;
  }

  then<TResult1 = SandboxCommandResult, TResult2 = never>(
    onfulfilled?: ((value: SandboxCommandResult) => TResult1 | PromiseLike<TResult1>) | null,
    onrejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): Promise<TResult1 | TResult2> {
    return this.result().then(onfulfilled, onrejected);
  }

  #with(change: Partial<BuilderState>): SandboxCommandBuilder {
    return new SandboxCommandBuilder(this.#runner, { ...this.#state, ...change });
  }
}

function abortedResult(code: number, noThrow: boolean, shape: string): SandboxCommandResult {
  if (!noThrow) throw new SandboxCommandError(`The command was not started: its signal was already aborted (exit code ${code}): ${shape.slice(0, 200)}`, code);
  return { status: { success: false, code, signal: null, oom: false }, stdout: new Uint8Array(), stderr: new Uint8Array(), stdoutText: "", stderrText: "" };
}

export type { Signal };
