import type { NetGrant } from "../policy/net-grant.js";
import { destinationHost, type Destination } from "./destination.js";

/**
 * The first grant that allows this destination, Deno's rules: a name grant
 * matches that exact name, `*.domain` matches names under the domain (not
 * the domain itself), an address grant matches that address only (never a
 * name that resolves to it), and a grant without a port allows every port.
 */
export function findGrant(grants: readonly NetGrant[], destination: Destination): NetGrant | undefined {
  return grants.find((grant) => grantMatchesHost(grant, destination) && portMatches(grant, destination.port));
}

/**
 * Whether some grant allows this host on at least one port (the
 * destination's port is ignored). A secret is bound to hosts, not ports;
 * the gate still checks each connection's port against the grants.
 */
export function hostGranted(grants: readonly NetGrant[], destination: Destination): boolean {
  return grants.some((grant) => grantMatchesHost(grant, destination));
}

/** Whether an address a granted name resolved to was itself granted. */
export function addressGranted(grants: readonly NetGrant[], address: string, port: number): boolean {
  return grants.some((grant) => grant.kind === "ip" && grant.address === address && portMatches(grant, port));
}

function grantMatchesHost(grant: NetGrant, destination: Destination): boolean {
  switch (grant.kind) {
    case "host":
      return destination.kind === "name" && destination.host === grant.host;
    case "wildcard":
      return destination.kind === "name" && destination.host.endsWith(`.${grant.suffix}`);
    case "ip":
      return destination.kind === "ip" && destination.address === grant.address;
  }
}

function portMatches(grant: NetGrant, port: number): boolean {
  return grant.port === undefined || grant.port === port;
}

/**
 * The `--allow-net` entry that allows this destination. The bare host (every
 * port, the usual wish) unless the user scopes this host to ports, in which
 * case the port is part of it.
 */
export function grantHintFor(grants: readonly NetGrant[], destination: Destination): string {
  const host = destinationHost(destination);
  const forHost = grants.filter((grant) => grantMatchesHost(grant, destination));
  const scoped = forHost.length > 0 && forHost.every((grant) => grant.port !== undefined);
  return scoped ? `--allow-net=${host}:${destination.port}` : `--allow-net=${host}`;
}
