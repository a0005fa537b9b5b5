import path from "node:path";
import { inspect } from "node:util";
import { ConfigError } from "../errors.js";
import { SANDBOX_HOME } from "../engine/plan.js";
import type { PipeMode } from "./agent.js";
import type { SandboxBackend } from "./backend.js";
import { ChildProcess, type ChildParts } from "./child-process.js";
import { SandboxCommandBuilder } from "./command.js";
import { SandboxDeno, type DenoHost } from "./deno.js";
import { SandboxEnv } from "./env.js";
import { InvalidTimeoutError } from "./errors.js";
import { SandboxFs } from "./fs.js";
import { LocalSandbox } from "./local-sandbox.js";
import { MAX_EXTEND_MS, parseEnvRecord, parsePort, parseTimeout, type SandboxOptions } from "./options.js";
import { connectToService, type ConnectOptions } from "./service/client.js";
import type { SnapshotInfo } from "./store.js";

/** Options of `sandbox.spawn()`, as `@deno/sandbox`'s. */
export interface SpawnOptions {
  args?: string[];
  /** Default: /home/sandbox. */
  cwd?: string | URL;
  /** Start with only `env` (and nothing of the sandbox's environment). */
  clearEnv?: boolean;
  env?: Record<string, string>;
  /** Aborting sends SIGTERM. */
  signal?: AbortSignal;
  /**
   * Defaults are `@deno/sandbox`'s runtime's (its docs say "piped" for all
   * three): stdin "null" (so `spawn("cat")` ends), stdout and stderr
   * "inherit" (printed on this process's, and null on the ChildProcess).
   */
  stdin?: "piped" | "null";
  stdout?: PipeMode;
  stderr?: PipeMode;
}

const CREATE = Symbol("Sandbox.create");

/**
 * A sandbox shaped as `@deno/sandbox`'s. It stands on a backend: a sandbox
 * this process owns (`timeout: "session"`, the default: it ends with
 * close() or with this process), or one the sandbox service owns (a
 * `timeout` duration: it lives until then, close() only disconnects, and
 * `Sandbox.connect()` reaches it from any process of this user). Every
 * argument is checked here; sh, fs and deno are built on spawn(). See
 * docs/sdk.md.
 */
export class Sandbox implements AsyncDisposable {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly fs: SandboxFs;
  readonly env: SandboxEnv;
  readonly deno: SandboxDeno;
  readonly #backend: SandboxBackend;

  /** @internal Use Sandbox.create() or Sandbox.connect(). */
  constructor(token: symbol, backend: SandboxBackend) {
    if (token !== CREATE) throw new TypeError("Use Sandbox.create() to make a sandbox.");
    this.#backend = backend;
    this.id = backend.id;
    this.labels = backend.labels;
    this.env = new SandboxEnv(backend.env);
    this.fs = new SandboxFs((command, options) => this.spawn(command, options));
    this.deno = new SandboxDeno(this.#denoHost());
  }

  /**
   * Starts a sandbox. Every option is checked first and a bad one fails here
   * with a ConfigError naming it. Leaving `allowNet` out means no network.
   * With a `timeout` duration the sandbox service owns it (see connect()).
   */
  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    const ownedByService = options?.timeout !== undefined && options.timeout !== "session";
    if (ownedByService) {
      // Checked here too, so a bad option fails before any service starts.
      parseTimeout(options.timeout);
      const service = connectToService(options);
      return new Sandbox(CREATE, await service.create(options));
    }
    return new Sandbox(CREATE, await LocalSandbox.create(options));
  }

  /**
   * Reaches a running sandbox from any process of this user, as
   * `@deno/sandbox`'s connect(): one created with a `timeout` duration,
   * which the sandbox service owns until then. A `"session"` sandbox belongs
   * to the process that created it and cannot be reached.
   */
  static async connect(id: string | ({ id: string } & ConnectOptions), options: ConnectOptions = {}): Promise<Sandbox> {
    const { id: name, ...rest } = typeof id === "string" ? { id, ...options } : { ...options, ...id };
    if (typeof name !== "string" || !/^sbx-[0-9a-f]{12}$/.test(name)) {
      throw new ConfigError(`Sandbox.connect: ${JSON.stringify(name)} is not a sandbox id.`, { input: "id", hint: "Give the id of a running sandbox (sandbox.id, e.g. \"sbx-0123456789ab\"); list them with new Client().sandboxes.list()." });
    }
    const service = connectToService(rest, { start: false, id: name });
    return new Sandbox(CREATE, await service.connect(name));
  }

  /** Deno Deploy's SSH access details; always undefined (see exposeSsh()). */
  get ssh(): { username: string; hostname: string } | undefined {
    return undefined;
  }

  /** Not available locally: nothing outside this machine can reach a sandbox. */
  async exposeSsh(): Promise<{ hostname: string; username: string }> {
    throw new ConfigError("exposeSsh: cordon offers no SSH access to a sandbox.", { input: "exposeSsh", hint: "Run commands with sandbox.spawn() or sandbox.sh, or serve a port with exposeHttp()." });
  }

  /** Not available locally (Deno Deploy runs VS Code in the sandbox). */
  async exposeVscode(_path?: string, _options?: unknown): Promise<never> {
    throw new ConfigError("exposeVscode: cordon does not run VS Code in a sandbox.", { input: "exposeVscode", hint: "Start your own editor server with sandbox.spawn() and serve it with exposeHttp({ port })." });
  }

  /** Not available locally: deploying publishes to Deno Deploy. */
  async deploy(app: string, _options?: unknown): Promise<never> {
    throw new ConfigError(`deploy: cannot deploy to ${JSON.stringify(app)}: cordon publishes nothing to Deno Deploy.`, { input: "deploy", hint: "Use @deno/sandbox or deployctl to deploy; download() the files you need first." });
  }

  /** Local: resolves once every process is gone and the folder removed. Service: once this connection is closed. */
  get closed(): Promise<void> {
    return this.#backend.closed;
  }

  /** The URL of the port given as `port` on create (on the host's 127.0.0.1). */
  get url(): string | undefined {
    return this.#backend.url;
  }

  /** When the timeout ends the sandbox; undefined for "session". */
  get deadline(): Date | undefined {
    return this.#backend.deadline;
  }

  /** @internal The sandbox's state folder on the host (tests check it is removed). Never follow links in it. */
  get stateDir(): string {
    return this.#backend.stateDir;
  }

  /** @internal For tests and benchmarks: the sandbox's first process on the host. */
  async hostPid(): Promise<number> {
    return this.#backend.hostPid();
  }

  /** Starts a process in the sandbox; resolves when it runs. */
  async spawn(command: string | URL, options: SpawnOptions = {}): Promise<ChildProcess> {
    return this.#launch(command, options, (parts) => new ChildProcess(parts));
  }

  async #launch<T extends ChildProcess>(command: string | URL, options: SpawnOptions & { channel?: boolean }, make: (parts: ChildParts) => T): Promise<T> {
    const file = command instanceof URL ? command.pathname : command;
    if (typeof file !== "string" || file === "" || file.includes("\0")) throw new ConfigError("spawn: the command must be a non-empty string.", { input: "command" });
    const args = (options.args ?? []).map(String);
    if (args.some((a) => a.includes("\0"))) throw new ConfigError("spawn: an argument contains a NUL byte.", { input: "args" });
    const env = parseEnvRecord(options.env, "spawn env");
    const cwdText = options.cwd instanceof URL ? options.cwd.pathname : options.cwd;
    const cwd = cwdText === undefined ? SANDBOX_HOME : path.posix.resolve(SANDBOX_HOME, cwdText);
    const modes = { stdin: options.stdin ?? "null", stdout: options.stdout ?? "inherit", stderr: options.stderr ?? "inherit" } as const;
    options.signal?.throwIfAborted();
    const started = await this.#backend.start({ command: file, args, cwd, env, clearEnv: options.clearEnv === true, ...modes, channel: options.channel });
    const child = make({ signaller: this.#backend, started, modes, isOom: () => this.#backend.isOom() });
    if (options.signal) {
      const onAbort = (): void => void child.kill("SIGTERM").catch(() => undefined);
      options.signal.addEventListener("abort", onAbort, { once: true });
      void child.status.then(() => options.signal?.removeEventListener("abort", onAbort));
    }
    return child;
  }

  #denoHost(): DenoHost {
    return {
      launch: (command, options, make) => this.#launch(command, options, make),
      fetch: (url, init) => this.fetch(url, init),
      writeTextFile: (file, text) => this.fs.writeTextFile(file, text),
      read: async (command, args) => {
        const child = await this.spawn(command, { args, stdin: "null", stdout: "piped", stderr: "null" });
        return (await child.output()).stdoutText ?? "";
      },
    };
  }

  /** `sandbox.sh\`echo ${value}\``: see SandboxCommandBuilder. */
  readonly sh = (templateStrings: TemplateStringsArray, ...substitutions: unknown[]): SandboxCommandBuilder =>
    new SandboxCommandBuilder(this, templateStrings, substitutions);

  /**
   * Serves `port` inside the sandbox on the host's 127.0.0.1 (never a public
   * interface) and returns the URL. Connections are made from cordon's side
   * into the sandbox's network namespace; nothing runs inside for it.
   */
  async exposeHttp(target: { port: number } | { pid: number }): Promise<string> {
    if (!("port" in target)) throw new ConfigError("exposeHttp: only { port } is supported by cordon.", { input: "exposeHttp", hint: "Pass the port the service listens on: exposeHttp({ port: 8080 })." });
    return this.#backend.exposeHttp(parsePort(target.port, "exposeHttp port"));
  }

  /**
   * An HTTP request made from the sandbox's network: loopback addresses
   * reach the sandbox's own services; anything else goes through the
   * sandbox's egress proxy, so only `allowNet` hosts are reachable.
   */
  async fetch(url: string | URL, init?: RequestInit): Promise<Response> {
    return this.#backend.fetch(url, init);
  }

  /**
   * Freezes the whole sandbox into a read-only snapshot named `name`: its
   * writable layer (everything it changed: installed tools, /etc, /opt,
   * its home), stacked on the snapshot it started from, if any. Processes
   * are paused (SIGSTOP) while it is copied, so nothing changes under the
   * copy; `Sandbox.create({ root: name })` starts from it.
   */
  async snapshot(name: string): Promise<SnapshotInfo> {
    return this.#backend.snapshot(name);
  }

  /** Moves the timeout `duration` later (at most 30 minutes at once) and returns the new end. */
  async extendTimeout(duration: `${number}s` | `${number}m`): Promise<Date> {
    const ms = parseTimeout(duration, "extendTimeout", MAX_EXTEND_MS);
    if (ms === undefined) throw new InvalidTimeoutError('extendTimeout: "session" is not a duration.', { input: "extendTimeout", hint: 'Give a duration such as "5m".' });
    return this.#backend.extendTimeout(ms);
  }

  /**
   * As Deno's: a `"session"` sandbox ends (every process, then its folder);
   * one with a `timeout` duration is only disconnected from, and runs on
   * until its timeout or kill().
   */
  async close(): Promise<void> {
    await this.#backend.close();
  }

  /** Ends the sandbox at once, wherever it runs. */
  async kill(): Promise<void> {
    await this.#backend.terminate();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [inspect.custom](): string {
    return `Sandbox { id: ${this.id}${this.url ? `, url: ${this.url}` : ""} }`;
  }
}
