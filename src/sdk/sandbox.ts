import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { ConfigError } from "../errors.js";
import type { Mount } from "../engine/plan.js";
import { SANDBOX_HOME } from "../engine/plan.js";
import { SandboxedProcess, type SandboxExit } from "../sandbox/sandboxed-process.js";
import { Agent, AGENT_SCRIPT, CONTROL_DIR_INSIDE, type PipeMode } from "./agent.js";
import { ChildProcess } from "./child-process.js";
import { SandboxCommandBuilder } from "./command.js";
import { SandboxEnv } from "./env.js";
import { InvalidTimeoutError, SandboxClosedError, SandboxTimeoutError } from "./errors.js";
import { SandboxFs } from "./fs.js";
import { HttpExposure } from "./expose.js";
import { NetnsBridge } from "./netns-bridge.js";
import { MAX_EXTEND_MS, parseEnvRecord, parsePort, parseSandboxOptions, parseTimeout, type ParsedSandboxOptions, type SandboxOptions } from "./options.js";
import { planRootfs, type Rootfs } from "./overlay.js";
import { readHostFacts } from "../engine/host-facts.js";
import { removeTree, SandboxStore, type SnapshotInfo } from "./store.js";
import { hostTool } from "../host/tools.js";
import { readProcStat } from "../engine/proc-stat.js";

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
 * Variables every sandbox starts with. `npm i -g` installs into /usr/local
 * (bin on PATH), which the writable root makes writable for root and for
 * an ordinary user's sandbox alike (the host's /usr/lib is root's).
 */
const SANDBOX_ENV = new Map([["NPM_CONFIG_PREFIX", "/usr/local"]]);

/**
 * A local sandbox shaped as `@deno/sandbox`'s: one bubblewrap sandbox whose
 * only long-lived process is a small shell agent; every process, file
 * operation and exposed port goes through it, so they all share one
 * filesystem, one network namespace and one lifetime. See docs/sdk.md.
 */
export class Sandbox implements AsyncDisposable {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly fs: SandboxFs;
  readonly env: SandboxEnv;
  /** Resolves when the sandbox has ended and its folder is removed. */
  readonly closed: Promise<void>;
  readonly #process: SandboxedProcess;
  readonly #agent: Agent;
  readonly #store: SandboxStore;
  readonly #dir: string;
  readonly #exposures = new Set<HttpExposure>();
  readonly #options: ParsedSandboxOptions;
  readonly #root: RootSource | undefined;
  readonly #rootfs: Rootfs;
  #url: string | undefined;
  #netns: Promise<NetnsBridge> | undefined;
  #snapshotting: Promise<unknown> | undefined;
  #deadline: Date | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ended: SandboxExit | undefined;
  #endReason: string | undefined;

  /** @internal Use Sandbox.create(). */
  constructor(token: symbol, parts: { id: string; process: SandboxedProcess; agent: Agent; store: SandboxStore; dir: string; options: ParsedSandboxOptions; root: RootSource | undefined; rootfs: Rootfs }) {
    if (token !== CREATE) throw new TypeError("Use Sandbox.create() to make a sandbox.");
    this.id = parts.id;
    this.#process = parts.process;
    this.#agent = parts.agent;
    this.#store = parts.store;
    this.#dir = parts.dir;
    this.#options = parts.options;
    this.#root = parts.root;
    this.#rootfs = parts.rootfs;
    this.labels = Object.freeze({ ...parts.options.labels });
    this.env = new SandboxEnv(parts.process.plan.env);
    this.fs = new SandboxFs((command, options) => this.spawn(command, options));
    this.closed = parts.process.exited.then(
      (exit) => this.#cleanUp(exit),
      () => this.#cleanUp(undefined),
    );
  }

  /**
   * Starts a sandbox. Every option is checked first and a bad one fails here
   * with a ConfigError naming it. Leaving `allowNet` out means no network.
   */
  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    const parsed = parseSandboxOptions(options, os.totalmem());
    const store = new SandboxStore(options.dataDir ?? undefined);
    await store.removeStaleSandboxes();
    const root = parsed.root === undefined ? undefined : rootSource(store, parsed.root);
    const volumeMounts = parsed.volumes.map(({ target, name }): Mount => ({ kind: "bind", source: store.requireVolume(name, `volumes["${target}"]`), target }));

    const hex = randomBytes(6).toString("hex");
    const id = `sbx-${hex}`;
    const dir = store.createSandboxDir(hex);
    let started: Sandbox | undefined;
    try {
      const control = path.join(dir, "ctl");
      fs.mkdirSync(control, { mode: 0o700 });
      const rootfs = planRootfs(dir, store.root, readHostFacts(process.env, dir), root?.kind === "snapshot" ? root.layers : [], parsed.diskBytes);
      const extraMounts: Mount[] = [
        ...rootfs.mounts,
        // A volume as root is the sandbox's writable home, on the host's disk.
        ...(root?.kind === "volume" ? [{ kind: "bind", source: root.dir, target: SANDBOX_HOME } as const] : []),
        // Read-only inside: code in the sandbox cannot plant files where cordon
        // opens FIFOs and writes scripts (see agent.ts).
        { kind: "ro-bind", source: control, target: CONTROL_DIR_INSIDE },
        ...volumeMounts,
      ];
      const process_ = await SandboxedProcess.start("/bin/sh", ["-c", AGENT_SCRIPT, "cordon-agent", CONTROL_DIR_INSIDE], {
        allowNet: withSecretHosts(parsed),
        env: parsed.env,
        memory: parsed.memoryBytes,
        disk: parsed.diskBytes,
      }, {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
        hostCwd: dir,
        extraMounts,
        extraEnv: SANDBOX_ENV,
        launcherPrefix: rootfs.launcherPrefix,
        secrets: parsed.secrets,
        network: parsed.resolve.size > 0 ? { resolve: parsed.resolve } : undefined,
      });
      let agentErrors = "";
      process_.stderr?.on("data", (chunk: Buffer) => {
        agentErrors = (agentErrors + chunk.toString()).slice(-2000);
      });
      const agent = new Agent(control, process_.stdin!, process_.stdout!);
      const sandbox = new Sandbox(CREATE, { id, process: process_, agent, store, dir, options: parsed, root, rootfs });
      started = sandbox;
      process_.exited.then(
        (exit) => {
          const reason = sandbox.#endReason ?? (exit.limitHit ? `${exit.limitHit} limit` : undefined);
          const said = agentErrors.trim() ? ` Its agent said: ${agentErrors.trim()}` : "";
          const message = `The sandbox ${id} has ended${reason ? ` (${reason})` : ""}.${said}`;
          agent.gone(reason === "timeout"
            ? new SandboxTimeoutError(message, { hint: "Give a longer timeout on create, or call extendTimeout() before it ends." })
            : new SandboxClosedError(message, { hint: "Create a new sandbox." }));
        },
        (error: unknown) => agent.gone(error instanceof Error ? error : new Error(String(error))),
      );
      await agent.ready;
      if (parsed.timeoutMs !== undefined) sandbox.#setDeadline(Date.now() + parsed.timeoutMs);
      if (parsed.port !== undefined) sandbox.#url = await sandbox.exposeHttp({ port: parsed.port });
      return sandbox;
    } catch (error) {
      // Nothing half-made survives a failed create: the sandbox (if it
      // started) is ended, and its folder removed either way.
      if (started) await started.close();
      else await removeTree(dir);
      throw error;
    }
  }

  /**
   * `@deno/sandbox` reconnects to a sandbox running in Deno Deploy. A local
   * sandbox lives exactly as long as the process that created it, so there
   * is nothing to reconnect to.
   */
  static async connect(id: string | { id: string }, _options?: unknown): Promise<Sandbox> {
    const name = typeof id === "string" ? id : id?.id;
    throw new ConfigError(`Sandbox.connect: cannot reconnect to ${JSON.stringify(name)}: a cordon sandbox belongs to the process that created it and ends with it.`, {
      input: "Sandbox.connect",
      hint: "Keep the Sandbox object from Sandbox.create() and use it; to keep files between processes, use a volume or a snapshot.",
    });
  }

  /**
   * `@deno/sandbox`'s Deno namespace (`run`, `eval`, `repl`, `deploy`).
   * Not available yet: each method fails with a ConfigError saying so,
   * rather than a TypeError on `undefined`.
   */
  get deno(): { run(options?: unknown): Promise<never>; eval(code: string): Promise<never>; repl(options?: unknown): Promise<never>; deploy(app: string, options?: unknown): Promise<never> } {
    const missing = async (method: string): Promise<never> => {
      throw new ConfigError(`sandbox.deno.${method}: cordon sandboxes have no Deno runtime yet.`, {
        input: `sandbox.deno.${method}`,
        hint: "Run JavaScript with Node: sandbox.spawn(\"node\", { args: [file] }), or install Deno on the host under /usr (e.g. /usr/local/bin/deno), which every sandbox sees.",
      });
    };
    return { run: () => missing("run"), eval: () => missing("eval"), repl: () => missing("repl"), deploy: () => missing("deploy") };
  }

  /** Deno Deploy's SSH access details; always undefined (see exposeSsh()). */
  get ssh(): { username: string; hostname: string } | undefined {
    return undefined;
  }

  /** Not available locally: nothing outside this process can reach a sandbox. */
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

  /** The URL of the port given as `port` on create (on the host's 127.0.0.1). */
  get url(): string | undefined {
    return this.#url;
  }

  /** When the timeout ends the sandbox; undefined for "session". */
  get deadline(): Date | undefined {
    return this.#deadline;
  }

  /** @internal The sandbox's state folder on the host (tests check it is removed). Never follow links in it. */
  get stateDir(): string {
    return this.#dir;
  }

  /** Starts a process in the sandbox; resolves when it runs. */
  async spawn(command: string | URL, options: SpawnOptions = {}): Promise<ChildProcess> {
    const file = command instanceof URL ? command.pathname : command;
    if (typeof file !== "string" || file === "" || file.includes("\0")) throw new ConfigError("spawn: the command must be a non-empty string.", { input: "command" });
    const args = (options.args ?? []).map(String);
    if (args.some((a) => a.includes("\0"))) throw new ConfigError("spawn: an argument contains a NUL byte.", { input: "args" });
    const extraEnv = parseEnvRecord(options.env, "spawn env");
    const env = options.clearEnv ? new Map(Object.entries(extraEnv)) : new Map([...this.env.snapshot(), ...Object.entries(extraEnv)]);
    const cwdText = options.cwd instanceof URL ? options.cwd.pathname : options.cwd;
    const cwd = cwdText === undefined ? SANDBOX_HOME : path.posix.resolve(SANDBOX_HOME, cwdText);
    const modes = { stdin: options.stdin ?? "null", stdout: options.stdout ?? "inherit", stderr: options.stderr ?? "inherit" } as const;
    options.signal?.throwIfAborted();
    // No process starts while a snapshot copies the frozen home (it would not be stopped).
    while (this.#snapshotting) await this.#snapshotting.catch(() => undefined);
    const started = await this.#agent.start({ command: file, args, cwd, env, ...modes });
    const child = new ChildProcess(this.#agent, started, modes, () => this.#ended?.limitHit === "memory");
    if (options.signal) {
      const onAbort = (): void => void child.kill("SIGTERM").catch(() => undefined);
      options.signal.addEventListener("abort", onAbort, { once: true });
      void child.status.then(() => options.signal?.removeEventListener("abort", onAbort));
    }
    return child;
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
    parsePort(target.port, "exposeHttp port");
    const exposure = await HttpExposure.open(await this.#bridge(), target.port);
    this.#exposures.add(exposure);
    return exposure.url;
  }

  /**
   * An HTTP request made from the sandbox's network: loopback addresses
   * reach the sandbox's own services; anything else goes through the
   * sandbox's egress proxy, so only `allowNet` hosts are reachable.
   */
  async fetch(url: string | URL, init?: RequestInit): Promise<Response> {
    const { fetchFromSandbox } = await import("./fetch.js");
    return fetchFromSandbox(await this.#bridge(), withSecretHosts(this.#options).length > 0, url, init);
  }

  /**
   * Freezes the whole sandbox into a read-only snapshot named `name`: its
   * writable layer (everything it changed: installed tools, /etc, /opt,
   * its home), stacked on the snapshot it started from, if any. Processes
   * are paused (SIGSTOP) while it is copied, so nothing changes under the
   * copy; `Sandbox.create({ root: name })` starts from it.
   */
  async snapshot(name: string): Promise<SnapshotInfo> {
    while (this.#snapshotting) await this.#snapshotting.catch(() => undefined);
    const taking = this.#takeSnapshot(name);
    this.#snapshotting = taking;
    try {
      return await taking;
    } finally {
      this.#snapshotting = undefined;
    }
  }

  async #takeSnapshot(name: string): Promise<SnapshotInfo> {
    this.#store.snapshotDir(name);
    const hostPid = await this.#hostPid();
    const staged = this.#store.stagingDir();
    try {
      await this.#agent.freeze();
      try {
        // The writable layer is a tmpfs in the launcher stage's mount
        // namespace, where bubblewrap's own (outer) process lives. The
        // "root" overlay's upper folder becomes the layer, the others go
        // into it ("usr").
        const writable = `/proc/${parentPid(hostPid)}/root${this.#rootfs.writable}`;
        for (const part of this.#rootfs.layerParts) await copyTree(path.join(writable, part.upper), path.join(staged, "layer", part.into));
        if (this.#root?.kind === "volume") {
          fs.mkdirSync(path.join(staged, "layer", path.dirname(SANDBOX_HOME)), { recursive: true, mode: 0o755 });
          await copyTree(`/proc/${hostPid}/root${SANDBOX_HOME}/.`, path.join(staged, "layer", SANDBOX_HOME));
        }
      } finally {
        if (!this.#agent.isGone) await this.#agent.thaw();
      }
      return this.#store.publishSnapshot(name, staged, { fromSandbox: this.id, parent: this.#root?.kind === "snapshot" ? this.#root.name : undefined });
    } catch (error) {
      await removeTree(staged);
      throw error;
    }
  }

  /** Moves the timeout `duration` later (at most 30 minutes at once) and returns the new end. */
  async extendTimeout(duration: `${number}s` | `${number}m`): Promise<Date> {
    const ms = parseTimeout(duration, "extendTimeout", MAX_EXTEND_MS);
    if (ms === undefined) throw new InvalidTimeoutError('extendTimeout: "session" is not a duration.', { input: "extendTimeout", hint: 'Give a duration such as "5m".' });
    const base = this.#deadline?.getTime() ?? Date.now();
    if (this.#deadline === undefined) return new Date(8.64e15);
    this.#setDeadline(base + ms);
    return this.#deadline;
  }

  /** Ends the sandbox and every process in it; resolves when its folder is removed. */
  async close(): Promise<void> {
    this.#end("closed");
    await this.closed;
  }

  /** Same as close(): there is nothing to keep for a local sandbox. */
  async kill(): Promise<void> {
    this.#end("killed");
    await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [inspect.custom](): string {
    return `Sandbox { id: ${this.id}, ${this.#ended ? "ended" : "running"}${this.#url ? `, url: ${this.#url}` : ""} }`;
  }

  /** @internal For tests and benchmarks: the sandbox's first process on the host. */
  async hostPid(): Promise<number> {
    return this.#hostPid();
  }

  #bridge(): Promise<NetnsBridge> {
    this.#netns ??= this.#hostPid().then((pid) => NetnsBridge.open(pid));
    this.#netns.catch(() => { this.#netns = undefined; });
    return this.#netns;
  }

  async #hostPid(): Promise<number> {
    const pid = await this.#process.hostPid;
    if (pid === undefined || this.#ended || this.#agent.isGone) throw new SandboxClosedError(`The sandbox ${this.id} has ended.`, { hint: "Create a new sandbox." });
    return pid;
  }

  #setDeadline(at: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#deadline = new Date(at);
    this.#timer = setTimeout(() => this.#end("timeout"), Math.max(0, at - Date.now()));
    this.#timer.unref();
  }

  #end(reason: string): void {
    this.#endReason ??= reason;
    this.#process.kill();
  }

  async #cleanUp(exit: SandboxExit | undefined): Promise<void> {
    this.#ended = exit ?? this.#ended;
    // bubblewrap's own process is gone; its PID 1 inside dies by
    // --die-with-parent a moment later. "closed" means every process is gone.
    const pid = await this.#process.hostPid;
    if (pid !== undefined) await waitUntilGone(pid, 2_000);
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.all([...this.#exposures].map((e) => e.close()));
    if (this.#netns) await this.#netns.then((bridge) => bridge.close(), () => undefined);
    await removeTree(this.#dir);
  }
}

/**
 * A secret's hosts are granted network access: naming a host for a secret
 * is asking to reach it (code written for Deno, where the network is open by
 * default, relies on that). Only those exact hosts are added.
 */
function withSecretHosts(parsed: ParsedSandboxOptions): string[] {
  const hosts = parsed.secrets.flatMap((secret) => secret.hosts.map((host) => (host.includes(":") ? `[${host}]` : host)));
  return [...new Set([...parsed.allowNet, ...hosts])];
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const state = readProcStat(pid)?.state;
    if (state === undefined || state === "Z") return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

type RootSource = { kind: "snapshot"; name: string; layers: string[] } | { kind: "volume"; dir: string };

/** `root` names a snapshot (the sandbox starts from its layers) or a volume (its writable home). */
function rootSource(store: SandboxStore, name: string): RootSource {
  try {
    return { kind: "snapshot", name: store.snapshotName(name), layers: store.snapshotLayers(name) };
  } catch (snapshotError) {
    try {
      return { kind: "volume", dir: store.requireVolume(name, "root") };
    } catch {
      throw snapshotError;
    }
  }
}

function parentPid(pid: number): number {
  const parent = readProcStat(pid)?.parentPid;
  if (parent === undefined) throw new SandboxClosedError("The sandbox ended while it was being snapshotted.");
  return parent;
}

/**
 * Copies a frozen sandbox's home out through /proc/PID/root (its own mount
 * namespace). cp -a never follows symlinks, and nothing inside can swap a
 * folder for a link mid-copy: every process but the agent is stopped.
 */
async function copyTree(from: string, to: string): Promise<void> {
  const { execFile } = await import("node:child_process");
  // As root, owners are kept (files a sandbox gave to another user); an
  // ordinary user's sandbox has only its own files, and cp cannot chown.
  const ownership = process.getuid?.() === 0 ? [] : ["--no-preserve=ownership"];
  await new Promise<void>((resolve, reject) => {
    execFile(hostTool("cp"), ["-a", "--reflink=auto", ...ownership, "--", from, to], (error, _stdout, stderr) => {
      if (error) reject(new SandboxClosedError(`Copying the sandbox's files failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}
