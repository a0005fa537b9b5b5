import type { IncomingHttpHeaders } from "node:http";
import type { Transform } from "node:stream";
import zlib from "node:zlib";

// Tolerant of a truncated end, as browsers and fetch are: what was decoded is
// still masked, and nothing undecoded is ever passed on.
const DECODERS: Record<string, () => Transform> = {
  gzip: () => zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  "x-gzip": () => zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  deflate: () => zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  br: () => zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
};

/**
 * The decoders that turn an answer's body back into the bytes the server
 * meant, in the order to apply them; or the first coding cordon cannot undo.
 *
 * Real values are masked by finding their bytes, which compression hides: a
 * server asked for no encoding (cordon drops Accept-Encoding) may still
 * compress an echo of the value, so every body is decoded before it is
 * masked, and sent on unencoded. Transfer codings other than chunked (which
 * Node's parser removes) are the outermost layer, so they come off first.
 */
export function decodersFor(headers: IncomingHttpHeaders): { decoders: Transform[] } | { unknown: string } {
  // Names are kept as the server wrote them: `unknown` is masked before it
  // is shown, and a lower-cased echo of a value would slip past the mask.
  const codings = (value: string | undefined): string[] =>
    (value ?? "").split(",").map((coding) => coding.trim()).filter((coding) => coding !== "" && coding.toLowerCase() !== "identity");
  const transfer = codings(headers["transfer-encoding"]).filter((coding) => coding.toLowerCase() !== "chunked");
  const layers = [...codings(headers["content-encoding"]), ...transfer].reverse();
  const decoders: Transform[] = [];
  for (const coding of layers) {
    const decoder = DECODERS[coding.toLowerCase()];
    if (!decoder) return { unknown: coding };
    decoders.push(decoder());
  }
  return { decoders };
}
