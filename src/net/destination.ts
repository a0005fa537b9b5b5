import { isIPv6 } from "node:net";
import { normalizeHostName, normalizeIp } from "../policy/net-grant.js";

/**
 * Where a sandboxed program asked to go, normalized once at the proxy's edge
 * with the same rules as `--allow-net` grants, so the two compare byte for
 * byte: lower-case ASCII names without a trailing dot, canonical addresses.
 */
export type Destination =
  | { kind: "name"; host: string; port: number }
  | { kind: "ip"; address: string; family: 4 | 6; port: number };

/** A destination from a host text and a port; undefined when either is not valid. */
export function toDestination(hostText: string, port: number): Destination | undefined {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const ip = normalizeIp(hostText);
  if (ip) return { kind: "ip", ...ip, port };
  const host = normalizeHostName(hostText);
  return host === undefined ? undefined : { kind: "name", host, port };
}

/**
 * Parses an authority (`host:port`, `[v6]:port`, or `host` when a default
 * port applies) strictly: no user info, no percent-encoding, no numeric
 * shorthands such as `127.1` or `0x7f.1` (they are not valid names either).
 */
export function parseAuthority(text: string, defaultPort: number | undefined): Destination | undefined {
  if (text.length === 0 || text.length > 300 || /[^A-Za-z0-9.\-_:[\]]/.test(text)) return undefined;
  let hostText: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return undefined;
    hostText = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) return undefined;
    portText = rest === "" ? undefined : rest.slice(1);
    // Brackets are for IPv6 only.
    if (!isIPv6(hostText)) return undefined;
  } else {
    const colon = text.indexOf(":");
    if (colon !== text.lastIndexOf(":")) return undefined;
    hostText = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  if (portText !== undefined && !/^\d{1,5}$/.test(portText)) return undefined;
  const port = portText === undefined ? defaultPort : Number(portText);
  return port === undefined ? undefined : toDestination(hostText, port);
}

/** `host:port` as shown to people and in events (`[v6]:port` for IPv6). */
export function destinationLabel(destination: Destination): string {
  return `${destinationHost(destination)}:${destination.port}`;
}

export function destinationHost(destination: Destination): string {
  if (destination.kind === "name") return destination.host;
  return destination.family === 6 ? `[${destination.address}]` : destination.address;
}

export function sameDestination(a: Destination, b: Destination): boolean {
  return destinationLabel(a) === destinationLabel(b);
}

/**
 * Text from the sandbox that could not be parsed, made safe for a terminal,
 * a log or a report: printable ASCII only (anything else is \u-escaped), and
 * short.
 */
export function describeUntrusted(text: string): string {
  const clipped = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return clipped.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
