import type { Socket } from "node:net";
import { describeUntrusted, destinationHost, destinationLabel, type Destination } from "./destination.js";
import type { EgressGate } from "./egress-gate.js";
import type { EgressConnectionEvent, EgressProtocol } from "./events.js";
import type { ResolvedAddress } from "./egress-gate.js";
import { describeConnectError, spliceTunnel, type AuthorizedTarget, type TransferCounts, type TunnelHandler } from "./tunnel.js";

/** What the proxy's front ends share: the gate, the event sink, the interception slot, the upstream sockets. */
export interface EgressContext {
  readonly gate: EgressGate;
  /** Connects to checked addresses; the proxy owns the socket and ends it when it closes. */
  openUpstream(addresses: readonly ResolvedAddress[], port: number): Promise<Socket>;
  emit(event: EgressConnectionEvent): void;
  tunnelFor: ((target: AuthorizedTarget) => TunnelHandler | undefined) | undefined;
  /** Keeps a session's promise until it settles, so close() can wait for its report. */
  track(session: Promise<void>): void;
}

/** How a front end (HTTP CONNECT or SOCKS5) answers its client. */
export interface TunnelReplies {
  connected(): void;
  /** Refuses and closes. `blocked`: policy; `unreachable`: allowed but no way there; `invalid`: a malformed request. */
  refused(kind: "blocked" | "unreachable" | "invalid", message: string): void;
}

export type TunnelRequest =
  | { destination: Destination }
  | { destination: undefined; rawHost: string; port: number; reason: string };

/**
 * One tunnel from request to close: ask the gate, connect to the checked
 * addresses, splice (or hand to an interceptor), and report it once.
 */
export async function runTunnel(context: EgressContext, client: Socket, request: TunnelRequest, protocol: EgressProtocol, replies: TunnelReplies): Promise<void> {
  const startedAt = Date.now();
  const started = performance.now();
  const report = (event: Omit<EgressConnectionEvent, "protocol" | "startedAt" | "durationMs">): void =>
    context.emit({ ...event, protocol, startedAt, durationMs: performance.now() - started });

  if (!request.destination) {
    report({ type: "blocked", host: describeUntrusted(request.rawHost), port: request.port, bytesUp: 0, bytesDown: 0, reason: request.reason, grantHint: undefined });
    replies.refused("invalid", `cordon: ${request.reason}`);
    return;
  }
  const decision = await context.gate.authorize(request.destination);
  const host = destinationHost(request.destination);
  const port = request.destination.port;
  if (decision.outcome === "blocked") {
    report({ type: "blocked", host, port, bytesUp: 0, bytesDown: 0, reason: decision.reason, grantHint: decision.grantHint });
    replies.refused("blocked", blockedMessage(request.destination, decision.grantHint, decision.reason));
    return;
  }
  if (decision.outcome === "unreachable") {
    report({ type: "allowed", host, port, bytesUp: 0, bytesDown: 0, reason: decision.reason, grantHint: decision.grantHint });
    replies.refused("unreachable", `cordon: ${decision.reason}`);
    return;
  }
  const target: AuthorizedTarget = { destination: decision.destination, addresses: decision.addresses };
  const handler = context.tunnelFor?.(target);
  let counts: TransferCounts;
  let address: string | undefined;
  try {
    if (handler) {
      replies.connected();
      counts = await handler(client, target, () => context.openUpstream(target.addresses, port));
    } else {
      const upstream = await context.openUpstream(target.addresses, port);
      address = upstream.remoteAddress;
      replies.connected();
      counts = await spliceTunnel(client, upstream);
    }
  } catch (error) {
    const reason = `connecting to ${destinationLabel(request.destination)} failed: ${describeConnectError(error)}`;
    report({ type: "allowed", host, port, bytesUp: 0, bytesDown: 0, reason, grantHint: decision.grantHint });
    replies.refused("unreachable", `cordon: ${reason}`);
    return;
  }
  report({ type: "allowed", host, port, address, ...counts, grantHint: decision.grantHint });
}

export function blockedMessage(destination: Destination, grantHint: string, reason: string): string {
  const note = reason === "not granted" ? "" : ` (${reason})`;
  return `cordon: blocked ${destinationLabel(destination)} — allow with ${grantHint}${note}`;
}
