import https from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { UPSTREAM_HANDSHAKE_TIMEOUT_MS } from "../proxy-limits.js";
import type { OpenUpstream } from "../tunnel.js";

/**
 * Upstream connections for one intercepted tunnel: TCP through the proxy's
 * checked addresses, then TLS verified against the host's trust store, with
 * the real host name (SNI and certificate name). Kept alive across the
 * client's requests, one at a time (the client's are served one at a time).
 * destroy() ends every connection it made, including one still in its
 * handshake, which a plain Agent does not know about yet.
 */
export class UpstreamAgent extends https.Agent {
  readonly servername: string | undefined;
  readonly #open: OpenUpstream;
  readonly #ca: readonly string[];
  readonly #made = new Set<Socket>();
  #destroyed = false;

  constructor(host: string, open: OpenUpstream, ca: readonly string[]) {
    super({ keepAlive: true, maxSockets: 1 });
    this.servername = /^[\d.]+$|:/.test(host) ? undefined : host;
    this.#open = open;
    this.#ca = ca;
  }

  override createConnection(options: https.RequestOptions, callback?: (error: Error | null, socket: Duplex) => void): Duplex | undefined {
    const fail = (error: Error): void => callback?.(error, undefined as unknown as Duplex);
    this.#open().then(
      (socket) => {
        this.#made.add(socket);
        socket.once("close", () => this.#made.delete(socket));
        if (this.#destroyed) {
          socket.destroy();
          fail(new Error("the tunnel closed"));
          return;
        }
        const secure = tls.connect({
          socket,
          host: options.host ?? undefined,
          servername: this.servername,
          ca: [...this.#ca],
          rejectUnauthorized: true,
          ALPNProtocols: ["http/1.1"],
        });
        // A server that accepts TCP and never finishes TLS is dropped.
        const timer = setTimeout(
          () => secure.destroy(Object.assign(new Error(`TLS handshake timed out after ${UPSTREAM_HANDSHAKE_TIMEOUT_MS} ms`), { code: "ETIMEDOUT" })),
          UPSTREAM_HANDSHAKE_TIMEOUT_MS,
        );
        secure.once("close", () => clearTimeout(timer));
        secure.once("secureConnect", () => {
          clearTimeout(timer);
          callback?.(null, secure);
        });
        secure.once("error", fail);
      },
      fail,
    );
    return undefined;
  }

  override destroy(): void {
    this.#destroyed = true;
    super.destroy();
    for (const socket of this.#made) socket.destroy();
  }
}
