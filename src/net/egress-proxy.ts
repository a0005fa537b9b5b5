import net, { type Server, type Socket } from "node:net";
import { ConfigError } from "../errors.js";
import { normalizeHostName, normalizeIp, type NetGrant } from "../policy/net-grant.js";
import type { Destination } from "./destination.js";
import { EgressGate, systemLookup, type LookupFunction, type PromptAnswer, type ResolvedAddress } from "./egress-gate.js";
import type { EgressEvent } from "./events.js";
import { createHttpFront } from "./http-front.js";
import { listenInNetns } from "./netns-attach.js";
import { OpenSockets } from "./open-sockets.js";
import { CLOSE_DEADLINE_MS } from "./proxy-limits.js";
import { readSocks5Request, SOCKS5, socks5Reply } from "./socks5.js";
import { connectUpstream, type AuthorizedTarget, type TunnelHandler } from "./tunnel.js";
import { runTunnel, type EgressContext } from "./tunnel-session.js";

export interface EgressProxyOptions {
  /** Parsed `--allow-net` entries. None: nothing is allowed. */
  grants: readonly NetGrant[];
  /** Names pinned to addresses (curl's --resolve), host → address. Pinned names skip DNS and the rebinding guard. */
  resolve?: ReadonlyMap<string, string>;
  /** Every allowed and blocked connection, once each, when it ends. */
  onEvent?: (event: EgressEvent) => void;
  /** `--prompt`: asked (once per host:port) when no grant matches; the connection waits for the answer. */
  decide?: (destination: Destination) => Promise<PromptAnswer>;
  /** Client connections open at once; more are refused at the door. Default 512. */
  maxConnections?: number;
  /** Aborting closes the proxy. */
  signal?: AbortSignal;
  /** How granted names are resolved on the host (default: getaddrinfo). For tests and embedders. */
  lookup?: LookupFunction;
  /**
   * The slot for TLS interception (secrets, issue 6): for an authorized
   * target, a handler that takes over the tunnel instead of copying bytes.
   */
  tunnelFor?: (target: AuthorizedTarget) => TunnelHandler | undefined;
  /** Time a client has to send its first request or SOCKS5 handshake. Default 30 s. */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 512;
/**
 * The proxy's port on the sandbox's loopback. Fixed, so the sandbox's
 * environment can be planned before it starts; the namespace is new and
 * empty, so the port is always free. 3128 is the conventional proxy port.
 */
export const SANDBOX_PROXY_PORT = 3128;
const SOCKS5_VERSION = 0x05;

/**
 * cordon's egress proxy: the only way out of a sandbox's network namespace.
 * One port speaks HTTP (CONNECT and absolute-form, parsed by Node's HTTP
 * server) and SOCKS5 (told apart by the first byte). Every connection is
 * checked against the grants, resolved on the host, guarded against DNS
 * rebinding, bounded in number, and reported.
 */
export class EgressProxy {
  readonly #gate: EgressGate;
  readonly #http: ReturnType<typeof createHttpFront>;
  readonly #context: EgressContext;
  readonly #onEvent: ((event: EgressEvent) => void) | undefined;
  readonly #maxConnections: number;
  readonly #handshakeTimeoutMs: number;
  readonly #servers = new Set<Server>();
  readonly #clients = new OpenSockets();
  readonly #upstreams = new OpenSockets();
  readonly #sessions = new Set<Promise<void>>();
  #closed = false;
  #refusedSinceLast = 0;
  #lastLimitEvent = 0;
  readonly #onAbort = (): void => void this.close();
  readonly #signal: AbortSignal | undefined;

  constructor(options: EgressProxyOptions) {
    this.#maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isInteger(this.#maxConnections) || this.#maxConnections < 1) {
      throw new ConfigError(`maxConnections must be a positive whole number, not ${String(options.maxConnections)}.`, { input: "maxConnections" });
    }
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 30_000;
    this.#onEvent = options.onEvent;
    this.#gate = new EgressGate({
      grants: [...options.grants],
      pins: parsePins(options.resolve ?? new Map()),
      lookup: options.lookup ?? systemLookup,
      decide: options.decide,
    });
    this.#context = {
      gate: this.#gate,
      emit: (event) => this.#emit(event),
      tunnelFor: options.tunnelFor,
      openUpstream: (addresses, port) => connectUpstream(addresses, port, (socket) => this.#upstreams.add(socket)),
      track: (session) => {
        const settled = session.catch(() => {}).finally(() => this.#sessions.delete(settled));
        this.#sessions.add(settled);
      },
    };
    this.#http = createHttpFront(this.#context);
    this.#signal = options.signal;
    if (this.#signal?.aborted) this.#closed = true;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Client connections open now. */
  get activeConnections(): number {
    return this.#clients.size;
  }

  /**
   * Listens on the host (default 127.0.0.1, a free port). For tests,
   * benchmarks and bridges; a sandbox reaches the proxy through
   * attachToNetns().
   */
  async listen(options: { host?: string; port?: number } = {}): Promise<{ host: string; port: number }> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 }, () => resolve());
    });
    return this.#adopt(server);
  }

  /**
   * Makes the proxy accept connections on 127.0.0.1:PORT inside the network
   * namespace of process `hostPid` (a sandbox held on bubblewrap's
   * --block-fd). Nothing keeps running inside; see netns-attach.ts.
   */
  async attachToNetns(hostPid: number, options: { port?: number } = {}): Promise<{ port: number }> {
    this.#assertOpen();
    const server = await listenInNetns(hostPid, options.port ?? SANDBOX_PROXY_PORT);
    // Set before any connection is accepted (the received server is not yet accepting in JS).
    // (net.Server reads this property for each socket it accepts; not in the typings.)
    (server as Server & { allowHalfOpen: boolean }).allowHalfOpen = true;
    const { port } = this.#adopt(server);
    server.on("connection", (socket: Socket) => this.accept(socket));
    return { port };
  }

  /** Serves one client connection (from any listener or bridge). */
  accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    if (this.#clients.size >= this.#maxConnections) {
      socket.destroy();
      this.#refused();
      return;
    }
    this.#clients.add(socket);
    socket.on("error", () => socket.destroy());
    socket.setNoDelay(true);
    socket.setTimeout(this.#handshakeTimeoutMs, () => socket.destroy());
    socket.once("data", (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      if (first[0] === SOCKS5_VERSION) this.#context.track(this.#serveSocks5(socket));
      else {
        this.#http.emit("connection", socket);
        socket.resume();
      }
    });
  }

  /**
   * Closes the listeners and destroys every connection, client and upstream,
   * at once (one still being made is destroyed when it appears), then waits
   * at most CLOSE_DEADLINE_MS for sessions to report. Nothing the sandbox
   * opened can keep cordon's process alive after it: this is what lets
   * `--timeout` bound cordon's own exit.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    const closing = [...this.#servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    this.#servers.clear();
    this.#clients.destroyAll();
    this.#upstreams.destroyAll();
    // Let sessions cut short above finish and emit their events, within the
    // deadline (a lookup or a prompt still pending is not waited for).
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...closing, ...this.#sessions]),
      new Promise<void>((resolve) => (deadline = setTimeout(resolve, CLOSE_DEADLINE_MS))),
    ]);
    clearTimeout(deadline);
  }

  /** Resolves when no connection is open and every session has reported (or after `timeoutMs`). */
  async idle(timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.#clients.size > 0 || this.#sessions.size > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #serveSocks5(socket: Socket): Promise<void> {
    const request = await readSocks5Request(socket, this.#handshakeTimeoutMs);
    const tunnelRequest = request.ok
      ? { destination: request.destination }
      : { destination: undefined, rawHost: request.rawHost ?? "(malformed SOCKS5 request)", port: request.port, reason: request.reason };
    await runTunnel(this.#context, socket, tunnelRequest, "socks5", {
      connected: () => socket.write(socks5Reply(SOCKS5.succeeded)),
      refused: (kind) => {
        if (!request.ok && request.reply === undefined) {
          socket.destroy();
          return;
        }
        const code = kind === "blocked" ? SOCKS5.notAllowed
          : kind === "unreachable" ? SOCKS5.hostUnreachable
            : request.ok ? SOCKS5.generalFailure : (request.reply ?? SOCKS5.generalFailure);
        socket.end(socks5Reply(code));
      },
    });
  }

  #adopt(server: Server): { host: string; port: number } {
    if (this.#closed) {
      server.close();
      this.#assertOpen();
    }
    this.#servers.add(server);
    server.on("error", () => { /* an accept error (EMFILE) must not take the proxy down */ });
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("EgressProxy: listener has no TCP address");
    return { host: address.address, port: address.port };
  }

  #assertOpen(): void {
    if (this.#closed) throw new ConfigError("This EgressProxy is closed.");
  }

  #refused(): void {
    this.#refusedSinceLast += 1;
    const now = Date.now();
    if (now - this.#lastLimitEvent < 1_000) return;
    this.#lastLimitEvent = now;
    this.#emit({ type: "connection-limit", maxConnections: this.#maxConnections, refusedSinceLast: this.#refusedSinceLast });
    this.#refusedSinceLast = 0;
  }

  #emit(event: EgressEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // A listener's failure must not break a connection or the proxy.
    }
  }
}

function parsePins(pins: ReadonlyMap<string, string>): Map<string, ResolvedAddress> {
  const parsed = new Map<string, ResolvedAddress>();
  for (const [hostText, addressText] of pins) {
    const host = normalizeHostName(hostText);
    const address = normalizeIp(addressText.replace(/^\[|\]$/g, ""));
    if (!host || !address) {
      throw new ConfigError(`--resolve: "${hostText}:${addressText}" must be a host name and an IP address.`, {
        input: "--resolve",
        hint: "Write --resolve=HOST:ADDRESS, e.g. --resolve=api.example.com:127.0.0.1 or --resolve=api.example.com:[::1].",
      });
    }
    parsed.set(host, address);
  }
  return parsed;
}
