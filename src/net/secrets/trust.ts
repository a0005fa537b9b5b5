import fs from "node:fs";

/** A file made for the sandbox, bound read-only at `path` inside. */
export interface GeneratedFile {
  path: string;
  content: string;
}

/** Where distributions keep the system CA bundle; the first that exists is the host's. */
const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem"];
/** Where the sandbox's own CA certificate is put. */
export const SANDBOX_CA_FILE = "/etc/cordon/sandbox-ca.pem";

/**
 * The host's trust store, as cordon verifies real servers against it: the
 * system bundle (or SSL_CERT_FILE), plus NODE_EXTRA_CA_CERTS when set.
 * Never the sandbox's CA, and no verification is ever switched off.
 */
export function hostTrustStore(env: NodeJS.ProcessEnv = process.env): string[] {
  const files = [env.SSL_CERT_FILE ?? SYSTEM_BUNDLES.find((f) => fs.existsSync(f)), env.NODE_EXTRA_CA_CERTS].filter((f): f is string => !!f);
  const pems: string[] = [];
  for (const file of files) {
    try {
      pems.push(...(fs.readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []));
    } catch { /* an unreadable bundle adds nothing */ }
  }
  return pems;
}

/**
 * Makes the sandbox trust its CA through every standard place: the system
 * bundle paths (host bundle + the CA, bound over the originals inside) and
 * the variables Node, OpenSSL, curl, Python requests, Deno and git read.
 */
export function sandboxTrust(caPem: string): { files: GeneratedFile[]; env: Map<string, string> } {
  const files: GeneratedFile[] = [{ path: SANDBOX_CA_FILE, content: caPem }];
  let combinedPath: string | undefined;
  for (const bundle of SYSTEM_BUNDLES) {
    if (!fs.existsSync(bundle)) continue;
    const real = fs.realpathSync(bundle);
    files.push({ path: real, content: `${fs.readFileSync(real, "utf8").trimEnd()}\n${caPem}\n` });
    combinedPath ??= bundle;
  }
  const bundle = combinedPath ?? SANDBOX_CA_FILE;
  const env = new Map<string, string>([
    ["NODE_EXTRA_CA_CERTS", SANDBOX_CA_FILE],
    ["SSL_CERT_FILE", bundle],
    ["REQUESTS_CA_BUNDLE", bundle],
    ["CURL_CA_BUNDLE", bundle],
    ["GIT_SSL_CAINFO", bundle],
    ["DENO_CERT", SANDBOX_CA_FILE],
  ]);
  return { files, env };
}
