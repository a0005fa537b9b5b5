import http from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { destinationLabel } from "../destination.js";
import { serveOneAtATime } from "../one-at-a-time.js";
import { CLIENT_TLS_HANDSHAKE_TIMEOUT_MS, MAX_ACTIVE_EXCHANGES, MAX_WAITING_REQUESTS, WHOLE_BODIES_BUDGET_BYTES } from "../proxy-limits.js";
import type { AuthorizedTarget, OpenUpstream, TransferCounts, TunnelHandler } from "../tunnel.js";
import type { SandboxCertificateAuthority } from "../tls/certificate-authority.js";
import { BodyBudget } from "./body-budget.js";
import { ExchangeSlots } from "./exchange-slots.js";
import { forwardIntercepted, type InterceptedTunnel } from "./forward-intercepted.js";
import type { ResolvedSecret } from "./resolve-secrets.js";
import type { SecretEvent } from "./secret-events.js";
import { SecretSwap } from "./secret-swap.js";
import { UpstreamAgent } from "./upstream-agent.js";

export type { SecretEvent } from "./secret-events.js";

export interface InterceptOptions {
  ca: SandboxCertificateAuthority;
  secrets: readonly ResolvedSecret[];
  /** PEM certificates real servers are verified against (the host's trust store). */
  upstreamCa: readonly string[];
  onEvent?: (event: SecretEvent) => void;
}

/**
 * The slot the egress proxy calls for every authorized tunnel: a handler
 * that intercepts it when the host carries a secret, or undefined to leave
 * the bytes untouched (hosts without secrets are never decrypted).
 */
export function secretInterceptor(options: InterceptOptions): (target: AuthorizedTarget) => TunnelHandler | undefined {
  // One budget for every tunnel of this proxy (this sandbox).
  const budget = new BodyBudget(WHOLE_BODIES_BUDGET_BYTES);
  const slots = new ExchangeSlots(MAX_ACTIVE_EXCHANGES);
  return (target) => {
    const destination = target.destination;
    const host = destination.kind === "name" ? destination.host : destination.address;
    const bound = options.secrets.filter((s) => s.hosts.includes(host));
    if (bound.length === 0) return undefined;
    return (client, _target, openUpstream) => intercept(client, { host, port: destination.port, label: destinationLabel(destination), bound, budget, slots }, openUpstream, options);
  };
}

interface TunnelFacts {
  host: string;
  port: number;
  label: string;
  bound: readonly ResolvedSecret[];
  budget: BodyBudget;
  slots: ExchangeSlots;
}

async function intercept(client: Duplex, facts: TunnelFacts, openUpstream: OpenUpstream, options: InterceptOptions): Promise<TransferCounts> {
  const counts = { bytesUp: 0, bytesDown: 0 };
  const minted = await options.ca.contextFor(facts.host);
  if (client.destroyed) return counts;
  // Only HTTP/1.1 is offered, so every request is parsed by Node's HTTP/1.1
  // server and no HTTP/2 frame can carry a placeholder past it.
  const secureClient = new tls.TLSSocket(client as Socket, { isServer: true, secureContext: minted.context, ALPNProtocols: ["http/1.1"] });
  // A client that never finishes its handshake does not hold the tunnel.
  const handshake = setTimeout(() => secureClient.destroy(), CLIENT_TLS_HANDSHAKE_TIMEOUT_MS);
  secureClient.once("secure", () => clearTimeout(handshake));
  const report = (event: SecretEvent): void => options.onEvent?.(event);
  const tunnel: InterceptedTunnel = {
    host: facts.host,
    port: facts.port,
    label: facts.label,
    swap: new SecretSwap(facts.bound, options.secrets, (secret, where) => report({ type: "secret-exfiltration", name: secret.name, host: facts.host, where })),
    agent: new UpstreamAgent(facts.host, openUpstream, options.upstreamCa),
    budget: facts.budget,
    counts,
    report,
  };
  const server = http.createServer();
  serveOneAtATime(server, {
    maxWaiting: MAX_WAITING_REQUESTS,
    serve: (request, response) => serveInTurn(tunnel, facts.slots, request, response),
    overflow: () => report({ type: "exchange-refused", host: facts.host, reason: `more than ${MAX_WAITING_REQUESTS} pipelined requests waited in the tunnel to ${facts.label}; it was closed` }),
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => refuseUnparsed(tunnel, error, socket));
  server.emit("connection", secureClient);
  await new Promise<void>((resolve) => {
    secureClient.once("close", () => resolve());
    secureClient.once("error", () => resolve());
  });
  clearTimeout(handshake);
  // Every upstream connection of this tunnel ends with it, even one still
  // in its handshake.
  tunnel.agent.destroy();
  server.close();
  return counts;
}

/** Forwards one request once an exchange slot is free; a client that leaves first gives its place up. */
function serveInTurn(tunnel: InterceptedTunnel, slots: ExchangeSlots, request: http.IncomingMessage, response: http.ServerResponse): void {
  const left = new AbortController();
  let release = (): void => {};
  response.once("close", () => {
    left.abort();
    release();
  });
  slots.acquire(left.signal).then((granted) => {
    release = granted;
    if (left.signal.aborted) return release();
    return forwardIntercepted(tunnel, request, response);
  }).catch((error: unknown) => {
    if (left.signal.aborted) return;
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const message = tunnel.swap.maskText((error as Error).message);
    response.writeHead(502, { "content-type": "text/plain; charset=utf-8" }).end(`cordon: ${tunnel.label} could not be reached: ${message}\n`);
  });
}

/** Answers a request Node's parser refused (an authority-form target, bad framing) with a 400, and reports it. */
function refuseUnparsed(tunnel: InterceptedTunnel, error: NodeJS.ErrnoException, socket: Duplex): void {
  // A client hanging up is not news; a request the parser refused is.
  if (!error.code?.startsWith("HPE_") || !socket.writable) {
    socket.destroy();
    return;
  }
  const reason = `the HTTP parser refused a request in the tunnel to ${tunnel.label} (${error.code})`;
  tunnel.report({ type: "exchange-refused", host: tunnel.host, reason });
  const body = `cordon: ${reason}. Send well-formed HTTP/1.1 with a path as the target (origin-form: GET /v1/items).\n`;
  socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
