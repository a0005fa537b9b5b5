import "reflect-metadata";
import { isIP } from "node:net";
import { webcrypto, X509Certificate as NodeX509Certificate, createPrivateKey } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";
import { AsnConvert } from "@peculiar/asn1-schema";
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints } from "@peculiar/asn1-x509";
import * as x509 from "@peculiar/x509";

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const MINUTE = 60_000;

type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface MintedCertificate {
  host: string;
  certificatePem: string;
  context: SecureContext;
}

/** Distinct names a sandbox can make an any-name CA sign for; past it, the name asked for first is forgotten. */
const MAX_MINTED_ANY = 512;

/**
 * A certificate authority that lives for one sandbox: created in memory when
 * the sandbox starts (ECDSA P-256, valid for hours, never written to disk by
 * cordon), trusted only inside that sandbox. `create(hosts)` (the secrets'
 * CA) signs only for the hosts its secrets are bound to, and says so in a
 * critical name constraint: even a CA key that leaked could not impersonate
 * any other site. `forAnyName()` (the observation sinkhole's CA) signs for
 * whatever a sandbox asks, with ordinary-looking names; that is safe only
 * because of where it is trusted: inside one sandbox whose every connection
 * ends at the sinkhole anyway.
 */
export class SandboxCertificateAuthority {
  readonly certificatePem: string;
  readonly #caKeys: CryptoKeyPair;
  readonly #leafKeys: CryptoKeyPair;
  readonly #leafKeyPem: string;
  readonly #caCertificate: x509.X509Certificate;
  /** The names it signs for, or "any" (the sinkhole's). */
  readonly #hosts: ReadonlySet<string> | "any";
  /** The leaf subject for an IP address. */
  readonly #ipCommonName: string;
  readonly #authorityKeyId: x509.AuthorityKeyIdentifierExtension;
  readonly #minted = new Map<string, Promise<MintedCertificate>>();

  private constructor(
    caKeys: CryptoKeyPair,
    leafKeys: CryptoKeyPair,
    leafKeyPem: string,
    ca: x509.X509Certificate,
    hosts: ReadonlySet<string> | "any",
    authorityKeyId: x509.AuthorityKeyIdentifierExtension,
    ipCommonName: string,
  ) {
    this.#ipCommonName = ipCommonName;
    this.#authorityKeyId = authorityKeyId;
    this.#caKeys = caKeys;
    this.#leafKeys = leafKeys;
    this.#leafKeyPem = leafKeyPem;
    this.#caCertificate = ca;
    this.certificatePem = ca.toString("pem");
    this.#hosts = hosts;
  }

  /** Creates a CA that can sign for exactly `hosts` (lower-case names or IP literals). */
  static async create(hosts: readonly string[], lifetimeMs = 12 * 60 * MINUTE): Promise<SandboxCertificateAuthority> {
    const dnsNames = hosts.filter((h) => isIP(h) === 0);
    const constraint = dnsNames.length > 0 && dnsNames.length === hosts.length ? [nameConstraints(dnsNames)] : [];
    return SandboxCertificateAuthority.#make(new Set(hosts), "CN=cordon sandbox CA, O=cordon", "cordon", constraint, lifetimeMs);
  }

  /**
   * A CA that signs for any name (the observation sinkhole's), under an
   * ordinary-looking issuer: payloads that refuse to run behind an
   * interception proxy look for names like "cordon", "mitmproxy", "Fiddler".
   */
  static forAnyName(lifetimeMs = 2 * 60 * MINUTE): Promise<SandboxCertificateAuthority> {
    return SandboxCertificateAuthority.#make("any", "CN=Internal Root CA 2, O=Corporate IT", "server", [], lifetimeMs);
  }

  static async #make(
    hosts: ReadonlySet<string> | "any",
    name: string,
    ipCommonName: string,
    extraExtensions: readonly x509.Extension[],
    lifetimeMs: number,
  ): Promise<SandboxCertificateAuthority> {
    const [caKeys, leafKeys] = await Promise.all([
      webcrypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]) as Promise<CryptoKeyPair>,
      webcrypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]) as Promise<CryptoKeyPair>,
    ]);
    const now = Date.now();
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name,
      notBefore: new Date(now - 5 * MINUTE),
      notAfter: new Date(now + lifetimeMs),
      signingAlgorithm: SIGNING,
      keys: caKeys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
        ...extraExtensions,
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", leafKeys.privateKey);
    const leafKeyPem = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" }).export({ format: "pem", type: "pkcs8" }).toString();
    const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey);
    return new SandboxCertificateAuthority(caKeys, leafKeys, leafKeyPem, ca, hosts, authorityKeyId, ipCommonName);
  }

  /** The TLS context presented to the sandbox for `host`; minted once per host. */
  contextFor(host: string): Promise<MintedCertificate> {
    if (this.#hosts !== "any" && !this.#hosts.has(host)) return Promise.reject(new Error(`cordon's sandbox CA does not sign for ${host}`));
    let minted = this.#minted.get(host);
    if (!minted) {
      if (this.#hosts === "any" && this.#minted.size >= MAX_MINTED_ANY) this.#minted.delete(this.#minted.keys().next().value as string);
      minted = this.#mint(host);
      this.#minted.set(host, minted);
    }
    return minted;
  }

  async #mint(host: string): Promise<MintedCertificate> {
    const now = Date.now();
    const ip = isIP(host) !== 0;
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${ip ? this.#ipCommonName : host}`,
      issuer: this.#caCertificate.subject,
      notBefore: new Date(now - 5 * MINUTE),
      notAfter: this.#caCertificate.notAfter,
      signingAlgorithm: SIGNING,
      publicKey: this.#leafKeys.publicKey,
      signingKey: this.#caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: ip ? "ip" : "dns", value: host }]),
        this.#authorityKeyId,
      ],
    });
    const certificatePem = leaf.toString("pem");
    const context = createSecureContext({
      key: this.#leafKeyPem,
      cert: `${certificatePem}\n${this.certificatePem}\n`,
      minVersion: "TLSv1.2",
    });
    return { host, certificatePem, context };
  }

  /** For tests and doctor: the CA as Node parses it. */
  parsed(): NodeX509Certificate {
    return new NodeX509Certificate(this.certificatePem);
  }
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive INTEGER
  return Buffer.from(bytes).toString("hex");
}

/** RFC 5280 name constraints: the CA may sign for exactly these DNS names. */
function nameConstraints(dnsNames: readonly string[]): x509.Extension {
  const permitted = new GeneralSubtrees(dnsNames.map((name) => new GeneralSubtree({ base: new GeneralName({ dNSName: name }) })));
  const value = AsnConvert.serialize(new NameConstraints({ permittedSubtrees: permitted }));
  return new x509.Extension("2.5.29.30", true, value);
}
