import "reflect-metadata";
import { createPrivateKey, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import { createSecureContext, type SecureContext } from "node:tls";
import * as x509 from "@peculiar/x509";

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const MINUTE = 60_000;
/** Distinct names a sandbox can make the sinkhole sign for; past it, the name asked for first is forgotten. */
const MAX_MINTED = 512;

type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/**
 * The certificate authority of one observation sandbox: it signs for any
 * name the sandbox asks for, so every HTTPS request a package makes can be
 * read. Unlike the secrets' CA (tls/certificate-authority.ts), it has no
 * name constraint, and that is safe only because of where it is trusted:
 * inside one sandbox whose every connection ends at the sinkhole anyway.
 * It lives in memory for that sandbox's lifetime (hours at most), its key is
 * never written anywhere, and nothing outside that sandbox trusts it.
 */
export class SinkholeCertificateAuthority {
  readonly certificatePem: string;
  readonly #caKeys: CryptoKeyPair;
  readonly #caCertificate: x509.X509Certificate;
  readonly #leafKeys: CryptoKeyPair;
  readonly #leafKeyPem: string;
  readonly #authorityKeyId: x509.AuthorityKeyIdentifierExtension;
  readonly #minted = new Map<string, Promise<SecureContext>>();

  private constructor(caKeys: CryptoKeyPair, ca: x509.X509Certificate, leafKeys: CryptoKeyPair, leafKeyPem: string, authorityKeyId: x509.AuthorityKeyIdentifierExtension) {
    this.#caKeys = caKeys;
    this.#caCertificate = ca;
    this.#leafKeys = leafKeys;
    this.#leafKeyPem = leafKeyPem;
    this.#authorityKeyId = authorityKeyId;
    this.certificatePem = ca.toString("pem");
  }

  static async create(lifetimeMs = 2 * 60 * MINUTE): Promise<SinkholeCertificateAuthority> {
    const [caKeys, leafKeys] = await Promise.all([
      webcrypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]) as Promise<CryptoKeyPair>,
      webcrypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]) as Promise<CryptoKeyPair>,
    ]);
    const now = Date.now();
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      // An ordinary-looking issuer: payloads that refuse to run behind an
      // interception proxy look for names like "cordon", "mitmproxy", "Fiddler".
      name: "CN=Internal Root CA 2, O=Corporate IT",
      notBefore: new Date(now - 5 * MINUTE),
      notAfter: new Date(now + lifetimeMs),
      signingAlgorithm: SIGNING,
      keys: caKeys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", leafKeys.privateKey);
    const leafKeyPem = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" }).export({ format: "pem", type: "pkcs8" }).toString();
    const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey);
    return new SinkholeCertificateAuthority(caKeys, ca, leafKeys, leafKeyPem, authorityKeyId);
  }

  /** A TLS context for `host` (a normalized name or an IP literal), minted once. */
  contextFor(host: string): Promise<SecureContext> {
    let minted = this.#minted.get(host);
    if (!minted) {
      if (this.#minted.size >= MAX_MINTED) this.#minted.delete(this.#minted.keys().next().value as string);
      minted = this.#mint(host);
      this.#minted.set(host, minted);
    }
    return minted;
  }

  async #mint(host: string): Promise<SecureContext> {
    const ip = isIP(host) !== 0;
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${ip ? "server" : host}`,
      issuer: this.#caCertificate.subject,
      notBefore: new Date(Date.now() - 5 * MINUTE),
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
    return createSecureContext({ key: this.#leafKeyPem, cert: `${leaf.toString("pem")}\n${this.certificatePem}\n`, minVersion: "TLSv1.2" });
  }
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}
