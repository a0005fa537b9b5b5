import net, { type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Destination } from "./destination.js";
import type { ResolvedAddress } from "./egress-gate.js";
import { FLUSH_GRACE_MS, UPSTREAM_HANDSHAKE_TIMEOUT_MS } from "./proxy-limits.js";

export interface TransferCounts {
  bytesUp: number;
  bytesDown: number;
}

/** A destination the gate allowed, with the only addresses the proxy may connect to. */
export interface AuthorizedTarget {
  destination: Destination;
  addresses: readonly ResolvedAddress[];
}

/** Opens the upstream connection for an authorized target (to the checked addresses, never re-resolved). */
export type OpenUpstream = () => Promise<Socket>;

/**
 * What happens to a tunnel's bytes once the client is told it is connected.
 * The default copies them both ways untouched. Issue 6 (secrets) slots a TLS
 * terminating handler in here for the hosts a secret is bound to, chosen per
 * target by `EgressProxyOptions.tunnelFor`.
 */
export type TunnelHandler = (client: Duplex, target: AuthorizedTarget, openUpstream: OpenUpstream) => Promise<TransferCounts>;

/**
 * Connects to the first address that answers, in the order the resolver gave
 * them. The addresses are the ones the gate checked: connecting by name here
 * would let a second DNS answer slip past the rebinding guard. `track` sees
 * every socket as soon as it exists, so a proxy that closes meanwhile can
 * end a connection that is still being made.
 */
export async function connectUpstream(addresses: readonly ResolvedAddress[], port: number, track: (socket: Socket) => void = () => {}): Promise<Socket> {
  let lastError: unknown = new Error("no address to connect to");
  for (const { address, family } of addresses) {
    try {
      return await connectOne(address, family, port, track);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function connectOne(host: string, family: 4 | 6, port: number, track: (socket: Socket) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, family, port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(
      () => socket.destroy(Object.assign(new Error(`connect timed out after ${UPSTREAM_HANDSHAKE_TIMEOUT_MS} ms`), { code: "ETIMEDOUT" })),
      UPSTREAM_HANDSHAKE_TIMEOUT_MS,
    );
    const failed = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    // Destroyed without an error: the proxy closed while connecting.
    const closed = (): void => failed(Object.assign(new Error("the proxy closed while connecting"), { code: "ECONNABORTED" }));
    socket.once("error", failed);
    socket.once("close", closed);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", failed);
      socket.off("close", closed);
      resolve(socket);
    });
    track(socket);
  });
}

/** Copies bytes both ways until both sides are done; counts them. Half-closes are passed on. */
export function spliceTunnel(client: Duplex, upstream: Duplex): Promise<TransferCounts> {
  return new Promise((resolve) => {
    const counts: TransferCounts = { bytesUp: 0, bytesDown: 0 };
    // The client may have gone while the upstream connection was being made.
    if (client.destroyed || upstream.destroyed) {
      client.destroy();
      upstream.destroy();
      resolve(counts);
      return;
    }
    let open = 2;
    const done = (): void => {
      open -= 1;
      if (open === 0) resolve(counts);
    };
    const fail = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => (counts.bytesUp += chunk.length));
    upstream.on("data", (chunk: Buffer) => (counts.bytesDown += chunk.length));
    client.on("error", fail);
    upstream.on("error", fail);
    client.once("close", () => {
      endAfterFlush(upstream);
      done();
    });
    upstream.once("close", () => {
      endAfterFlush(client);
      done();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
}

/**
 * Ends a socket whose peer connection is gone: what it was given may still
 * flush, for FLUSH_GRACE_MS at most. A peer that never reads would otherwise
 * keep it (and its descriptor) open for as long as it likes.
 */
export function endAfterFlush(socket: Duplex): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), FLUSH_GRACE_MS);
  socket.once("close", () => clearTimeout(timer));
  if (socket instanceof net.Socket) socket.destroySoon();
  else socket.end();
}

/** Error text fit for an event or a proxy's error page (a code, not a stack). */
export function describeConnectError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
