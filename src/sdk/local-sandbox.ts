import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Mount } from "../engine/plan.js";
import { SANDBOX_HOME } from "../engine/plan.js";
import { SandboxedProcess, type SandboxExit } from "../sandbox/sandboxed-process.js";
import { Agent, AGENT_SCRIPT, CONTROL_DIR_INSIDE, type AgentProcess } from "./agent.js";
import type { EnvStore, ProcessRequest, SandboxBackend } from "./backend.js";
import { DENO_INSIDE, ensureDeno } from "./deno-binary.js";
import { SandboxClosedError, SandboxTimeoutError } from "./errors.js";
import { HttpExposure } from "./expose.js";
import { NetnsBridge } from "./netns-bridge.js";
import { parseSandboxOptions, type ParsedSandboxOptions, type SandboxOptions } from "./options.js";
import { planRootfs, type Rootfs } from "./overlay.js";
import { readHostFacts } from "../engine/host-facts.js";
import { removeTree, SandboxStore, type SnapshotInfo } from "./store.js";
import { hostTool } from "../host/tools.js";
import { readProcStat } from "../engine/proc-stat.js";

/**
 * Variables every sandbox starts with. `npm i -g` installs into /usr/local
 * (bin on PATH), which the writable root makes writable for root and for
 * an ordinary user's sandbox alike (the host's /usr/lib is root's). Deno
 * never looks for a newer version of itself (the sandbox's network is the
 * user's grants, and the binary is read-only).
 */
const SANDBOX_ENV = new Map([["NPM_CONFIG_PREFIX", "/usr/local"]]);
const DENO_ENV = new Map([["DENO_NO_UPDATE_CHECK", "1"], ["DENO_NO_PROMPT", "1"]]);

/** What a sandbox's folder records about it, for Client.sandboxes.list() and connect(). */
export interface SandboxRecord {
  id: string;
  createdAt: string;
  labels: Record<string, string>;
  /** Owned by the sandbox service (reachable with Sandbox.connect), else by the process that created it. */
  service: boolean;
}

/**
 * A sandbox owned by this process: one bubblewrap sandbox whose only
 * long-lived process is a small shell agent; every process, file
 * operation and exposed port goes through it, so they all share one
 * filesystem, one network namespace and one lifetime. See docs/sdk.md.
 */
export class LocalSandbox implements SandboxBackend {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly env: EnvStore;
  /** Resolves when the sandbox has ended and its folder is removed. */
  readonly closed: Promise<void>;
  readonly #vars: Map<string, string>;
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
  #endError: Error | undefined;

  private constructor(parts: { id: string; process: SandboxedProcess; agent: Agent; store: SandboxStore; dir: string; options: ParsedSandboxOptions; root: RootSource | undefined; rootfs: Rootfs }) {
    this.id = parts.id;
    this.#process = parts.process;
    this.#agent = parts.agent;
    this.#store = parts.store;
    this.#dir = parts.dir;
    this.#options = parts.options;
    this.#root = parts.root;
    this.#rootfs = parts.rootfs;
    this.labels = Object.freeze({ ...parts.options.labels });
    this.#vars = new Map(parts.process.plan.env);
    const vars = this.#vars;
    this.env = {
      get: async (key) => vars.get(key),
      set: async (key, value) => { vars.set(key, value); },
      delete: async (key) => { vars.delete(key); },
      toObject: async () => Object.fromEntries(vars),
    };
    this.closed = parts.process.exited.then(
      (exit) => this.#cleanUp(exit),
      () => this.#cleanUp(undefined),
    );
  }

  /**
   * Starts a sandbox owned by this process (or, in the sandbox service, by
   * the service). Every option is checked first and a bad one fails here
   * with a ConfigError naming it. Leaving `allowNet` out means no network.
   */
  static async create(options: SandboxOptions = {}, owner: { service: boolean } = { service: false }): Promise<LocalSandbox> {
    const parsed = parseSandboxOptions(options, os.totalmem());
    const store = new SandboxStore(options.dataDir ?? undefined);
    await store.removeStaleSandboxes();
    const root = parsed.root === undefined ? undefined : rootSource(store, parsed.root);
    const volumeMounts = parsed.volumes.map(({ target, name }): Mount => ({ kind: "bind", source: store.requireVolume(name, `volumes["${target}"]`), target }));
    // One copy of Deno on the host (fetched once, checked against its pinned
    // integrity), bound read-only: code inside can run it, never change it.
    const deno = parsed.deno ? await ensureDeno() : undefined;

    const hex = randomBytes(6).toString("hex");
    const id = `sbx-${hex}`;
    const dir = store.createSandboxDir(hex);
    let started: LocalSandbox | undefined;
    try {
      const record: SandboxRecord = { id, createdAt: new Date().toISOString(), labels: parsed.labels, service: owner.service };
      fs.writeFileSync(path.join(dir, "sandbox.json"), JSON.stringify(record), { mode: 0o600 });
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
        // Read-only, over the writable /usr: the host's one copy is shared by
        // every sandbox, so none may change it (rm, cp over it: EROFS/EBUSY).
        ...(deno ? [{ kind: "ro-bind", source: deno, target: DENO_INSIDE } as const] : []),
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
        extraEnv: deno ? new Map([...SANDBOX_ENV, ...DENO_ENV]) : SANDBOX_ENV,
        launcherPrefix: rootfs.launcherPrefix,
        secrets: parsed.secrets,
        network: parsed.resolve.size > 0 ? { resolve: parsed.resolve } : undefined,
      });
      let agentErrors = "";
      process_.stderr?.on("data", (chunk: Buffer) => {
        agentErrors = (agentErrors + chunk.toString()).slice(-2000);
      });
      const agent = new Agent(control, process_.stdin!, process_.stdout!);
      const sandbox = new LocalSandbox({ id, process: process_, agent, store, dir, options: parsed, root, rootfs });
      started = sandbox;
      process_.exited.then(
        (exit) => {
          const reason = sandbox.#endReason ?? (exit.limitHit ? `${exit.limitHit} limit` : undefined);
          const said = agentErrors.trim() ? ` Its agent said: ${agentErrors.trim()}` : "";
          const message = `The sandbox ${id} has ended${reason ? ` (${reason})` : ""}.${said}`;
          sandbox.#endError = reason === "timeout"
            ? new SandboxTimeoutError(message, { hint: "Give a longer timeout on create, or call extendTimeout() before it ends." })
            : new SandboxClosedError(message, { hint: "Create a new sandbox." });
          agent.gone(sandbox.#endError);
        },
        (error: unknown) => {
          sandbox.#endError = error instanceof Error ? error : new Error(String(error));
          agent.gone(sandbox.#endError);
        },
      );
      await agent.ready;
      if (parsed.timeoutMs !== undefined) sandbox.#setDeadline(Date.now() + parsed.timeoutMs);
      if (parsed.port !== undefined) sandbox.#url = await sandbox.exposeHttp(parsed.port);
      return sandbox;
    } catch (error) {
      // Nothing half-made survives a failed create: the sandbox (if it
      // started) is ended, and its folder removed either way.
      if (started) await started.close();
      else await removeTree(dir);
      throw error;
    }
  }

  /** The URL of the port given as `port` on create (on the host's 127.0.0.1). */
  get url(): string | undefined {
    return this.#url;
  }

  /** When the timeout ends the sandbox; undefined for "session". */
  get deadline(): Date | undefined {
    return this.#deadline;
  }

  get stateDir(): string {
    return this.#dir;
  }

  /** Why the sandbox ended, once it has: what its pending calls failed with. */
  get endError(): Error | undefined {
    return this.#endError;
  }

  isOom(): boolean {
    return this.#ended?.limitHit === "memory";
  }

  kill(pid: number, signal: string): void {
    this.#agent.kill(pid, signal);
  }

  /** Starts a process in the sandbox with the sandbox's variables; resolves when it runs. */
  async start(request: ProcessRequest): Promise<AgentProcess> {
    const env = request.clearEnv ? new Map(Object.entries(request.env)) : new Map([...this.#vars, ...Object.entries(request.env)]);
    // No process starts while a snapshot copies the frozen sandbox (it would not be stopped).
    while (this.#snapshotting) await this.#snapshotting.catch(() => undefined);
    return this.#agent.start({ ...request, env });
  }

  /**
   * Serves `port` inside the sandbox on the host's 127.0.0.1 (never a public
   * interface) and returns the URL. Connections are made from cordon's side
   * into the sandbox's network namespace; nothing runs inside for it.
   */
  async exposeHttp(port: number): Promise<string> {
    const exposure = await HttpExposure.open(await this.#bridge(), port);
    this.#exposures.add(exposure);
    return exposure.url;
  }

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
    const hostPid = await this.hostPid();
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

  /** Moves the deadline `ms` later (the caller has checked the amount); a "session" sandbox has none. */
  async extendTimeout(ms: number): Promise<Date> {
    if (this.#deadline === undefined) return new Date(8.64e15);
    this.#setDeadline(this.#deadline.getTime() + ms);
    return this.#deadline;
  }

  /** Ends the sandbox and every process in it; resolves when its folder is removed. */
  async close(): Promise<void> {
    this.#end("closed");
    await this.closed;
  }

  async terminate(): Promise<void> {
    this.#end("killed");
    await this.closed;
  }

  /** The sandbox's first process on the host. */
  async hostPid(): Promise<number> {
    const pid = await this.#process.hostPid;
    if (pid === undefined || this.#ended || this.#agent.isGone) throw new SandboxClosedError(`The sandbox ${this.id} has ended.`, { hint: "Create a new sandbox." });
    return pid;
  }

  #bridge(): Promise<NetnsBridge> {
    this.#netns ??= this.hostPid().then((pid) => NetnsBridge.open(pid));
    this.#netns.catch(() => { this.#netns = undefined; });
    return this.#netns;
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
