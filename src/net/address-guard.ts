import { BlockList } from "node:net";

/**
 * Addresses a granted *name* must not lead to (the DNS-rebinding guard): a
 * name the user granted for the internet must not turn into a door to the
 * host's own services, the local network or the cloud's metadata endpoint
 * because its DNS answer says so. The address itself can still be granted.
 */
export type SpecialAddressKind =
  | "cloud metadata"
  | "unspecified"
  | "loopback"
  | "private"
  | "link-local"
  | "carrier-grade NAT"
  | "multicast"
  | "reserved"
  | "IPv6 transition";

const RANGES: ReadonlyArray<readonly [SpecialAddressKind, 4 | 6, string, number]> = [
  // Metadata first so the message names the real risk. 168.63.129.16 is
  // Azure's wire server and 100.100.100.200 Alibaba's metadata service:
  // both public-looking addresses.
  ["cloud metadata", 4, "169.254.169.254", 32],
  ["cloud metadata", 4, "169.254.170.2", 32],
  ["cloud metadata", 4, "168.63.129.16", 32],
  ["cloud metadata", 4, "100.100.100.200", 32],
  ["cloud metadata", 6, "fd00:ec2::254", 128],
  ["unspecified", 4, "0.0.0.0", 8],
  ["unspecified", 6, "::", 128],
  ["loopback", 4, "127.0.0.0", 8],
  ["loopback", 6, "::1", 128],
  ["private", 4, "10.0.0.0", 8],
  ["private", 4, "172.16.0.0", 12],
  ["private", 4, "192.168.0.0", 16],
  ["private", 6, "fc00::", 7],
  ["private", 6, "fec0::", 10],
  ["link-local", 4, "169.254.0.0", 16],
  ["link-local", 6, "fe80::", 10],
  ["carrier-grade NAT", 4, "100.64.0.0", 10],
  ["multicast", 4, "224.0.0.0", 4],
  ["multicast", 6, "ff00::", 8],
  ["reserved", 4, "240.0.0.0", 4],
  ["reserved", 4, "192.0.0.0", 24],
  ["reserved", 4, "198.18.0.0", 15],
  // Teredo and the deprecated IPv4-compatible form hide an IPv4 address
  // that is hard to check; nothing legitimate needs them through cordon.
  ["IPv6 transition", 6, "2001::", 32],
  ["IPv6 transition", 6, "::", 96],
];

const LISTS = new Map<SpecialAddressKind, BlockList>();
for (const [kind, family, network, prefix] of RANGES) {
  const list = LISTS.get(kind) ?? new BlockList();
  list.addSubnet(network, prefix, family === 4 ? "ipv4" : "ipv6");
  LISTS.set(kind, list);
}

/**
 * The kind of special-purpose address this is, or undefined for an ordinary
 * public address. Expects a normalized address (IPv4-mapped IPv6 already
 * folded to IPv4). NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are
 * judged by the IPv4 address they carry.
 */
export function specialAddressKind(address: string, family: 4 | 6): SpecialAddressKind | undefined {
  const type = family === 4 ? "ipv4" : "ipv6";
  for (const [kind, list] of LISTS) {
    if (list.check(address, type)) return kind;
  }
  if (family === 6) {
    const embedded = embeddedIpv4(address);
    if (embedded) return specialAddressKind(embedded, 4);
  }
  return undefined;
}

function embeddedIpv4(address: string): string | undefined {
  const words = expandIpv6(address);
  if (!words) return undefined;
  const quad = (high: number, low: number): string => [high >> 8, high & 255, low >> 8, low & 255].join(".");
  if (words[0] === 0x64 && words[1] === 0xff9b) return quad(words[6] ?? 0, words[7] ?? 0);
  if (words[0] === 0x2002) return quad(words[1] ?? 0, words[2] ?? 0);
  return undefined;
}

function expandIpv6(address: string): number[] | undefined {
  const [head = "", tail] = address.split("::");
  const parse = (part: string): number[] => (part === "" ? [] : part.split(":").map((w) => parseInt(w, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  if (address.includes(".")) return undefined;
  const missing = 8 - left.length - right.length;
  if (missing < 0) return undefined;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}
