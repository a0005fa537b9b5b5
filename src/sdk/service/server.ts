import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import type { AgentProcess } from "../agent.js";
import type { ProcessRequest } from "../backend.js";
import { SandboxClosedError, SandboxNotFoundError } from "../errors.js";
import { LocalSandbox } from "../local-sandbox.js";
import type { SandboxOptions } from "../options.js";
import { errorToWire, PROTOCOL_VERSION, readHello, readLines, writeLine, type SandboxInfo, type StreamName } from "./protocol.js";

/** A process stream handed out by a spawn answer, waiting for its stream connection. */
interface PendingStream {
  socket: net.Socket;
  /** "in": the client writes into the process; "out": the process's output goes to the client. */
  direction: "in" | "out";
  expires: NodeJS.Timeout;
}

/** A stream not claimed within this time is closed (its process then sees EOF or EPIPE). */
const STREAM_CLAIM_MS = 60_000;

/**
 * The sandbox service: owns sandboxes created with a `timeout` duration,
 * so they outlive the process that asked for them (as Deno Deploy's do),
 * and serves them to any client over the protocol in protocol.ts. One
 * control connection serves one Sandbox object; its processes' streams
 * each come on their own connection, claimed with a one-use token.
 *
 * It trusts whoever reaches its socket: the socket is the user's own
 * (mode 0600 in a 0700 folder, see daemon.ts). Served to other machines,
 * the hello's token would be checked first (docs/sdk.md).
 */
export class SandboxService implements AsyncDisposable {
  readonly #dataDir: string;
  readonly #sandboxes = new Map<string, LocalSandbox>();
  readonly #streams = new Map<string, PendingStream>();
  readonly #connections = new Set<net.Socket>();
  readonly #onIdle: () => void;
  #server: net.Server | undefined;

  constructor(options: { dataDir: string; onIdle?: () => void }) {
    this.#dataDir = options.dataDir;
    this.#onIdle = options.onIdle ?? (() => {});
  }

  /** Sandboxes and connections alive (the daemon ends when both are none). */
  get busy(): boolean {
    return this.#sandboxes.size > 0 || this.#connections.size > 0;
  }

  /** Listens on a Unix socket; the caller has made its folder private. */
  async listen(socketPath: string): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    // The socket is created with the process's umask: 0600 from the start,
    // never briefly open to others.
    const umask = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socketPath, () => resolve());
      });
    } finally {
      process.umask(umask);
    }
    fs.chmodSync(socketPath, 0o600);
    this.#server = server;
  }

  async close(): Promise<void> {
    this.#server?.close();
    await Promise.all([...this.#sandboxes.values()].map((sandbox) => sandbox.terminate().catch(() => undefined)));
    for (const socket of this.#connections) socket.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #accept(socket: net.Socket): void {
    socket.on("error", () => undefined);
    this.#connections.add(socket);
    socket.on("close", () => {
      this.#connections.delete(socket);
      this.#checkIdle();
    });
    readHello(socket).then(
      (hello) => {
        if (hello.v !== PROTOCOL_VERSION) {
          writeLine(socket, { error: { name: "ConfigError", message: `The sandbox service speaks protocol ${PROTOCOL_VERSION}, not ${String(hello.v)}.`, hint: "Use the same cordon version for the service and its clients (stop the old service: it ends with its last sandbox)." } });
          socket.end();
        } else if (hello.hello === "stream" && typeof hello.stream === "string") this.#attachStream(socket, hello.stream);
        else if (hello.hello === "control") this.#serveControl(socket);
        else socket.destroy();
      },
      () => socket.destroy(),
    );
  }

  #serveControl(socket: net.Socket): void {
    // The client disconnected (close(), or its process ended): the sandbox runs on.
    socket.on("end", () => socket.end());
    let sandbox: LocalSandbox | undefined;
    const watchEnd = (): void => {
      if (!sandbox) return;
      const bound = sandbox;
      void bound.closed.then(() => {
        const error = bound.endError ?? new SandboxClosedError(`The sandbox ${bound.id} has ended.`, { hint: "Create a new sandbox." });
        writeLine(socket, { event: "ended", error: errorToWire(error), oom: bound.isOom() });
        socket.end();
      });
    };
    let queue = Promise.resolve();
    readLines(socket, (message) => {
      // One request at a time per connection, in order.
      queue = queue.then(async () => {
        const id = message.id;
        try {
          const answer = await this.#handle(message, sandbox, socket, (bound) => {
            sandbox = bound;
            watchEnd();
          });
          writeLine(socket, { id, ok: answer ?? null });
        } catch (error) {
          writeLine(socket, { id, error: errorToWire(error) });
        }
      });
    });
    writeLine(socket, { hello: "cordon-sandbox-service", v: PROTOCOL_VERSION, pid: process.pid });
  }

  async #handle(message: Record<string, unknown>, sandbox: LocalSandbox | undefined, socket: net.Socket, bind: (sandbox: LocalSandbox) => void): Promise<unknown> {
    const op = message.op;
    if (op === "create") {
      if (sandbox) throw new Error("This connection already serves a sandbox.");
      const options = { ...(message.options as SandboxOptions), dataDir: this.#dataDir };
      const created = await LocalSandbox.create(options, { service: true });
      this.#adopt(created);
      bind(created);
      return await infoOf(created);
    }
    if (op === "connect") {
      if (sandbox) throw new Error("This connection already serves a sandbox.");
      const found = this.#sandboxes.get(String(message.sandbox));
      if (!found) throw new SandboxNotFoundError(`Sandbox.connect: the sandbox service runs no sandbox ${JSON.stringify(message.sandbox)}.`, { input: "id", hint: "It has ended (its timeout passed, or it was killed); list the running ones with new Client().sandboxes.list()." });
      bind(found);
      return await infoOf(found);
    }
    if (!sandbox) throw new Error(`"${String(op)}" needs a sandbox: create or connect first.`);
    switch (op) {
      case "spawn":
        return this.#spawn(sandbox, message.request as ProcessRequest, socket);
      case "signal":
        sandbox.kill(Number(message.pid), String(message.signal));
        return null;
      case "env.get":
        return (await sandbox.env.get(String(message.key))) ?? null;
      case "env.set":
        return sandbox.env.set(String(message.key), String(message.value));
      case "env.delete":
        return sandbox.env.delete(String(message.key));
      case "env.toObject":
        return sandbox.env.toObject();
      case "exposeHttp":
        return sandbox.exposeHttp(Number(message.port));
      case "fetch":
        return fetchOverWire(sandbox, message);
      case "snapshot":
        return sandbox.snapshot(String(message.name));
      case "extendTimeout":
        return (await sandbox.extendTimeout(Number(message.ms))).toISOString();
      case "kill":
        await sandbox.terminate();
        return null;
      default:
        throw new Error(`Unknown request "${String(op)}".`);
    }
  }

  #adopt(sandbox: LocalSandbox): void {
    this.#sandboxes.set(sandbox.id, sandbox);
    void sandbox.closed.then(() => {
      this.#sandboxes.delete(sandbox.id);
      this.#checkIdle();
    });
  }

  async #spawn(sandbox: LocalSandbox, request: ProcessRequest, socket: net.Socket): Promise<unknown> {
    const started = await sandbox.start(request);
    const streams: Partial<Record<StreamName, string>> = {};
    const offer = (name: StreamName, stream: net.Socket | null | undefined, direction: "in" | "out"): void => {
      if (!stream) return;
      const token = randomBytes(16).toString("hex");
      stream.on("error", () => undefined);
      const expires = setTimeout(() => {
        this.#streams.delete(token);
        stream.destroy();
      }, STREAM_CLAIM_MS);
      expires.unref();
      this.#streams.set(token, { socket: stream, direction, expires });
      streams[name] = token;
    };
    offer("stdin", started.stdin, "in");
    offer("stdout", started.stdout, "out");
    offer("stderr", started.stderr, "out");
    offer("requests", started.channel?.requests, "in");
    offer("answers", started.channel?.answers, "out");
    reportExit(started, sandbox, socket);
    return { pid: started.pid, streams };
  }

  #attachStream(connection: net.Socket, token: string): void {
    const pending = this.#streams.get(token);
    if (!pending) {
      connection.destroy();
      return;
    }
    this.#streams.delete(token);
    clearTimeout(pending.expires);
    const { socket, direction } = pending;
    // Either side may go first: the process's end ends the connection; a
    // client that leaves (close(), or its process ended) stops reading, and
    // the process's output is then drained and dropped, never left to fill
    // the pipe or end the process with SIGPIPE (as a detached terminal).
    connection.on("end", () => connection.end());
    if (direction === "out") {
      socket.pipe(connection);
      const drop = (): void => {
        socket.unpipe(connection);
        socket.resume();
      };
      connection.on("end", drop);
      connection.on("close", drop);
      // Read, so that a client that is gone is noticed (it sends nothing).
      connection.resume();
    } else {
      connection.pipe(socket, { end: false });
      connection.resume();
      // The client closed its end: the process sees end-of-file once what
      // was written has gone into the FIFO (a FIFO has no half-close).
      const finish = (): void => {
        if (socket.writableLength === 0) socket.destroy();
        else socket.once("drain", () => socket.destroy());
      };
      connection.on("end", finish);
      connection.on("close", finish);
    }
  }

  #checkIdle(): void {
    if (!this.busy) this.#onIdle();
  }
}

function reportExit(started: AgentProcess, sandbox: LocalSandbox, socket: net.Socket): void {
  started.exitCode.then(
    (code) => writeLine(socket, { event: "exit", pid: started.pid, code, oom: sandbox.isOom() }),
    () => { /* the sandbox ended: the "ended" event tells the client */ },
  );
}

async function infoOf(sandbox: LocalSandbox): Promise<SandboxInfo> {
  return {
    id: sandbox.id,
    labels: { ...sandbox.labels },
    deadline: sandbox.deadline?.toISOString() ?? null,
    url: sandbox.url ?? null,
    stateDir: sandbox.stateDir,
    hostPid: await sandbox.hostPid(),
  };
}

async function fetchOverWire(sandbox: LocalSandbox, message: Record<string, unknown>): Promise<unknown> {
  const body = typeof message.body === "string" ? Buffer.from(message.body, "base64") : undefined;
  const response = await sandbox.fetch(String(message.url), {
    method: typeof message.method === "string" ? message.method : "GET",
    headers: Array.isArray(message.headers) ? (message.headers as [string, string][]) : [],
    body,
    redirect: message.redirect === "manual" || message.redirect === "error" ? message.redirect : "follow",
  });
  return {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
    body: Buffer.from(await response.arrayBuffer()).toString("base64"),
  };
}
