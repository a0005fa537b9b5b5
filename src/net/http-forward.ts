import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { describeUntrusted, destinationHost, parseAuthority, sameDestination, type Destination } from "./destination.js";
import type { EgressConnectionEvent } from "./events.js";
import { UPSTREAM_IDLE_TIMEOUT_MS } from "./proxy-limits.js";
import { describeConnectError } from "./tunnel.js";
import { blockedMessage, type EgressContext } from "./tunnel-session.js";

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy's own: they describe
 * the client's connection to cordon, not the request, and are never passed
 * on. Framing (Transfer-Encoding) is redone by Node on each side, so a body
 * is never forwarded with framing the two parsers could read differently.
 */
const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
  "te", "trailer", "transfer-encoding", "upgrade",
]);

/**
 * Forwards one absolute-form request (`GET http://host/path HTTP/1.1`), the
 * way plain-HTTP clients use a proxy. Node's strict parser has already
 * refused ambiguous framing (both Content-Length and Transfer-Encoding,
 * duplicate Content-Length, obs-fold, bad chunk sizes) with a 400.
 */
export async function forwardAbsoluteForm(context: EgressContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = Date.now();
  const started = performance.now();
  let bytesUp = 0;
  let bytesDown = 0;
  const report = (event: Pick<EgressConnectionEvent, "type" | "host" | "port" | "reason" | "grantHint" | "address">): void =>
    context.emit({ protocol: "http-forward", bytesUp, bytesDown, startedAt, durationMs: performance.now() - started, ...event });
  const refuse = (status: number, message: string, event: Parameters<typeof report>[0]): void => {
    report(event);
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end(`${message}\n`);
  };

  const target = parseTarget(req);
  if ("error" in target) {
    return refuse(400, `cordon: ${target.error}`, { type: "blocked", host: describeUntrusted(target.rawHost), port: 0, reason: target.error, grantHint: undefined });
  }
  const { destination, path } = target;
  const host = destinationHost(destination);
  const port = destination.port;
  const decision = await context.gate.authorize(destination);
  if (decision.outcome === "blocked") {
    return refuse(403, blockedMessage(destination, decision.grantHint, decision.reason), { type: "blocked", host, port, reason: decision.reason, grantHint: decision.grantHint });
  }
  if (decision.outcome === "unreachable") {
    return refuse(502, `cordon: ${decision.reason}`, { type: "allowed", host, port, reason: decision.reason, grantHint: decision.grantHint });
  }
  // The client may have gone while the gate decided (a prompt can take a while).
  if (req.socket.destroyed) return report({ type: "allowed", host, port, grantHint: decision.grantHint, reason: "the client left before the request was sent" });

  const upstream = http.request({
    method: req.method,
    path,
    headers: requestHeaders(req),
    setHost: false,
    // The connection goes to the addresses the gate checked, never to a
    // fresh DNS answer for the name.
    createConnection: (_options, callback) => {
      context.openUpstream(decision.addresses, port).then((socket) => callback(null, socket), (error: Error) => callback(error, undefined as never));
      return undefined;
    },
  });
  // An upstream that accepts and never answers (or stalls mid-answer) is
  // dropped, not kept for as long as the client cares to wait.
  upstream.setTimeout(UPSTREAM_IDLE_TIMEOUT_MS, () => {
    upstream.destroy(Object.assign(new Error(`no answer for ${UPSTREAM_IDLE_TIMEOUT_MS / 1000} s`), { code: "ETIMEDOUT" }));
  });
  let address: string | undefined;
  let failure: string | undefined;
  upstream.once("socket", (socket) => socket.once("connect", () => (address = socket.remoteAddress)));
  upstream.on("response", (response) => {
    address ??= response.socket.remoteAddress;
    res.writeHead(response.statusCode ?? 502, response.statusMessage, forwardedHeaders(response.rawHeaders));
    response.on("data", (chunk: Buffer) => (bytesDown += chunk.length));
    response.pipe(res);
    response.on("error", () => res.destroy());
  });
  upstream.on("error", (error) => {
    failure = `forwarding to ${host}:${port} failed: ${describeConnectError(error)}`;
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end(`cordon: ${failure}\n`);
    else res.destroy();
  });
  req.on("data", (chunk: Buffer) => (bytesUp += chunk.length));
  req.pipe(upstream);
  res.once("close", () => {
    upstream.destroy();
    report({ type: "allowed", host, port, address, grantHint: decision.grantHint, ...(failure ? { reason: failure } : {}) });
  });
}

/**
 * Node decoded the client's chunked body; say so again upstream, or Node
 * would send a GET's body with no framing at all (it only chunks POST-like
 * methods by default), and the bytes would read as a second request.
 */
function requestHeaders(req: IncomingMessage): string[] {
  const headers = forwardedHeaders(req.rawHeaders);
  if (req.headers["transfer-encoding"] !== undefined) headers.push("Transfer-Encoding", "chunked");
  return headers;
}

type ParsedTarget = { destination: Destination; path: string } | { error: string; rawHost: string };

function parseTarget(req: IncomingMessage): ParsedTarget {
  const url = req.url ?? "";
  const match = /^http:\/\/([^/?#]*)([^#]*)$/i.exec(url);
  if (!match) {
    const error = /^https:\/\//i.test(url)
      ? "an https:// URL in absolute form; proxies reach HTTPS with CONNECT"
      : "not an absolute-form http:// request; this is a forward proxy";
    return { error, rawHost: url };
  }
  const authority = match[1] ?? "";
  const rest = match[2] ?? "";
  const destination = parseAuthority(authority, 80);
  if (!destination) return { error: "the request target is not a valid host", rawHost: authority };
  // A request names its destination twice: the target and Host. Servers
  // route by Host, the proxy checks the target; if they differ, a granted
  // target could carry a request for an ungranted virtual host.
  const hostHeaders = headerValues(req.rawHeaders, "host");
  const hostHeader = hostHeaders.length === 1 ? parseAuthority(hostHeaders[0] ?? "", 80) : undefined;
  if (!hostHeader || !sameDestination(hostHeader, destination)) {
    return { error: `the Host header does not match the request target ${authority}`, rawHost: hostHeaders.join(",") };
  }
  return { destination, path: rest.startsWith("/") ? rest : `/${rest}` };
}

function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === name) values.push(rawHeaders[i + 1] ?? "");
  }
  return values;
}

const FRAMING = new Set(["content-length", "transfer-encoding", "host"]);

/** Raw headers (name, value, name, value ...) without hop-by-hop ones, case and order kept. */
function forwardedHeaders(rawHeaders: readonly string[]): string[] {
  const listed = new Set(headerValues(rawHeaders, "connection").flatMap((value) => value.split(",").map((name) => name.trim().toLowerCase())));
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    const lower = name.toLowerCase();
    // A Connection header may list other hop-by-hop headers, but never the
    // ones that frame the message or name its host: dropping Content-Length
    // would send a body unframed, to be read upstream as a second request.
    if (HOP_BY_HOP.has(lower) || (listed.has(lower) && !FRAMING.has(lower))) continue;
    kept.push(name, rawHeaders[i + 1] ?? "");
  }
  return kept;
}
