import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net, { type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { ConfigError } from "../../errors.js";
import { describeUntrusted, destinationHost, parseAuthority } from "../destination.js";
import { SANDBOX_PROXY_PORT } from "../egress-proxy.js";
import { listenInNetns } from "../netns-attach.js";
import { OpenSockets } from "../open-sockets.js";
import { CLIENT_TLS_HANDSHAKE_TIMEOUT_MS } from "../proxy-limits.js";
import { readSocks5Request, SOCKS5, socks5Reply } from "../socks5.js";
import type { SinkholeAnswer, SinkholeExchange, SinkholeKind, SinkholeRequest, SinkholeVia } from "./exchange.js";
import type { SandboxCertificateAuthority } from "../tls/certificate-authority.js";

export interface SinkholeOptions {
  /** Signs a certificate for every name a client asks for (trusted inside the sandbox only). */
  /** An any-name CA (SandboxCertificateAuthority.forAnyName()). */
  ca: SandboxCertificateAuthority;
  /** The answer to each HTTP(S) request; default: 200 with an empty body. */
  answer?: (request: SinkholeRequest) => SinkholeAnswer;
  /**
   * Written into a raw channel (neither HTTP nor TLS) once it is classified:
   * a reverse shell runs it and its output is then in `sent`.
   */
  rawProbe?: () => string;
  /** Each exchange, once complete. */
  onExchange?: (exchange: SinkholeExchange) => void;
  /** Client connections open at once; more are refused. Default 256. */
  maxConnections?: number;
  /** Bytes kept per exchange. Default 1 MiB. */
  maxBytesPerExchange?: number;
  /** Bytes kept over all exchanges; past it, bytes are only counted. Default 32 MiB. */
  maxBytesInAll?: number;
  /** How long a tunnel may stay silent before it is taken for a raw channel. Default 1.5 s. */
  sniffTimeoutMs?: number;
}

interface TunnelFacts {
  via: SinkholeVia;
  host: string;
  port: number;
  kind: SinkholeKind;
  sni?: string;
  /** Set once an HTTP request or raw record came through, so an empty tunnel is recorded once. */
  recorded: boolean;
}

const TLS_HANDSHAKE = 0x16;
const SOCKS5_VERSION = 0x05;
const HTTP_METHOD = /^[A-Z]{3,10} /;

/**
 * A network that answers everything and forwards nothing: the only thing an
 * observation sandbox can reach. It speaks the egress proxy's protocols on
 * the sandbox's loopback (HTTP absolute form, CONNECT, SOCKS5), accepts any
 * destination without resolving it (no name a package asks for ever reaches
 * a resolver, so nothing leaves through DNS either), terminates TLS with a
 * certificate for the name asked, answers each request plausibly, and
 * records what was sent. Nothing here opens a connection of its own.
 */
export class Sinkhole {
  readonly #options: SinkholeOptions;
  readonly #exchanges: SinkholeExchange[] = [];
  readonly #server: http.Server;
  readonly #tunnels = new WeakMap<object, TunnelFacts>();
  readonly #clients = new OpenSockets();
  readonly #listeners = new Set<Server>();
  /** Recordings still open (a body arriving, a raw channel): close() finishes them. */
  readonly #open = new Set<() => void>();
  readonly #maxBytesPerExchange: number;
  #bytesLeft: number;
  #nextId = 1;
  #closed = false;

  constructor(options: SinkholeOptions) {
    this.#options = options;
    this.#maxBytesPerExchange = options.maxBytesPerExchange ?? 1024 ** 2;
    this.#bytesLeft = options.maxBytesInAll ?? 32 * 1024 ** 2;
    // Node's own parser reads every request; nothing is forwarded, so a
    // request it refuses is recorded as raw bytes instead of answered.
    this.#server = http.createServer({ maxHeaderSize: 64 * 1024, headersTimeout: 30_000, requestTimeout: 0, keepAliveTimeout: 5_000 });
    this.#server.on("request", (req: IncomingMessage, res: ServerResponse) => this.#serveRequest(req, res));
    this.#server.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#serveConnect(req, socket as Socket, head));
    this.#server.on("clientError", (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => this.#unparsed(error, socket));
  }

  /** Every exchange recorded so far, in the order they completed. */
  get exchanges(): readonly SinkholeExchange[] {
    return this.#exchanges;
  }

  /** Listens on the host (127.0.0.1, a free port): for tests. A sandbox reaches the sinkhole through attachToNetns(). */
  async listen(): Promise<{ host: string; port: number }> {
    const server = net.createServer({ allowHalfOpen: false }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
    });
    this.#listeners.add(server);
    const address = server.address() as net.AddressInfo;
    return { host: address.address, port: address.port };
  }

  /** Listens on 127.0.0.1:PORT inside the network namespace of a sandbox held before its command starts (see netns-attach.ts). */
  async attachToNetns(hostPid: number, port = SANDBOX_PROXY_PORT): Promise<void> {
    if (this.#closed) throw new ConfigError("This Sinkhole is closed.");
    const server = await listenInNetns(hostPid, port);
    this.#listeners.add(server);
    server.on("error", () => { /* an accept error (EMFILE) must not end the observation */ });
    server.on("connection", (socket: Socket) => this.accept(socket));
  }

  accept(socket: Socket): void {
    if (this.#closed || this.#clients.size >= (this.#options.maxConnections ?? 256)) {
      socket.destroy();
      return;
    }
    this.#clients.add(socket);
    socket.on("error", () => socket.destroy());
    socket.once("data", (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] === SOCKS5_VERSION) void this.#serveSocks5(socket);
      else {
        this.#server.emit("connection", socket);
        socket.resume();
      }
    });
  }

  /** Finishes every open recording, then ends every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const finish of [...this.#open]) finish();
    this.#open.clear();
    await Promise.all([...this.#listeners].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.#listeners.clear();
    this.#clients.destroyAll();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #serveSocks5(socket: Socket): Promise<void> {
    const request = await readSocks5Request(socket, 30_000);
    if (!request.ok) {
      socket.end(socks5Reply(request.reply ?? SOCKS5.generalFailure));
      return;
    }
    socket.write(socks5Reply(SOCKS5.succeeded));
    this.#openTunnel(socket, { via: "socks5", host: destinationHost(request.destination), port: request.destination.port, kind: "raw", recorded: false });
  }

  #serveConnect(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const target = req.url ?? "";
    const destination = parseAuthority(target, 443);
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) socket.unshift(head);
    const host = destination ? destinationHost(destination) : describeUntrusted(target.replace(/:\d+$/, ""));
    this.#openTunnel(socket, { via: "connect", host, port: destination?.port ?? Number(/:(\d+)$/.exec(target)?.[1] ?? 0), kind: "raw", recorded: false });
  }

  /** Reads a tunnel's first bytes to tell TLS, HTTP and anything else apart. */
  #openTunnel(socket: Socket, facts: TunnelFacts): void {
    const silent = setTimeout(() => {
      socket.off("data", first);
      this.#recordRaw(socket, facts);
    }, this.#options.sniffTimeoutMs ?? 1_500);
    const first = (chunk: Buffer): void => {
      clearTimeout(silent);
      socket.pause();
      socket.unshift(chunk);
      const tlsHello = chunk[0] === TLS_HANDSHAKE;
      const httpRequest = !tlsHello && HTTP_METHOD.test(chunk.subarray(0, 11).toString("latin1"));
      // Those two record their own exchanges; an empty tunnel is recorded below.
      if (tlsHello || httpRequest) facts.recorded = true;
      if (tlsHello) void this.#terminateTls(socket, facts);
      else if (httpRequest) this.#serveHttpIn(socket, { ...facts, kind: "http" });
      else this.#recordRaw(socket, facts);
    };
    socket.once("data", first);
    socket.once("close", () => {
      clearTimeout(silent);
      if (!facts.recorded && facts.kind === "raw") this.#recordEmpty(facts);
    });
    socket.resume();
  }

  #serveHttpIn(stream: Duplex, facts: TunnelFacts): void {
    this.#tunnels.set(stream, facts);
    this.#server.emit("connection", stream);
    stream.resume();
  }

  async #terminateTls(socket: Socket, facts: TunnelFacts): Promise<void> {
    let context: tls.SecureContext;
    try {
      context = (await this.#options.ca.contextFor(parseAuthority(facts.host, 443) ? facts.host : "server.invalid")).context;
    } catch {
      socket.destroy();
      return;
    }
    const tlsFacts: TunnelFacts = { ...facts, kind: "tls-refused" };
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: ["http/1.1"],
      SNICallback: (name, callback) => {
        const asked = parseAuthority(name, 443);
        if (asked) tlsFacts.sni = destinationHost(asked);
        else tlsFacts.sni = describeUntrusted(name);
        this.#options.ca.contextFor(asked ? destinationHost(asked) : facts.host).then((minted) => callback(null, minted.context), (error: Error) => callback(error, undefined));
      },
    });
    const handshake = setTimeout(() => secure.destroy(), CLIENT_TLS_HANDSHAKE_TIMEOUT_MS);
    secure.on("error", () => secure.destroy());
    secure.once("close", () => {
      clearTimeout(handshake);
      socket.destroy();
      if (tlsFacts.kind === "tls-refused") this.#recordEmpty(tlsFacts);
    });
    secure.once("secure", () => {
      clearTimeout(handshake);
      tlsFacts.kind = "https";
      this.#serveHttpIn(secure, tlsFacts);
    });
  }

  #serveRequest(req: IncomingMessage, res: ServerResponse): void {
    const request = this.#describeRequest(req);
    const kept: Buffer[] = [];
    const sink = this.#bytesSink(kept);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.#open.delete(finish);
      this.#record({ ...request.exchange, sent: Buffer.concat(kept), sentBytes: sink.total });
    };
    this.#open.add(finish);
    req.on("data", (chunk: Buffer) => sink.add(chunk));
    req.once("error", finish);
    res.once("close", finish);
    req.once("end", () => {
      finish();
      const answer = this.#answer(request.asked);
      const body = typeof answer.body === "string" ? Buffer.from(answer.body) : answer.body;
      res.writeHead(answer.status ?? 200, { "content-type": answer.contentType ?? "text/plain; charset=utf-8", "content-length": body.length });
      res.end(req.method === "HEAD" ? undefined : body);
    });
  }

  #describeRequest(req: IncomingMessage): { exchange: Omit<SinkholeExchange, "id" | "sent" | "sentBytes">; asked: SinkholeRequest } {
    const headers = pairs(req.rawHeaders);
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const facts = this.#tunnels.get(req.socket);
    if (facts) facts.recorded = true;
    let via: SinkholeVia;
    let host: string;
    let port: number;
    let target = url;
    const absolute = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(url);
    if (facts) {
      ({ via, host, port } = facts);
    } else if (absolute) {
      via = "http-proxy";
      const destination = parseAuthority(absolute[2] ?? "", absolute[1]?.toLowerCase() === "https" ? 443 : 80);
      host = destination ? destinationHost(destination) : describeUntrusted(absolute[2] ?? "");
      port = destination?.port ?? 80;
      target = absolute[3] || "/";
    } else {
      // Origin form straight to the sinkhole's port: the Host header names the site.
      via = "direct";
      const named = parseAuthority(req.headers.host ?? "", 80);
      host = named ? destinationHost(named) : describeUntrusted(req.headers.host ?? "(no host)");
      port = named?.port ?? 80;
    }
    const kind = facts?.kind === "https" ? "https" : "http";
    return {
      exchange: { via, host, port, kind, method, target, headers, startedAt: Date.now(), ...(facts?.sni ? { sni: facts.sni } : {}) },
      asked: { host, port, kind, method, target, headers },
    };
  }

  #answer(request: SinkholeRequest): SinkholeAnswer {
    try {
      return this.#options.answer?.(request) ?? { body: "" };
    } catch {
      return { body: "" };
    }
  }

  /** A channel that is neither HTTP nor TLS: probed once, recorded until it closes or the sinkhole does. */
  #recordRaw(socket: Socket, facts: TunnelFacts): void {
    facts.recorded = true;
    const kept: Buffer[] = [];
    const sink = this.#bytesSink(kept);
    const probe = this.#options.rawProbe?.();
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.#open.delete(finish);
      this.#record({ via: facts.via, host: facts.host, port: facts.port, kind: "raw", sent: Buffer.concat(kept), sentBytes: sink.total, startedAt: Date.now(), ...(probe ? { probe } : {}) });
    };
    this.#open.add(finish);
    socket.on("data", (chunk: Buffer) => sink.add(chunk));
    socket.once("close", finish);
    if (probe) socket.write(probe);
    socket.resume();
  }

  #recordEmpty(facts: TunnelFacts): void {
    facts.recorded = true;
    this.#record({ via: facts.via, host: facts.host, port: facts.port, kind: facts.kind, sent: Buffer.alloc(0), sentBytes: 0, startedAt: Date.now(), ...(facts.sni ? { sni: facts.sni } : {}) });
  }

  /** A request Node's parser refused (or non-HTTP inside TLS): its bytes are the record. */
  #unparsed(error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex): void {
    const facts = this.#tunnels.get(socket);
    const raw = error.rawPacket;
    if (raw && raw.length > 0) {
      const kept: Buffer[] = [];
      const sink = this.#bytesSink(kept);
      sink.add(raw);
      if (facts) facts.recorded = true;
      this.#record({
        via: facts?.via ?? "direct", host: facts?.host ?? "(unparsed request)", port: facts?.port ?? 0, kind: facts?.kind === "https" ? "https" : "raw",
        sent: Buffer.concat(kept), sentBytes: sink.total, startedAt: Date.now(), ...(facts?.sni ? { sni: facts.sni } : {}),
      });
    }
    socket.destroy();
  }

  #bytesSink(kept: Buffer[]): { add(chunk: Buffer): void; total: number } {
    let room = this.#maxBytesPerExchange;
    const sink = {
      total: 0,
      add: (chunk: Buffer): void => {
        sink.total += chunk.length;
        const take = Math.min(chunk.length, room, this.#bytesLeft);
        if (take <= 0) return;
        kept.push(Buffer.from(chunk.subarray(0, take)));
        room -= take;
        this.#bytesLeft -= take;
      },
    };
    return sink;
  }

  #record(exchange: Omit<SinkholeExchange, "id">): void {
    const recorded: SinkholeExchange = { id: this.#nextId++, ...exchange };
    this.#exchanges.push(recorded);
    try {
      this.#options.onExchange?.(recorded);
    } catch {
      // A listener's failure must not end the observation.
    }
  }
}

function pairs(raw: readonly string[]): (readonly [string, string])[] {
  const out: (readonly [string, string])[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? "", raw[i + 1] ?? ""]);
  return out;
}
