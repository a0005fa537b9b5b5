import net from "node:net";
import type { AgentProcess } from "../agent.js";
import type { EnvStore, ProcessRequest, SandboxBackend } from "../backend.js";
import { ConnectionClosedError, SandboxClosedError } from "../errors.js";
import type { SnapshotInfo } from "../store.js";
import type { ControlConnection } from "./client.js";
import { errorFromWire, PROTOCOL_VERSION, writeLine, type SandboxInfo, type StreamName, type WireError } from "./protocol.js";

interface ExitWaiter {
  resolve: (code: number) => void;
  reject: (error: Error) => void;
}

/**
 * A sandbox the sandbox service owns, reached over its protocol. The same
 * operations as a LocalSandbox; each process stream is its own connection
 * to the service, claimed with the token the spawn answer carried.
 * close() only disconnects (the sandbox runs on until its timeout, as on
 * Deno Deploy); terminate() ends it.
 */
export class RemoteSandbox implements SandboxBackend {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly env: EnvStore;
  readonly closed: Promise<void>;
  readonly stateDir: string;
  readonly url: string | undefined;
  readonly #control: ControlConnection;
  readonly #socketPath: string;
  readonly #hostPid: number;
  readonly #exits = new Map<number, ExitWaiter>();
  /** Exits that arrived before their spawn answer was read. */
  readonly #early = new Map<number, number>();
  /** This client's process streams: they end with its connection, as Deno's travel in it. */
  readonly #streams = new Set<net.Socket>();
  #deadline: Date | undefined;
  #oom = false;
  #ended: Error | undefined;

  constructor(control: ControlConnection, info: SandboxInfo, socketPath: string) {
    this.#control = control;
    this.#socketPath = socketPath;
    this.id = info.id;
    this.labels = Object.freeze({ ...info.labels });
    this.url = info.url ?? undefined;
    this.stateDir = info.stateDir;
    this.#hostPid = info.hostPid;
    this.#deadline = info.deadline ? new Date(info.deadline) : undefined;
    this.closed = control.closed;
    control.onEvent((event) => this.#onEvent(event));
    void control.closed.then(() => {
      for (const stream of this.#streams) stream.destroy();
      const error = this.#ended ?? new ConnectionClosedError(`The connection to sandbox ${this.id} is closed; the sandbox runs on until its timeout.`, { hint: `Reach it again with Sandbox.connect("${this.id}").` });
      for (const waiter of this.#exits.values()) waiter.reject(error);
      this.#exits.clear();
    });
    this.env = {
      get: async (key) => ((await control.request("env.get", { key })) as string | null) ?? undefined,
      set: async (key, value) => { await control.request("env.set", { key, value }); },
      delete: async (key) => { await control.request("env.delete", { key }); },
      toObject: async () => (await control.request("env.toObject")) as Record<string, string>,
    };
  }

  get deadline(): Date | undefined {
    return this.#deadline;
  }

  async hostPid(): Promise<number> {
    if (this.#ended) throw this.#ended;
    return this.#hostPid;
  }

  isOom(): boolean {
    return this.#oom;
  }

  kill(pid: number, signal: string): void {
    this.#control.request("signal", { pid, signal }).catch(() => undefined);
  }

  async start(request: ProcessRequest): Promise<AgentProcess> {
    const answer = (await this.#control.request("spawn", { request })) as { pid: number; streams: Partial<Record<StreamName, string>> };
    const claim = (name: StreamName): Promise<net.Socket | null> => {
      const token = answer.streams[name];
      return token ? this.#claim(token) : Promise.resolve(null);
    };
    const [stdin, stdout, stderr, requests, answers] = await Promise.all([claim("stdin"), claim("stdout"), claim("stderr"), claim("requests"), claim("answers")]);
    const exitCode = new Promise<number>((resolve, reject) => {
      const early = this.#early.get(answer.pid);
      if (early !== undefined) {
        this.#early.delete(answer.pid);
        resolve(early);
      } else if (this.#ended) reject(this.#ended);
      else this.#exits.set(answer.pid, { resolve, reject });
    });
    exitCode.catch(() => undefined);
    return { pid: answer.pid, stdin, stdout, stderr, channel: requests && answers ? { requests, answers } : null, exitCode };
  }

  async exposeHttp(port: number): Promise<string> {
    return (await this.#control.request("exposeHttp", { port })) as string;
  }

  /** Buffered both ways, as the local fetch() is; an AbortSignal is not carried over. */
  async fetch(url: string | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(url, init);
    const body = request.body ? Buffer.from(await request.arrayBuffer()).toString("base64") : null;
    const answer = (await this.#control.request("fetch", { url: request.url, method: request.method, headers: [...request.headers], body, redirect: request.redirect })) as {
      status: number; statusText: string; headers: [string, string][]; body: string;
    };
    const bytes = Buffer.from(answer.body, "base64");
    return new Response(bytes.length === 0 && [101, 204, 205, 304].includes(answer.status) ? null : bytes, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
  }

  async snapshot(name: string): Promise<SnapshotInfo> {
    const info = (await this.#control.request("snapshot", { name })) as SnapshotInfo & { createdAt: string };
    return { ...info, createdAt: new Date(info.createdAt) };
  }

  async extendTimeout(ms: number): Promise<Date> {
    this.#deadline = new Date((await this.#control.request("extendTimeout", { ms })) as string);
    return this.#deadline;
  }

  /** Disconnects; the sandbox runs on until its timeout. */
  async close(): Promise<void> {
    this.#control.close();
    await this.closed;
  }

  async terminate(): Promise<void> {
    await this.#control.request("kill").catch((error: unknown) => {
      if (!(error instanceof ConnectionClosedError)) throw error;
    });
    await this.closed;
  }

  #onEvent(event: Record<string, unknown>): void {
    if (event.event === "exit" && typeof event.pid === "number" && typeof event.code === "number") {
      if (event.oom === true) this.#oom = true;
      const waiter = this.#exits.get(event.pid);
      if (!waiter) {
        this.#early.set(event.pid, event.code);
        return;
      }
      this.#exits.delete(event.pid);
      waiter.resolve(event.code);
    } else if (event.event === "ended") {
      if (event.oom === true) this.#oom = true;
      const error = errorFromWire(event.error as WireError);
      this.#ended = error instanceof ConnectionClosedError ? error : new SandboxClosedError(error.message);
      this.#control.endedWith(this.#ended);
      for (const waiter of this.#exits.values()) waiter.reject(this.#ended);
      this.#exits.clear();
    }
  }

  #claim(token: string): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(this.#socketPath);
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        socket.on("error", () => undefined);
        writeLine(socket, { v: PROTOCOL_VERSION, hello: "stream", stream: token });
        this.#streams.add(socket);
        socket.once("close", () => this.#streams.delete(socket));
        resolve(socket);
      });
    });
  }
}
