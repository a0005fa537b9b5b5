import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import type { Honeytoken } from "./honeytokens.js";

/** A planted secret found in what a sandbox sent, and the encodings that were undone to see it. */
export interface Sighting {
  token: Honeytoken;
  /** Encodings undone, outermost first ("base64", "gzip+base64", "url"); "plain" when none. */
  encoding: string;
}

/** Layers of encoding undone, at most: base64 of gzip of hex is three. */
const MAX_DEPTH = 3;
/** Bytes decoded per search, over all layers: a body cannot make the search itself expensive. */
const DECODE_BUDGET = 16 * 1024 ** 2;
const MAX_RUNS_PER_VIEW = 256;
const BASE64_RUN = /[A-Za-z0-9+/_-]{20,}={0,2}/g;
const HEX_RUN = /(?:[0-9a-fA-F]{2}){10,}/g;

interface View {
  bytes: Buffer;
  chain: readonly string[];
}

/**
 * Looks for every honeytoken in bytes a sandbox sent, as they are and
 * after undoing what thieves wrap secrets in: base64 (standard and URL-safe,
 * at any alignment), hex, URL encoding, JSON `\u` escapes, gzip/deflate
 * (and brotli when the request said so), up to three layers, and reversed.
 * Encryption with a key of the thief's is not undone: that is a limit of
 * any observer, stated in docs/scan.md.
 */
export function findHoneytokens(data: Buffer, tokens: readonly Honeytoken[], options: { contentEncoding?: string } = {}): Sighting[] {
  const found = new Map<string, Sighting>();
  let budget = DECODE_BUDGET;
  const queue: View[] = [{ bytes: data, chain: [] }];
  const first = firstDecoding(data, options.contentEncoding);
  if (first) queue.push({ bytes: first.bytes, chain: [first.name] });
  while (queue.length > 0) {
    const view = queue.shift() as View;
    for (const token of tokens) {
      if (found.has(token.id)) continue;
      const how = matchIn(view.bytes, token);
      if (how) found.set(token.id, { token, encoding: [...view.chain, ...(how === "reversed" ? ["reversed"] : [])].join("+") || "plain" });
    }
    if (view.chain.length >= MAX_DEPTH || found.size === tokens.length) continue;
    for (const child of decodings(view.bytes)) {
      budget -= child.bytes.length;
      if (budget < 0) return [...found.values()];
      queue.push({ bytes: child.bytes, chain: [...view.chain, child.name] });
    }
  }
  return [...found.values()];
}

/**
 * Looks for honeytokens in a host name a sandbox asked for: DNS names are
 * case-insensitive and split into labels of at most 63 characters, so data
 * smuggled in one is lower-cased and cut up, and commonly hex or base32.
 */
export function findHoneytokensInHost(host: string, tokens: readonly Honeytoken[]): Sighting[] {
  const lower = host.toLowerCase();
  const joined = lower.split(".").join("");
  const views: View[] = [{ bytes: Buffer.from(lower), chain: [] }, { bytes: Buffer.from(joined), chain: ["labels joined"] }];
  for (const run of joined.match(/(?:[0-9a-f]{2}){10,}/g) ?? []) views.push({ bytes: Buffer.from(run, "hex"), chain: ["hex"] });
  for (const run of joined.match(/[a-z2-7]{16,}/g) ?? []) views.push({ bytes: base32(run), chain: ["base32"] });
  const found = new Map<string, Sighting>();
  for (const view of views) {
    for (const token of tokens) {
      if (found.has(token.id)) continue;
      const lowered = view.chain.length === 0 || view.chain[0] === "labels joined";
      const needles = [token.value, ...token.alsoAs].map((n) => (lowered ? n.toLowerCase() : n));
      if (needles.some((needle) => needle.length >= 12 && view.bytes.includes(needle))) {
        found.set(token.id, { token, encoding: view.chain.join("+") || "plain" });
      }
    }
  }
  return [...found.values()];
}

function matchIn(bytes: Buffer, token: Honeytoken): "plain" | "reversed" | undefined {
  const needles = [token.value, ...token.alsoAs];
  if (needles.some((needle) => bytes.includes(needle))) return "plain";
  if (needles.some((needle) => bytes.includes(needle.split("").reverse().join("")))) return "reversed";
  return undefined;
}

/** What the request itself says its body is compressed with, or what its first bytes show. */
function firstDecoding(data: Buffer, contentEncoding: string | undefined): { name: string; bytes: Buffer } | undefined {
  const encoding = contentEncoding?.toLowerCase().trim();
  if (encoding === "br") return attempt("brotli", () => brotliDecompressSync(data, { maxOutputLength: DECODE_BUDGET }));
  return undefined;
}

function* decodings(bytes: Buffer): Generator<{ name: string; bytes: Buffer }> {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const out = attempt("gzip", () => gunzipSync(bytes, { maxOutputLength: DECODE_BUDGET }));
    if (out) yield out;
  } else if (bytes[0] === 0x78 && (bytes[1] === 0x01 || bytes[1] === 0x5e || bytes[1] === 0x9c || bytes[1] === 0xda)) {
    const out = attempt("deflate", () => inflateSync(bytes, { maxOutputLength: DECODE_BUDGET }));
    if (out) yield out;
  }
  const text = bytes.toString("latin1");
  if (/%[0-9a-fA-F]{2}/.test(text)) yield { name: "url", bytes: Buffer.from(text.replace(/\+/g, " ").replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1") };
  if (/\\u[0-9a-fA-F]{4}/.test(text)) yield { name: "json escapes", bytes: Buffer.from(text.replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "utf8") };
  let runs = 0;
  for (const match of text.matchAll(BASE64_RUN)) {
    if (++runs > MAX_RUNS_PER_VIEW) break;
    const run = match[0].replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
    // A run glued to the text before it starts off the 4-character grid; each alignment is tried.
    for (let offset = 0; offset < 4 && run.length - offset >= 16; offset += 1) yield { name: "base64", bytes: Buffer.from(run.slice(offset), "base64") };
  }
  runs = 0;
  for (const match of text.matchAll(HEX_RUN)) {
    if (++runs > MAX_RUNS_PER_VIEW) break;
    yield { name: "hex", bytes: Buffer.from(match[0], "hex") };
  }
}

function attempt(name: string, decode: () => Buffer): { name: string; bytes: Buffer } | undefined {
  try {
    return { name, bytes: decode() };
  } catch {
    return undefined;
  }
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

function base32(text: string): Buffer {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text) {
    const index = BASE32.indexOf(char);
    if (index < 0) continue;
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
