import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { pipeline } from "node:stream/promises";
import tls from "node:tls";
import { destinationLabel } from "../destination.js";
import type { AuthorizedTarget, OpenUpstream, TransferCounts, TunnelHandler } from "../tunnel.js";
import type { SandboxCertificateAuthority } from "../tls/certificate-authority.js";
import type { ResolvedSecret } from "./resolve-secrets.js";
import { ReplacingStream, replaceInBuffer, type Replacement } from "./substitution.js";

export type SecretEvent =
  /** A secret's real value was put into a request to one of its own hosts. */
  | { type: "secret-injected"; name: string; host: string; count: number }
  /** A placeholder was seen going somewhere its secret is not bound to. */
  | { type: "secret-exfiltration"; name: string; host: string; where: "url" | "header" | "body" | "host name" }
  /** The real server's certificate did not verify: nothing was sent. */
  | { type: "upstream-certificate"; host: string; reason: string };

export interface InterceptOptions {
  ca: SandboxCertificateAuthority;
  secrets: readonly ResolvedSecret[];
  /** PEM certificates real servers are verified against (the host's trust store). */
  upstreamCa: readonly string[];
  onEvent?: (event: SecretEvent) => void;
}

/** Bodies up to this size are buffered so Content-Length stays exact; larger ones stream chunked. */
const BUFFER_LIMIT = 8 * 1024 * 1024;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade", "content-length", "accept-encoding"]);

/**
 * The slot the egress proxy calls for every authorized tunnel: a handler
 * that intercepts it when the host carries a secret, or undefined to leave
 * the bytes untouched (hosts without secrets are never decrypted).
 */
export function secretInterceptor(options: InterceptOptions): (target: AuthorizedTarget) => TunnelHandler | undefined {
  return (target) => {
    const destination = target.destination;
    const host = destination.kind === "name" ? destination.host : destination.address;
    const bound = options.secrets.filter((s) => s.hosts.includes(host));
    if (bound.length === 0) return undefined;
    return (client, _target, openUpstream) => intercept(client, host, destination.port, bound, openUpstream, options, destinationLabel(destination));
  };
}

async function intercept(
  client: Duplex,
  host: string,
  port: number,
  bound: readonly ResolvedSecret[],
  openUpstream: OpenUpstream,
  options: InterceptOptions,
  label: string,
): Promise<TransferCounts> {
  const minted = await options.ca.contextFor(host);
  // Only HTTP/1.1 is offered, so every request is parsed by Node's HTTP/1.1
  // server and no HTTP/2 frame can carry a placeholder past it.
  const secureClient = new tls.TLSSocket(client as Socket, { isServer: true, secureContext: minted.context, ALPNProtocols: ["http/1.1"] });
  const inject: Replacement[] = bound.map((s) => ({ from: Buffer.from(s.placeholder), to: Buffer.from(s.value) }));
  // Every real value cordon holds is masked on the way back, not only this host's.
  const mask: Replacement[] = options.secrets.map((s) => ({ from: Buffer.from(s.value), to: Buffer.from(s.placeholder) }));
  const foreign = options.secrets.filter((s) => !bound.includes(s));
  const counts = { bytesUp: 0, bytesDown: 0 };
  const agent = new UpstreamAgent(host, openUpstream, options.upstreamCa);

  const server = http.createServer({ keepAlive: true }, (request, response) => {
    forward(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`cordon: ${label} could not be reached: ${(error as Error).message}\n`);
    });
  });

  const reportForeign = (text: Buffer, where: "url" | "header" | "body"): void => {
    for (const secret of foreign) if (text.includes(secret.placeholder)) options.onEvent?.({ type: "secret-exfiltration", name: secret.name, host, where });
  };
  const injected = new Map<string, number>();
  const note = (perReplacement: readonly number[]): void => {
    perReplacement.forEach((count, i) => {
      const name = bound[i]?.name;
      if (name && count > 0) injected.set(name, (injected.get(name) ?? 0) + count);
    });
  };
  const swap = (value: string, replacements: Replacement[]): string => replaceInBuffer(Buffer.from(value), replacements).output.toString();
  const injectInto = (value: string, where: "url" | "header"): string => {
    reportForeign(Buffer.from(value), where);
    const replaced = replaceInBuffer(Buffer.from(value), inject);
    note(replaced.counts);
    return replaced.output.toString();
  };

  async function forward(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      headers[name] = Array.isArray(value) ? value.map((v) => injectInto(v, "header")) : injectInto(value, "header");
    }
    // The request goes to the host the secret is bound to, and says so: a
    // Host header naming another site would let a shared front end (a CDN)
    // route the real value to someone else (domain fronting).
    headers.host = port === 443 ? host : `${host}:${port}`;
    const path = injectInto(request.url ?? "/", "url");
    const body = await readBody(request);
    let upstreamBody: Buffer | ReplacingStream | undefined;
    if (Buffer.isBuffer(body)) {
      counts.bytesUp += body.length;
      reportForeign(body, "body");
      const replaced = replaceInBuffer(body, inject);
      note(replaced.counts);
      upstreamBody = replaced.output;
      if (body.length > 0 || request.headers["content-length"] !== undefined) headers["content-length"] = String(replaced.output.length);
    } else {
      const stream = new ReplacingStream(inject);
      body.on("data", (chunk: Buffer) => (counts.bytesUp += chunk.length));
      body.pipe(stream);
      stream.on("end", () => note(stream.counts));
      headers["transfer-encoding"] = "chunked";
      upstreamBody = stream;
    }
    const upstream = https.request({ host, port, method: request.method, path, headers, agent, servername: agent.servername });
    const answered = new Promise<http.IncomingMessage>((resolve, reject) => {
      upstream.once("response", resolve);
      upstream.once("error", reject);
    });
    if (Buffer.isBuffer(upstreamBody)) upstream.end(upstreamBody);
    else void pipeline(upstreamBody, upstream).catch(() => upstream.destroy());
    const reply = await answered.catch((error: NodeJS.ErrnoException) => {
      const reason = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(String(error.code ?? error.message)) ? `its certificate did not verify (${error.code ?? error.message})` : undefined;
      if (reason) {
        options.onEvent?.({ type: "upstream-certificate", host, reason });
        throw new Error(`the real ${host} presented a certificate that did not verify against this machine's trust store (${error.code}); nothing was sent`);
      }
      throw error;
    });
    for (const [name, count] of injected) options.onEvent?.({ type: "secret-injected", name, host, count });
    injected.clear();

    const replyHeaders: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(reply.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      replyHeaders[name] = Array.isArray(value) ? value.map((v) => swap(v, mask)) : swap(value, mask);
    }
    const replyBody = await readBody(reply);
    if (Buffer.isBuffer(replyBody)) {
      const masked = replaceInBuffer(replyBody, mask).output;
      counts.bytesDown += replyBody.length;
      replyHeaders["content-length"] = String(masked.length);
      response.writeHead(reply.statusCode ?? 502, reply.statusMessage, replyHeaders);
      response.end(masked);
    } else {
      response.writeHead(reply.statusCode ?? 502, reply.statusMessage, replyHeaders);
      replyBody.on("data", (chunk: Buffer) => (counts.bytesDown += chunk.length));
      await pipeline(replyBody, new ReplacingStream(mask), response);
    }
  }

  server.emit("connection", secureClient);
  await new Promise<void>((resolve) => {
    secureClient.once("close", () => resolve());
    secureClient.once("error", () => resolve());
  });
  agent.destroy();
  server.close();
  return counts;
}

/** A body small enough to hold whole (exact Content-Length), or the stream itself. */
async function readBody(message: http.IncomingMessage): Promise<Buffer | http.IncomingMessage> {
  const declared = Number(message.headers["content-length"] ?? NaN);
  if (message.headers["transfer-encoding"] === undefined && Number.isFinite(declared) && declared <= BUFFER_LIMIT) {
    const chunks: Buffer[] = [];
    for await (const chunk of message) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  if (message.headers["transfer-encoding"] === undefined && !Number.isFinite(declared) && message.method !== undefined) {
    return Buffer.alloc(0); // a request without a body
  }
  return message;
}

/**
 * Upstream connections for one intercepted tunnel: TCP through the proxy's
 * checked addresses, then TLS verified against the host's trust store, with
 * the real host name (SNI and certificate name). Kept alive across the
 * client's requests.
 */
class UpstreamAgent extends https.Agent {
  readonly servername: string | undefined;
  readonly #open: OpenUpstream;
  readonly #ca: readonly string[];

  constructor(host: string, open: OpenUpstream, ca: readonly string[]) {
    super({ keepAlive: true, maxSockets: 4 });
    this.servername = /^[\d.]+$|:/.test(host) ? undefined : host;
    this.#open = open;
    this.#ca = ca;
  }

  override createConnection(options: https.RequestOptions, callback?: (error: Error | null, socket: Duplex) => void): Duplex | undefined {
    const fail = (error: Error): void => callback?.(error, undefined as unknown as Duplex);
    this.#open().then(
      (socket) => {
        const secure = tls.connect({
          socket,
          host: options.host ?? undefined,
          servername: this.servername,
          ca: [...this.#ca],
          rejectUnauthorized: true,
          ALPNProtocols: ["http/1.1"],
        });
        secure.once("secureConnect", () => callback?.(null, secure));
        secure.once("error", fail);
      },
      fail,
    );
    return undefined;
  }
}
