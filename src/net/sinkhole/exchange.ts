/** How a sandboxed client reached the sinkhole. */
export type SinkholeVia = "http-proxy" | "connect" | "socks5" | "direct";

/**
 * What one exchange was, once the first bytes were read: plain HTTP, HTTPS
 * the sinkhole decrypted, TLS the client refused to finish with the
 * sinkhole's certificate (a pinned or private trust store; only the host
 * is known), or bytes that are neither (a raw channel).
 */
export type SinkholeKind = "http" | "https" | "tls-refused" | "raw";

/**
 * One request (or one raw channel) a sandbox sent into the sinkhole,
 * recorded as sent. Every string here is sandbox text: hostile.
 */
export interface SinkholeExchange {
  id: number;
  via: SinkholeVia;
  /** The destination as the client named it, normalized when it is a valid name or address, else made printable. */
  host: string;
  port: number;
  kind: SinkholeKind;
  /** The TLS server name the client asked for, when it sent one. */
  sni?: string;
  method?: string;
  /** The request target (path and query), as sent. */
  target?: string;
  /** Request headers in order, as sent. */
  headers?: readonly (readonly [string, string])[];
  /** The request body, or a raw channel's bytes, up to the recording limit. */
  sent: Buffer;
  /** Bytes sent in all (more than `sent` holds when the limit cut it). */
  sentBytes: number;
  /** For a raw channel: the line the sinkhole wrote into it (see SinkholeOptions.rawProbe). */
  probe?: string;
  startedAt: number;
}

/** What a request is answered with: status 200 and a small body unless said otherwise. */
export interface SinkholeAnswer {
  status?: number;
  contentType?: string;
  body: string | Buffer;
}

/** The request as the answer function sees it (before its body arrives). */
export interface SinkholeRequest {
  host: string;
  port: number;
  kind: "http" | "https";
  method: string;
  target: string;
  headers: readonly (readonly [string, string])[];
}
