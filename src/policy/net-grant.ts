import { isIPv4, isIPv6 } from "node:net";
import { domainToASCII } from "node:url";
import { ConfigError } from "../errors.js";

/**
 * One `--allow-net` entry, normalized (Deno's grammar): a host name, a
 * `*.domain` wildcard, an IPv4 address or an IPv6 address, each with an
 * optional port. `port: undefined` means any port.
 */
export type NetGrant =
  | { kind: "host"; host: string; port: number | undefined }
  | { kind: "wildcard"; suffix: string; port: number | undefined }
  | { kind: "ip"; address: string; family: 4 | 6; port: number | undefined };

const ACCEPTED_FORMS =
  "Accepted forms: host, host:port, *.domain (not *.com), an IPv4 address, [IPv6], each with an optional :port, e.g. --allow-net=api.example.com,*.example.org,10.0.0.5:8080,[::1]:3000.";

export function parseNetGrants(entries: readonly string[]): NetGrant[] {
  return entries.flatMap((entry) => entry.split(",")).map((item) => parseNetGrant(item.trim()));
}

export function parseNetGrant(entry: string): NetGrant {
  const fail = (rule: string): never => {
    throw new ConfigError(`--allow-net: "${entry}" ${rule}.`, { input: "--allow-net", hint: ACCEPTED_FORMS });
  };
  if (entry === "") fail("is empty");
  if (entry.includes("://") || entry.includes("/")) fail("is a URL or a path, not a host");
  if (entry === "*") fail("would allow every host; cordon grants hosts by name");

  let hostPart = entry;
  let port: number | undefined;
  if (entry.startsWith("[")) {
    const close = entry.indexOf("]");
    if (close < 0) fail("opens an IPv6 bracket that is not closed");
    hostPart = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) fail("has text after the IPv6 address");
      port = parsePort(rest.slice(1), fail);
    }
    const address = normalizeIp(hostPart);
    if (!address) return fail("is not a valid IPv6 address");
    return { kind: "ip", ...address, port };
  }
  const colons = entry.split(":").length - 1;
  if (colons > 1) fail("looks like an IPv6 address without brackets; write it as [address] or [address]:port");
  if (colons === 1) {
    const at = entry.lastIndexOf(":");
    hostPart = entry.slice(0, at);
    port = parsePort(entry.slice(at + 1), fail);
  }
  const ip = normalizeIp(hostPart);
  if (ip) return { kind: "ip", ...ip, port };
  if (hostPart.startsWith("*.")) {
    const suffix = normalizeHostName(hostPart.slice(2));
    if (!suffix) return fail("is not a valid wildcard");
    if (!suffix.includes(".")) fail("is a wildcard over a whole top-level domain");
    return { kind: "wildcard", suffix, port };
  }
  if (hostPart.includes("*")) fail("has a * that is not a leading *. label");
  const host = normalizeHostName(hostPart);
  if (!host) return fail("is not a valid host name");
  return { kind: "host", host, port };
}

function parsePort(text: string, fail: (rule: string) => never): number {
  if (!/^\d{1,5}$/.test(text)) fail("has a port that is not a number");
  const port = Number(text);
  if (port < 1 || port > 65535) fail("has a port outside 1-65535");
  return port;
}

/**
 * Lower-cases, strips one trailing dot and converts international names to
 * their ASCII (punycode) form, so grants and requests compare byte for byte.
 * Returns undefined for anything that is not a syntactically valid DNS name.
 */
export function normalizeHostName(name: string): string | undefined {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  if (trimmed === "" || trimmed.length > 253) return undefined;
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (ascii === "") return undefined;
  const labels = ascii.split(".");
  const valid = labels.every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label));
  // An all-numeric last label would make "1.2.3" ambiguous with an address.
  if (!valid || /^\d+$/.test(labels[labels.length - 1] ?? "")) return undefined;
  return ascii;
}

/**
 * Normalizes an IP literal: IPv6 compressed and lower-cased, IPv4-mapped IPv6
 * (::ffff:a.b.c.d) folded to IPv4 so one address has one spelling.
 */
export function normalizeIp(text: string): { address: string; family: 4 | 6 } | undefined {
  if (isIPv4(text)) return { address: text.split(".").map(Number).join("."), family: 4 };
  const bare = text.includes("%") ? undefined : text;
  if (!bare || !isIPv6(bare)) return undefined;
  const canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const high = parseInt(mapped[1] ?? "0", 16);
    const low = parseInt(mapped[2] ?? "0", 16);
    return { address: [high >> 8, high & 255, low >> 8, low & 255].join("."), family: 4 };
  }
  return { address: canonical, family: 6 };
}
