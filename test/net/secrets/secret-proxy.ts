import https from "node:https";
import net, { type AddressInfo } from "node:net";
import tls from "node:tls";
import { EgressProxy } from "../../../src/net/egress-proxy.js";
import type { EgressEvent } from "../../../src/net/events.js";
import { secretInterceptor, type SecretEvent } from "../../../src/net/secrets/intercept.js";
import { resolveSecrets } from "../../../src/net/secrets/resolve-secrets.js";
import { secretsFromRecord } from "../../../src/net/secrets/secret-grant.js";
import { SandboxCertificateAuthority } from "../../../src/net/tls/certificate-authority.js";
import { parseNetGrants } from "../../../src/policy/net-grant.js";

/**
 * A loopback HTTPS "API" with a certificate from its own test CA, for any of
 * `names` (by SNI). cordon's upstream check is given that CA, as a user's
 * trust store would hold a real API's.
 */
export async function startTestApi(names: readonly string[], handler: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void): Promise<{ port: number; caPem: string; server: https.Server; close(): Promise<void> }> {
  const ca = await SandboxCertificateAuthority.create(names);
  const contexts = new Map(await Promise.all(names.map(async (name) => [name, (await ca.contextFor(name)).context] as const)));
  const server = https.createServer({ SNICallback: (name, callback) => callback(null, contexts.get(name) ?? contexts.get(names[0]!)!) }, handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caPem: ca.certificatePem,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface SecretProxy {
  port: number;
  /** The sandbox CA: what a sandboxed client trusts. */
  caPem: string;
  placeholder(name: string): string;
  secretEvents: SecretEvent[];
  egressEvents: EgressEvent[];
  proxy: EgressProxy;
}

/**
 * cordon's egress proxy with the secrets interceptor, as the engine wires
 * them, listening on host loopback: secrets are resolved by the real
 * resolver and every tunnel to their hosts is intercepted with real TLS.
 */
export async function startSecretProxy(options: {
  grants: string[];
  pins: ReadonlyMap<string, string>;
  upstreamCa: readonly string[];
  secrets: Record<string, { value: string; hosts: string[] }>;
}): Promise<SecretProxy> {
  const grants = parseNetGrants(options.grants);
  const secrets = resolveSecrets(secretsFromRecord(options.secrets), {}, grants);
  const ca = await SandboxCertificateAuthority.create([...new Set(secrets.flatMap((s) => s.hosts))]);
  const secretEvents: SecretEvent[] = [];
  const egressEvents: EgressEvent[] = [];
  const proxy = new EgressProxy({
    grants,
    resolve: options.pins,
    onEvent: (event) => egressEvents.push(event),
    tunnelFor: secretInterceptor({ ca, secrets, upstreamCa: options.upstreamCa, onEvent: (event) => secretEvents.push(event) }),
  });
  const { port } = await proxy.listen();
  return {
    port,
    caPem: ca.certificatePem,
    placeholder: (name) => secrets.find((s) => s.name === name)!.placeholder,
    secretEvents,
    egressEvents,
    proxy,
  };
}

/** A sandboxed client's TLS connection to `host:port` through the proxy (CONNECT, then TLS trusting the sandbox CA). */
export function tlsThroughProxy(proxyPort: number, host: string, port: number, caPem: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, "127.0.0.1", () => socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`));
    socket.once("error", reject);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      if (!/^HTTP\/1.1 200/.test(head.toString("latin1"))) {
        socket.destroy();
        reject(new Error(`CONNECT refused: ${head.toString("latin1")}`));
        return;
      }
      const secure = tls.connect({ socket, servername: host, ca: caPem });
      secure.once("secureConnect", () => resolve(secure));
      secure.once("error", reject);
    };
    socket.on("data", onData);
  });
}

/** Writes raw bytes on a connection and collects every byte back until it closes. */
export function rawExchange(socket: tls.TLSSocket, request: string | Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.once("close", () => resolve(Buffer.concat(chunks)));
    socket.write(request);
  });
}
