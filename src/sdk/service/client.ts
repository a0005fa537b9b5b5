import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../errors.js";
import { ConnectionClosedError, ConnectionEstablishmentError, SandboxNotFoundError } from "../errors.js";
import { refuseRemoteOptions, type SandboxOptions } from "../options.js";
import { defaultDataDir, listSandboxRecords } from "../store.js";
import { errorFromWire, PROTOCOL_VERSION, readLines, serviceDir, writeLine, type SandboxInfo, type WireError } from "./protocol.js";
import { RemoteSandbox } from "./remote-sandbox.js";

/** `@deno/sandbox`'s ConnectOptions, plus where the sandboxes live. */
export interface ConnectOptions {
  dataDir?: string;
  token?: string;
  org?: string;
  apiEndpoint?: string;
  sandboxEndpoint?: string | ((region: string) => string);
  debug?: boolean;
}

/** How long a client waits for a service it started to answer. */
const START_WAIT_MS = 15_000;
/** Unix socket paths are at most 107 bytes on Linux. */
const MAX_SOCKET_PATH = 107;

/**
 * The way to the sandbox service of one data folder (on this machine: its
 * Unix socket). `create` starts the service when none runs; `connect` never
 * does (a sandbox to connect to would have its service running).
 */
export class ServiceEndpoint {
  readonly dataDir: string;
  readonly socketPath: string;
  readonly #start: boolean;

  constructor(dataDir: string, start: boolean) {
    this.dataDir = dataDir;
    this.socketPath = path.join(serviceDir(dataDir), "sock");
    this.#start = start;
    if (Buffer.byteLength(this.socketPath) > MAX_SOCKET_PATH) {
      throw new ConfigError(`The sandbox service's socket path ${this.socketPath} is longer than Linux allows (${MAX_SOCKET_PATH} bytes).`, {
        input: "dataDir",
        hint: "Use a shorter data folder (CORDON_DATA_DIR or the dataDir option).",
      });
    }
  }

  async create(options: SandboxOptions): Promise<RemoteSandbox> {
    const control = await this.#open();
    const { dataDir: _dataDir, ...rest } = options;
    try {
      const info = (await control.request("create", { options: rest })) as SandboxInfo;
      return new RemoteSandbox(control, info, this.socketPath);
    } catch (error) {
      control.close();
      throw error;
    }
  }

  async connect(id: string): Promise<RemoteSandbox> {
    let control: ControlConnection;
    try {
      control = await this.#open();
    } catch (error) {
      if (!(error instanceof ConnectionEstablishmentError)) throw error;
      throw notConnectable(this.dataDir, id);
    }
    try {
      return new RemoteSandbox(control, (await control.request("connect", { sandbox: id })) as SandboxInfo, this.socketPath);
    } catch (error) {
      control.close();
      throw error instanceof SandboxNotFoundError ? notConnectable(this.dataDir, id) : error;
    }
  }

  async #open(): Promise<ControlConnection> {
    const dir = serviceDir(this.dataDir);
    if (this.#start) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    checkPrivateFolder(dir);
    try {
      return await ControlConnection.open(this.socketPath);
    } catch (error) {
      if (!this.#start) throw error;
    }
    const daemon = startDaemon(this.dataDir, dir);
    const until = Date.now() + START_WAIT_MS;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      try {
        return await ControlConnection.open(this.socketPath);
      } catch (error) {
        if (Date.now() > until || daemon.failed) {
          throw new ConnectionEstablishmentError(`The sandbox service did not start: ${(error as Error).message}. Its log: ${logTail(dir)}`, {
            hint: `See ${path.join(dir, "log")}; create the sandbox with timeout: "session" to own it in this process instead.`,
          });
        }
      }
    }
  }
}

/** The service for `options` (its data folder); refuses Deno Deploy endpoints. */
export function connectToService(options: ConnectOptions & Pick<SandboxOptions, "region" | "ssh">, how: { start: boolean; id?: string } = { start: true }): ServiceEndpoint {
  refuseRemoteOptions(options, how.id === undefined ? "Sandbox.create" : "Sandbox.connect");
  return new ServiceEndpoint(path.resolve(options.dataDir ?? defaultDataDir()), how.start);
}

/**
 * The folder must be a real folder of this user that nobody else can enter:
 * a folder someone else made (or can write) could hold their socket, and
 * this process would send them its secrets.
 */
function checkPrivateFolder(dir: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch {
    throw new ConnectionEstablishmentError(`There is no sandbox service folder at ${dir}.`, { hint: "Create a sandbox with a timeout (it starts the service)." });
  }
  const uid = process.getuid?.() ?? -1;
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
    throw new ConfigError(`${dir} is not a private folder of this user (it must be a folder owned by uid ${uid}, mode 0700), so its socket cannot be trusted.`, {
      input: "dataDir",
      hint: `Remove ${dir} (cordon makes it again), or chmod 700 it if it is yours.`,
    });
  }
}

function startDaemon(dataDir: string, dir: string): { failed: boolean } {
  const state = { failed: false };
  const entry = fileURLToPath(new URL("../helpers/service-daemon.js", import.meta.url));
  const log = fs.openSync(path.join(dir, "log"), "a", 0o600);
  try {
    // Its own session: the service outlives this process and its terminal.
    const child = spawn(process.execPath, [entry, dataDir], { detached: true, stdio: ["ignore", log, log], cwd: dir, env: process.env });
    child.on("error", () => { state.failed = true; });
    child.on("exit", (code) => { if (code !== 0) state.failed = true; });
    child.unref();
  } finally {
    fs.closeSync(log);
  }
  return state;
}

function logTail(dir: string): string {
  try {
    return fs.readFileSync(path.join(dir, "log"), "utf8").trim().split("\n").slice(-5).join(" | ") || "(empty)";
  } catch {
    return "(none)";
  }
}

/** Why connect() found nothing: no such sandbox, or one that belongs to another process. */
function notConnectable(dataDir: string, id: string): Error {
  const record = listSandboxRecords(dataDir).find((r) => r.id === id);
  if (record && !record.service) {
    return new ConfigError(`Sandbox.connect: ${id} belongs to process ${record.ownerPid}, which created it with timeout "session": it ends with that process and cannot be reached from another.`, {
      input: "id",
      hint: 'Create it with a timeout (e.g. timeout: "10m") to reach it from other processes.',
    });
  }
  return new SandboxNotFoundError(`Sandbox.connect: there is no running sandbox ${id}.`, {
    input: "id",
    hint: "It has ended (its timeout passed, or it was killed), or lives in another data folder; list the running ones with new Client().sandboxes.list().",
  });
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One control connection: requests answered in order, and the service's events. */
export class ControlConnection {
  readonly closed: Promise<void>;
  readonly #socket: net.Socket;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #onEvent: (event: Record<string, unknown>) => void = () => {};
  #closedBy: Error | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => socket.once("close", () => {
      const error = this.#closedBy ?? new ConnectionClosedError("The connection to the sandbox service was closed.", { hint: "Sandbox.connect(id) again." });
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
      resolve();
    }));
    socket.on("error", (error) => { this.#closedBy ??= new ConnectionClosedError(`The connection to the sandbox service failed: ${error.message}`); });
  }

  static open(socketPath: string): Promise<ControlConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      const fail = (error: Error): void => {
        socket.destroy();
        reject(new ConnectionEstablishmentError(`Could not reach the sandbox service at ${socketPath}: ${error.message}`));
      };
      socket.once("error", fail);
      socket.once("connect", () => {
        writeLine(socket, { v: PROTOCOL_VERSION, hello: "control", token: null });
        let connection: ControlConnection | undefined;
        readLines(socket, (message) => {
          if (!connection) {
            if (message.hello !== "cordon-sandbox-service") return fail(errorFromWire(message.error as WireError));
            socket.off("error", fail);
            connection = new ControlConnection(socket);
            return resolve(connection);
          }
          connection.#receive(message);
        });
        socket.once("close", () => { if (!connection) fail(new Error("closed before its hello")); });
      });
    });
  }

  onEvent(handler: (event: Record<string, unknown>) => void): void {
    this.#onEvent = handler;
  }

  request(op: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    if (this.#socket.destroyed) return Promise.reject(this.#closedBy ?? new ConnectionClosedError("The connection to the sandbox service is closed.", { hint: "Sandbox.connect(id) again." }));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      writeLine(this.#socket, { id, op, ...fields });
    });
  }

  /** Later requests fail with `error` (the sandbox ended) once the service closes the connection. */
  endedWith(error: Error): void {
    this.#closedBy = error;
  }

  close(): void {
    this.#socket.end();
    this.#socket.destroySoon();
  }

  #receive(message: Record<string, unknown>): void {
    if (typeof message.event === "string") return this.#onEvent(message);
    const pending = typeof message.id === "number" ? this.#pending.get(message.id) : undefined;
    if (!pending) return;
    this.#pending.delete(message.id as number);
    if ("error" in message) pending.reject(errorFromWire(message.error as WireError));
    else pending.resolve(message.ok);
  }
}
