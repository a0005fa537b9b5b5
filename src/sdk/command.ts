import type { ChildProcess, ChildProcessStatus, Signal } from "./child-process.js";
import { SandboxCommandError } from "./errors.js";
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
    args: string[]; cwd?: string; env?: Record<string, string>; signal?: AbortSignal;
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
  signal: AbortSignal | undefined;
}

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
      this.#state = { script, shape, noThrow: false, cwd: undefined, env: {}, stdout: "piped", stderr: "piped", signal: undefined };
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
  /** An AbortSignal (aborting sends SIGTERM) or anything with `aborted` and `addEventListener`. */
  signal(signal: AbortSignal): SandboxCommandBuilder { return this.#with({ signal }); }

  async text(): Promise<string> {
    const result = await this.stdout("piped").result();
    return result.stdoutText ?? "";
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  async result(): Promise<SandboxCommandResult> {
    const child = await this.spawn();
    const output = await child.output();
    if (!output.status.success && !this.#state.noThrow) {
      const how = output.status.signal ? `was killed by ${output.status.signal}` : `exited with code ${output.status.code}`;
      const stderr = output.stderrText?.trim();
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

  spawn(): Promise<ChildProcess> {
    const state = this.#state;
    return this.#runner.spawn("/bin/sh", {
      args: ["-c", state.script],
      cwd: state.cwd,
      env: state.env,
      signal: state.signal,
      stdin: "null",
      stdout: state.stdout,
      stderr: state.stderr,
    });
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

export type { Signal };
