/** How the sandboxed client reached the proxy. */
export type EgressProtocol = "http-connect" | "http-forward" | "socks5";

/**
 * One connection through the egress proxy (or one absolute-form HTTP
 * request, which is its own upstream exchange). Emitted once, when it ends.
 * `host` is a normalized name or address, never raw sandbox text.
 */
export interface EgressConnectionEvent {
  type: "allowed" | "blocked";
  protocol: EgressProtocol;
  host: string;
  port: number;
  /** The address the proxy connected to, when it did. */
  address?: string;
  /** Payload bytes from the sandbox to the destination, and back. */
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
  /** Why a connection was blocked, or why an allowed one failed upstream. */
  reason?: string;
  /** The exact `--allow-net=...` that would allow it; absent when no grant can (a malformed request). */
  grantHint: string | undefined;
  /** Wall-clock start, ms since the epoch. */
  startedAt: number;
}

/** Connections refused at the door because `maxConnections` were open; at most one per second. */
export interface EgressLimitEvent {
  type: "connection-limit";
  maxConnections: number;
  refusedSinceLast: number;
}

/**
 * Attempts to reach the network directly, around the proxy (a client that
 * ignores proxy variables): they fail closed, and their number is reported
 * once when the sandbox ends. The kernel counts them; it does not say where.
 */
export interface EgressBypassEvent {
  type: "bypassed";
  attempts: number;
}

export type EgressEvent = EgressConnectionEvent | EgressLimitEvent | EgressBypassEvent;

/**
 * Turns blocked events into one line per distinct destination, for cordon's
 * stderr: `cordon: blocked evil.example:443 — allow with --allow-net=evil.example`.
 * A program that retries a thousand times is reported once.
 */
export class BlockedDestinations {
  readonly #seen = new Set<string>();
  /** Past this many distinct destinations, the rest are counted, not kept (a flood of made-up names would grow cordon). */
  static readonly MAX_DISTINCT = 1_000;
  #unlisted = 0;

  /** The line to print for this event, or undefined when it is not news. */
  report(event: EgressEvent): string | undefined {
    if (event.type !== "blocked") return undefined;
    const shown = event.port === 0 ? event.host : `${event.host}:${event.port}`;
    const key = `${shown} ${event.grantHint ?? event.reason ?? ""}`;
    if (this.#seen.has(key)) return undefined;
    if (this.#seen.size >= BlockedDestinations.MAX_DISTINCT) {
      this.#unlisted += 1;
      return this.#unlisted === 1 ? `cordon: more than ${BlockedDestinations.MAX_DISTINCT} distinct destinations were blocked; the rest are not listed one by one` : undefined;
    }
    this.#seen.add(key);
    const why = event.grantHint ? `allow with ${event.grantHint}` : (event.reason ?? "refused");
    const note = event.grantHint && event.reason && !event.reason.startsWith("not granted") ? ` (${event.reason})` : "";
    return `cordon: blocked ${shown} — ${why}${note}`;
  }

  /** Every distinct blocked destination so far, as `host:port`. */
  get destinations(): string[] {
    return [...new Set([...this.#seen].map((key) => key.split(" ")[0] ?? key))];
  }
}
