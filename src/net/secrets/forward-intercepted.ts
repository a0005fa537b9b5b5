import http from "node:http";
import https from "node:https";
import type { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describeUntrusted } from "../destination.js";
import { UPSTREAM_IDLE_TIMEOUT_MS, WHOLE_BODY_MAX_BYTES } from "../proxy-limits.js";
import type { TransferCounts } from "../tunnel.js";
import type { BodyBudget } from "./body-budget.js";
import { decodersFor } from "./response-codings.js";
import type { SecretEvent } from "./secret-events.js";
import type { SecretSwap } from "./secret-swap.js";
import type { UpstreamAgent } from "./upstream-agent.js";

/** One intercepted tunnel, as each of its requests sees it. */
export interface InterceptedTunnel {
  host: string;
  port: number;
  /** `host:port`, for messages. */
  label: string;
  swap: SecretSwap;
  agent: UpstreamAgent;
  budget: BodyBudget;
  counts: TransferCounts;
  report(event: SecretEvent): void;
}

/**
 * Hop-by-hop headers and the ones cordon redoes: framing (Node re-frames
 * each side) and Accept-Encoding (dropped, so that servers answer in bytes
 * cordon can mask; see response-codings.ts for those that compress anyway).
 */
const NOT_FORWARDED = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer",
  "transfer-encoding", "upgrade", "content-length", "accept-encoding",
  // A range request gets an echo back in slices, none of which is the whole
  // value that masking looks for: ask for whole representations only.
  "range", "if-range",
]);
/** Not passed back: hop-by-hop, framing, and the codings removed by decoding. */
const NOT_RETURNED = new Set([...NOT_FORWARDED, "content-encoding"]);

/**
 * Forwards one request from the sandbox to the secret's host, and its
 * answer back: placeholders become real values on the way out, real values
 * become placeholders on the way back. Bodies stream both ways (a small
 * request body is held whole, within the proxy's budget, to keep its exact
 * Content-Length), so their size is never held in cordon's memory.
 */
export async function forwardIntercepted(tunnel: InterceptedTunnel, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const target = request.url ?? "";
  // Only origin-form ("/path?query") is taken. An absolute-form target
  // ("https://evil.test/steal?k=PLACEHOLDER") would still go to this host,
  // but with the real value in a URL naming another site, where logs,
  // redirects and proxies at the host can carry it on.
  if (!target.startsWith("/") && !(target === "*" && request.method === "OPTIONS")) return refuseTarget(tunnel, target, response);

  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || NOT_FORWARDED.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.map((v) => tunnel.swap.injectText(v, "header")) : tunnel.swap.injectText(value, "header");
  }
  // The request goes to the host the secret is bound to, and says so: a
  // Host header naming another site would let a shared front end (a CDN)
  // route the real value to someone else (domain fronting).
  headers.host = tunnel.port === 443 ? tunnel.host : `${tunnel.host}:${tunnel.port}`;
  const path = tunnel.swap.injectText(target, "url");
  const body = await requestBody(tunnel, request, headers);

  const upstream = https.request({ host: tunnel.host, port: tunnel.port, method: request.method, path, headers, agent: tunnel.agent, servername: tunnel.agent.servername });
  upstream.setTimeout(UPSTREAM_IDLE_TIMEOUT_MS, () => {
    upstream.destroy(Object.assign(new Error(`${tunnel.label} sent nothing for ${UPSTREAM_IDLE_TIMEOUT_MS / 1000} s`), { code: "ETIMEDOUT" }));
  });
  let received = false;
  // The client gone (or cut off), the exchange it asked for ends too.
  response.once("close", () => {
    if (!received) upstream.destroy();
  });
  const reply = new Promise<http.IncomingMessage>((resolve, reject) => {
    upstream.once("response", resolve);
    upstream.on("error", reject);
  });
  if (body === undefined) upstream.end();
  else if (Buffer.isBuffer(body)) upstream.end(body);
  else void pipeline(body, upstream).catch(() => upstream.destroy());

  const answer = await reply.catch((error: NodeJS.ErrnoException) => {
    throw describeUpstreamError(tunnel, error);
  });
  answer.once("end", () => (received = true));
  for (const [name, count] of tunnel.swap.takeInjected()) tunnel.report({ type: "secret-injected", name, host: tunnel.host, count });
  await returnAnswer(tunnel, request, answer, response);
}

/** The body to send: none, the whole of a small one (swapped, exact length), or a swapping stream (chunked). */
async function requestBody(tunnel: InterceptedTunnel, request: http.IncomingMessage, headers: http.OutgoingHttpHeaders): Promise<Buffer | Transform | undefined> {
  const chunked = request.headers["transfer-encoding"] !== undefined;
  const declared = chunked ? undefined : Number(request.headers["content-length"] ?? 0);
  if (declared === 0) {
    if (request.headers["content-length"] !== undefined) headers["content-length"] = "0";
    return undefined;
  }
  // Twice the size: the body, and the body with its values in.
  const release = declared !== undefined && declared <= WHOLE_BODY_MAX_BYTES ? tunnel.budget.reserve(2 * declared) : undefined;
  if (release) {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const whole = Buffer.concat(chunks);
      tunnel.counts.bytesUp += whole.length;
      const swapped = tunnel.swap.injectBuffer(whole, "body");
      headers["content-length"] = String(swapped.length);
      return swapped;
    } finally {
      // Once handed to the upstream socket it is that socket's to stream.
      release();
    }
  }
  headers["transfer-encoding"] = "chunked";
  const swapping = tunnel.swap.injectStream();
  request.on("data", (chunk: Buffer) => (tunnel.counts.bytesUp += chunk.length));
  request.pipe(swapping);
  // A client that leaves mid-upload ends the upload, not leaves it hanging.
  request.once("close", () => {
    if (!request.complete) swapping.destroy();
  });
  return swapping;
}

async function returnAnswer(tunnel: InterceptedTunnel, request: http.IncomingMessage, answer: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const status = answer.statusCode ?? 502;
  const bodiless = request.method === "HEAD" || status === 204 || status === 304 || status < 200;
  const decoding = bodiless ? { decoders: [] } : decodersFor(answer.headers);
  if ("unknown" in decoding) {
    answer.destroy();
    const reason = tunnel.swap.maskText(`${tunnel.label} answered in the ${describeUntrusted(decoding.unknown)} encoding, which cordon cannot decode to mask secrets in it; the answer was not passed on`);
    tunnel.report({ type: "exchange-refused", host: tunnel.host, reason });
    response.writeHead(502, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end(`cordon: ${reason}. Ask for an uncompressed answer, or gzip, deflate or br.\n`);
    return;
  }
  // Everything that comes back is masked: status text, header names and
  // values, and the decoded body. An echoing server must not be a way to
  // read a real value.
  const headers: string[] = [];
  for (let i = 0; i < answer.rawHeaders.length; i += 2) {
    const name = answer.rawHeaders[i] ?? "";
    if (NOT_RETURNED.has(name.toLowerCase())) continue;
    headers.push(tunnel.swap.maskText(name), tunnel.swap.maskText(answer.rawHeaders[i + 1] ?? ""));
  }
  response.writeHead(status, tunnel.swap.maskText(answer.statusMessage ?? ""), headers);
  answer.on("data", (chunk: Buffer) => (tunnel.counts.bytesDown += chunk.length));
  if (bodiless) {
    answer.resume();
    response.end();
    return;
  }
  await pipeline([answer, ...decoding.decoders, tunnel.swap.maskStream(), response]);
}

function refuseTarget(tunnel: InterceptedTunnel, target: string, response: http.ServerResponse): void {
  const shown = describeUntrusted(target);
  let named: string | undefined;
  try {
    named = new URL(target).hostname || undefined;
  } catch { /* not a URL: authority-form or garbage */ }
  for (const secret of tunnel.swap.placeholdersIn(target)) {
    tunnel.report({ type: "secret-exfiltration", name: secret.name, host: describeUntrusted(named ?? target), where: "url" });
  }
  const reason = `a request inside the tunnel to ${tunnel.label} named its target as "${shown}"; only origin-form targets (a path, such as /v1/items) are accepted there`;
  tunnel.report({ type: "exchange-refused", host: tunnel.host, reason });
  response.writeHead(400, { "content-type": "text/plain; charset=utf-8", connection: "close" })
    .end(`cordon: ${reason}. Send the request to the host it names, with only the path in the request line.\n`);
}

function describeUpstreamError(tunnel: InterceptedTunnel, error: NodeJS.ErrnoException): Error {
  const code = String(error.code ?? error.message);
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code)) {
    tunnel.report({ type: "upstream-certificate", host: tunnel.host, reason: `its certificate did not verify (${code})` });
    return new Error(`the real ${tunnel.host} presented a certificate that did not verify against this machine's trust store (${error.code}); nothing was sent`);
  }
  return error;
}
