import type { NetGrant } from "../../policy/net-grant.js";
import type { AuthorizedTarget, TunnelHandler } from "../tunnel.js";
import { SandboxCertificateAuthority } from "../tls/certificate-authority.js";
import { secretInterceptor, type SecretEvent } from "./intercept.js";
import { resolveSecrets } from "./resolve-secrets.js";
import type { SecretGrant } from "./secret-grant.js";
import { hostTrustStore, sandboxTrust, type GeneratedFile } from "./trust.js";

/** What the engine adds to one sandbox for its secrets. */
export interface SandboxSecrets {
  /** NAME=placeholder for each secret, and the CA trust variables. */
  env: Map<string, string>;
  /** The sandbox CA, bound into the standard trust places. */
  files: GeneratedFile[];
  /** The secrets' names and the hosts they are bound to (for the plan). */
  bindings: { name: string; hosts: string[] }[];
  /** For the egress proxy: intercept tunnels to hosts that carry a secret. */
  tunnelFor: (target: AuthorizedTarget) => TunnelHandler | undefined;
  /** Reports a placeholder smuggled in a destination's name (DNS-style exfiltration). */
  inspectDestination(host: string): void;
}

/**
 * Prepares a sandbox's secrets: values read and checked before anything runs,
 * a placeholder per secret, a CA minted for this sandbox (in memory, signing
 * only for the secrets' hosts), and the interceptor that puts the real values
 * on the wire for those hosts only.
 */
export async function prepareSandboxSecrets(
  grants: readonly SecretGrant[],
  hostEnv: NodeJS.ProcessEnv,
  netGrants: readonly NetGrant[],
  onEvent: ((event: SecretEvent) => void) | undefined,
): Promise<SandboxSecrets> {
  const secrets = resolveSecrets(grants, hostEnv, netGrants);
  const hosts = [...new Set(secrets.flatMap((s) => s.hosts))];
  const ca = await SandboxCertificateAuthority.create(hosts);
  // The hosts are known now: mint their certificates while the sandbox
  // starts, so no request waits for one. (Failures surface on first use.)
  for (const host of hosts) ca.contextFor(host).catch(() => {});
  const trust = sandboxTrust(ca.certificatePem);
  const env = new Map(trust.env);
  for (const secret of secrets) env.set(secret.name, secret.placeholder);
  return {
    env,
    files: trust.files,
    bindings: secrets.map((s) => ({ name: s.name, hosts: [...s.hosts] })),
    tunnelFor: secretInterceptor({ ca, secrets, upstreamCa: hostTrustStore(), onEvent }),
    inspectDestination: (host) => {
      const lower = host.toLowerCase();
      for (const secret of secrets) {
        if (lower.includes(secret.placeholder.toLowerCase())) onEvent?.({ type: "secret-exfiltration", name: secret.name, host, where: "host name" });
      }
    },
  };
}
