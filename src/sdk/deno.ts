import { randomBytes } from "node:crypto";
import fs from "node:fs";
import type net from "node:net";
import { ConfigError } from "../errors.js";
import { ChildProcess, type ChildParts } from "./child-process.js";
import { decodeValue, DenoReplError } from "./deno-values.js";
import { SandboxClosedError } from "./errors.js";

/** The file extension of `code` (Deno's CodeExtension). */
export type CodeExtension = "js" | "cjs" | "mjs" | "ts" | "cts" | "mts" | "jsx" | "tsx";
const EXTENSIONS = new Set<string>(["js", "cjs", "mjs", "ts", "cts", "mts", "jsx", "tsx"]);

/** What `sandbox.deno` passes on to spawn() (Deno's SpawnOptions without args). */
export interface DenoSpawnOptions {
  cwd?: string | URL;
  clearEnv?: boolean;
  env?: Record<string, string>;
  signal?: AbortSignal;
  stdin?: "piped" | "null";
  stdout?: "piped" | "inherit" | "null";
  stderr?: "piped" | "inherit" | "null";
}

/** Options of `sandbox.deno.run()`, as `@deno/sandbox`'s DenoRunOptions. */
export type DenoRunOptions = (
  | { entrypoint: string | URL; watch?: boolean | string[] }
  | { code: string; extension?: CodeExtension }
) & { scriptArgs?: string[] } & DenoSpawnOptions;

/** Options of `sandbox.deno.repl()`, as `@deno/sandbox`'s DenoReplOptions. */
export type DenoReplOptions = { scriptArgs?: string[] } & DenoSpawnOptions;

/** What `sandbox.deno` needs from its sandbox. */
export interface DenoHost {
  /** Starts a process and builds its object with `make` (a ChildProcess or a subclass). */
  launch<T extends ChildProcess>(command: string, options: DenoSpawnOptions & { args: string[]; channel?: boolean }, make: (parts: ChildParts) => T): Promise<T>;
  /** A request from the sandbox's network (a loopback URL reaches the sandbox's own services). */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  writeTextFile(path: string, text: string): Promise<void>;
  /** Runs a small command and returns its stdout (empty when it failed). */
  read(command: string, args: string[]): Promise<string>;
}

/**
 * `sandbox.deno`: `@deno/sandbox`'s Deno namespace, over the sandbox's own
 * `deno` (/usr/local/bin/deno). Programs run with `deno run -A`: inside a
 * sandbox its grants are the boundary (network only to `allowNet`, through
 * cordon's proxy), as on Deno Deploy; for Deno's own narrower flags, spawn
 * `deno` with them.
 */
export class SandboxDeno {
  readonly #host: DenoHost;

  /** @internal */
  constructor(host: DenoHost) {
    this.#host = host;
  }

  /** Runs a module (a file in the sandbox, or a URL) or inline `code` to completion. */
  async run(options: DenoRunOptions): Promise<DenoProcess> {
    const { scriptArgs = [], ...spawn } = options;
    const hasCode = "code" in options && options.code !== undefined;
    const hasEntry = "entrypoint" in options && options.entrypoint !== undefined;
    if (hasCode === hasEntry) {
      throw new ConfigError("deno.run: give exactly one of entrypoint and code.", { input: "deno.run", hint: 'e.g. deno.run({ code: "console.log(1)" }) or deno.run({ entrypoint: "main.ts" })' });
    }
    let entry: string;
    let written: string | undefined;
    const flags: string[] = [];
    if (hasCode) {
      const { code, extension = "ts" } = options as { code: string; extension?: string };
      if (typeof code !== "string") throw new ConfigError("deno.run: code must be a string.", { input: "code" });
      if (!EXTENSIONS.has(extension)) throw new ConfigError(`deno.run: extension ${JSON.stringify(extension)} is not one of ${[...EXTENSIONS].join(", ")}.`, { input: "extension" });
      // A file rather than `deno eval`: no argument-length limit, and the
      // same `deno run` as an entrypoint.
      written = `/tmp/deno-run-${randomBytes(6).toString("hex")}.${extension}`;
      await this.#host.writeTextFile(written, code);
      entry = written;
    } else {
      const { entrypoint, watch } = options as { entrypoint: string | URL; watch?: boolean | string[] };
      entry = entrypoint instanceof URL ? (entrypoint.protocol === "file:" ? entrypoint.pathname : entrypoint.href) : String(entrypoint);
      if (watch === true) flags.push("--watch");
      else if (Array.isArray(watch) && watch.length > 0) flags.push(`--watch=${watch.map(String).join(",")}`);
    }
    const args = ["run", "-A", ...flags, entry, ...scriptArgs.map(String)];
    const child = await this.#host.launch("deno", { ...stripRunOptions(spawn), args }, (parts) => new DenoProcess(parts, this.#host));
    if (written) {
      const file = written;
      void child.status.then(() => this.#host.read("rm", ["-f", "--", file])).catch(() => undefined);
    }
    return child;
  }

  /** Evaluates `code` in a new REPL and returns its value (then closes the REPL). */
  async eval<T = unknown>(code: string): Promise<T> {
    const repl = await this.repl();
    try {
      return await repl.eval<T>(code);
    } finally {
      await repl.close();
    }
  }

  /** A Deno REPL: `eval()` and `call()` keep their bindings from one call to the next. */
  async repl(options: DenoReplOptions = {}): Promise<DenoRepl> {
    const { scriptArgs = [], ...spawn } = options;
    const args = ["eval", "--ext=js", replServerSource(), "--", ...scriptArgs.map(String)];
    return this.#host.launch("deno", { ...stripRunOptions(spawn), args, channel: true }, (parts) => new DenoRepl(parts, this.#host));
  }

  /** Not available locally: deploying publishes to Deno Deploy. */
  async deploy(app: string, _options?: unknown): Promise<never> {
    throw new ConfigError(`deno.deploy: cannot deploy to ${JSON.stringify(app)}: cordon publishes nothing to Deno Deploy.`, { input: "deno.deploy", hint: "Use @deno/sandbox or `deno deploy` to deploy; download() the files you need first." });
  }
}

function stripRunOptions(options: Record<string, unknown>): DenoSpawnOptions {
  const { code: _code, extension: _extension, entrypoint: _entrypoint, watch: _watch, ...spawn } = options;
  return spawn as DenoSpawnOptions;
}

let replSource: string | undefined;

/** The REPL server's compiled JavaScript (inside/deno-repl.ts), sent as `deno eval`'s code. */
function replServerSource(): string {
  replSource ??= fs.readFileSync(new URL("./inside/deno-repl.js", import.meta.url), "utf8").replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n");
  return replSource;
}

/**
 * A Deno program in a sandbox (`sandbox.deno.run()`): a ChildProcess, plus
 * `httpReady` and `fetch()` to the HTTP server it starts, as in
 * `@deno/sandbox`. The server is found by asking the sandbox's /proc which
 * TCP port the process listens on, only once httpReady or fetch() is used.
 */
export class DenoProcess extends ChildProcess {
  readonly #host: DenoHost;
  #port: Promise<number | undefined> | undefined;

  /** @internal Created by sandbox.deno.run(). */
  constructor(parts: ChildParts, host: DenoHost) {
    super(parts);
    this.#host = host;
  }

  /** true once the program listens for HTTP (Deno.serve, node:http); false if it exits first. */
  get httpReady(): Promise<boolean> {
    return this.#listeningPort().then((port) => port !== undefined);
  }

  /** Sends a request to the program's HTTP server; the URL's host is not used, only its path. */
  async fetch(url: string | URL, init?: RequestInit): Promise<Response> {
    const port = await this.#listeningPort();
    if (port === undefined) throw new SandboxClosedError(`The Deno process ${this.pid} ended without serving HTTP.`, { hint: "Start a server with Deno.serve() before fetching from it." });
    const target = new URL(url);
    return this.#host.fetch(`http://127.0.0.1:${port}${target.pathname}${target.search}`, init);
  }

  #listeningPort(): Promise<number | undefined> {
    this.#port ??= this.#watchPort();
    return this.#port;
  }

  async #watchPort(): Promise<number | undefined> {
    let exited = false;
    const ended = this.status.then(() => { exited = true; });
    for (let delay = 20; !exited; delay = Math.min(delay * 2, 320)) {
      const port = listeningPortOf(await this.#host.read("sh", ["-c", 'ls -l "/proc/$1/fd"; cat "/proc/$1/net/tcp" "/proc/$1/net/tcp6"', "sh", String(this.pid)]).catch(() => ""));
      if (port !== undefined) return port;
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, delay))]);
    }
    return undefined;
  }
}

/** The first TCP port in LISTEN state (0A) whose socket the process holds, from `ls -l /proc/PID/fd` and /proc/PID/net/tcp{,6}. */
export function listeningPortOf(text: string): number | undefined {
  const sockets = new Set([...text.matchAll(/-> socket:\[(\d+)\]/g)].map((match) => match[1]));
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== "0A" || !sockets.has(fields[9])) continue;
    const port = Number.parseInt(fields[1]!.split(":")[1] ?? "", 16);
    if (port > 0) return port;
  }
  return undefined;
}

/** What one answer line may be at most (a REPL value is not a file transfer). */
const MAX_ANSWER_CHARS = 64 * 1024 ** 2;

/**
 * A Deno REPL in a sandbox (`sandbox.deno.repl()`): a DenoProcess whose
 * `eval()` and `call()` run code in one long-lived Deno, through a channel
 * beside its stdio. Values come back as Deno returns them: structured-clone
 * types (Map, Set, Date, typed arrays, …), class instances as plain
 * objects; an exception thrown there rejects with its name, message and
 * stack. `call()`'s arguments travel as JSON.
 */
export class DenoRepl extends DenoProcess {
  readonly #requests: net.Socket;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  #nextId = 1;
  #ended: Error | undefined;

  /** @internal Created by sandbox.deno.repl(). */
  constructor(parts: ChildParts, host: DenoHost) {
    super(parts, host);
    const channel = parts.started.channel;
    if (!channel) throw new TypeError("DenoRepl needs a channel.");
    this.#requests = channel.requests;
    this.#requests.on("error", () => { /* the REPL ended; pending calls fail below */ });
    let buffered = "";
    channel.answers.setEncoding("utf8");
    channel.answers.on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        this.#answer(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
      if (buffered.length > MAX_ANSWER_CHARS) {
        channel.answers.destroy();
        void this.kill("SIGKILL").catch(() => undefined);
      }
    });
    channel.answers.on("error", () => undefined);
    void this.status.then((status) => {
      channel.answers.destroy();
      this.#ended = new SandboxClosedError(`The Deno REPL ${this.pid} has ended (exit code ${status.code}).`, { hint: "Start a new one with sandbox.deno.repl()." });
      for (const pending of this.#pending.values()) pending.reject(this.#ended);
      this.#pending.clear();
    });
  }

  /** Evaluates `code` (top-level await, let, const and class persist) and returns its value. */
  eval<T = unknown>(code: string): Promise<T> {
    if (typeof code !== "string") return Promise.reject(new ConfigError("repl.eval: code must be a string.", { input: "code" }));
    return this.#ask({ op: "eval", code }) as Promise<T>;
  }

  /** Calls `fn` (a function's name in the REPL, or a function expression) with `args` and returns its value. */
  call<T = unknown>(fn: string, ...args: unknown[]): Promise<T> {
    return this.#ask({ op: "call", fn: String(fn), args: JSON.stringify(args) }) as Promise<T>;
  }

  /** Ends the REPL (its channel closes and it exits). */
  async close(): Promise<void> {
    this.#requests.destroy();
    const exited = await Promise.race([this.status.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref())]);
    if (!exited) await this.kill("SIGKILL").catch(() => undefined);
    await this.status;
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #ask(request: { op: "eval"; code: string } | { op: "call"; fn: string; args: string }): Promise<unknown> {
    if (this.#ended) return Promise.reject(this.#ended);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#requests.write(`${JSON.stringify({ id, ...request })}\n`);
    });
  }

  #answer(line: string): void {
    let answer: { id?: unknown; ok?: unknown; error?: unknown };
    try {
      answer = JSON.parse(line) as typeof answer;
    } catch {
      return;
    }
    const pending = typeof answer.id === "number" ? this.#pending.get(answer.id) : undefined;
    if (!pending) return;
    this.#pending.delete(answer.id as number);
    try {
      if (typeof answer.ok === "string") return pending.resolve(decodeValue(answer.ok));
      const thrown = typeof answer.error === "string" ? decodeValue(answer.error) : undefined;
      pending.reject(thrown instanceof Error ? thrown : new DenoReplError("Error", `Uncaught ${String(thrown)}`, ""));
    } catch (error) {
      pending.reject(error);
    }
  }
}
