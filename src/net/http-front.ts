import http from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { describeUntrusted, parseAuthority } from "./destination.js";
import { forwardAbsoluteForm } from "./http-forward.js";
import { serveOneAtATime } from "./one-at-a-time.js";
import { MAX_WAITING_REQUESTS } from "./proxy-limits.js";
import { runTunnel, type EgressContext } from "./tunnel-session.js";

/**
 * The proxy's HTTP side, on Node's own HTTP server: its strict parser reads
 * every request (CONNECT and absolute-form), so cordon never interprets
 * request framing itself.
 */
export function createHttpFront(context: EgressContext): http.Server {
  const server = http.createServer({
    // The default, stated: lenient parsing is how smuggling gets in.
    insecureHTTPParser: false,
    requireHostHeader: true,
    maxHeaderSize: 16 * 1024,
    headersTimeout: 30_000,
    // Long uploads through absolute-form are legitimate; headers are bounded above.
    requestTimeout: 0,
    keepAliveTimeout: 5_000,
  });
  server.on("connect", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const client = socket as Socket;
    if (head.length > 0) client.unshift(head);
    const destination = parseAuthority(req.url ?? "", undefined);
    const request = destination
      ? { destination }
      : { destination: undefined, rawHost: req.url ?? "", port: 0, reason: "CONNECT needs host:port" };
    context.track(runTunnel(context, client, request, "http-connect", {
      connected: () => client.write("HTTP/1.1 200 Connection Established\r\n\r\n"),
      refused: (kind, message) => {
        const status = kind === "blocked" ? "403 Forbidden" : kind === "invalid" ? "400 Bad Request" : "502 Bad Gateway";
        const body = `${message}\n`;
        client.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      },
    }));
  });
  serveOneAtATime(server, {
    maxWaiting: MAX_WAITING_REQUESTS,
    serve: (req, res) => context.track(forwardAbsoluteForm(context, req, res)),
    overflow: (req) => {
      const now = Date.now();
      context.emit({
        type: "blocked", protocol: "http-forward", host: describeUntrusted(req.headers.host ?? "(no host)"), port: 0, bytesUp: 0, bytesDown: 0,
        durationMs: 0, startedAt: now, grantHint: undefined,
        reason: `more than ${MAX_WAITING_REQUESTS} pipelined requests waiting on one connection; the connection was closed (send them one after another, or on several connections)`,
      });
    },
  });
  // Upgrades in absolute form (ws://) are not forwarded; clients tunnel them with CONNECT.
  server.on("upgrade", (_req: http.IncomingMessage, socket: Duplex) => {
    socket.end("HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A client hanging up is not news; a request the parser refused is.
    if (!error.code?.startsWith("HPE_") || !socket.writable) {
      socket.destroy();
      return;
    }
    const now = Date.now();
    context.emit({
      type: "blocked", protocol: "http-forward", host: "(malformed request)", port: 0, bytesUp: 0, bytesDown: 0,
      durationMs: 0, startedAt: now, reason: `rejected by the HTTP parser (${error.code ?? "invalid request"})`, grantHint: undefined,
    });
    socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  return server;
}
