import { Transform, type TransformCallback } from "node:stream";

/** One replacement: every occurrence of `from` becomes `to`. */
export interface Replacement {
  from: Buffer;
  to: Buffer;
}

/**
 * Replaces byte strings in a stream, correctly when an occurrence is split
 * across chunks: the tail that could still be the start of a match is held
 * back until the next chunk (or the end) decides it. Used in both
 * directions: placeholder → real value towards a secret's own host, and real
 * value → placeholder on the way back, so an echoing server cannot hand the
 * secret to the sandbox.
 */
export class ReplacingStream extends Transform {
  readonly #replacements: readonly Replacement[];
  readonly #longest: number;
  readonly #constantHoldBack: boolean;
  #pending: Buffer = Buffer.alloc(0);
  /** Occurrences replaced so far, by index into the replacements. */
  readonly counts: number[];

  /**
   * `constantHoldBack`: hold back the same number of bytes (the longest
   * pattern less one) at the end of every chunk, whatever they are. Used
   * when the patterns are secret (the real value, on the way back): holding
   * back only a tail that *is* a prefix of the value would tell a sandbox,
   * by when its own echoed bytes come back, which guesses are prefixes of
   * the secret, and so the whole value, byte by byte. The cost is that the
   * last bytes of each chunk wait for the next chunk or the end.
   */
  constructor(replacements: readonly Replacement[], options: { constantHoldBack?: boolean } = {}) {
    super();
    this.#constantHoldBack = options.constantHoldBack ?? false;
    this.#replacements = replacements.filter((r) => r.from.length > 0);
    this.#longest = Math.max(0, ...this.#replacements.map((r) => r.from.length));
    this.counts = this.#replacements.map(() => 0);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    const { output, held } = replaceAll(data, this.#replacements, this.#longest, this.counts, false, this.#constantHoldBack);
    this.#pending = held;
    if (output.length > 0) this.push(output);
    done();
  }

  override _flush(done: TransformCallback): void {
    const { output } = replaceAll(this.#pending, this.#replacements, this.#longest, this.counts, true);
    if (output.length > 0) this.push(output);
    this.#pending = Buffer.alloc(0);
    done();
  }
}

/** Replaces in a complete buffer (headers, small bodies). */
export function replaceInBuffer(data: Buffer, replacements: readonly Replacement[]): { output: Buffer; count: number; counts: number[] } {
  const usable = replacements.filter((r) => r.from.length > 0);
  const counts = usable.map(() => 0);
  const longest = Math.max(0, ...usable.map((r) => r.from.length));
  const { output } = replaceAll(data, usable, longest, counts, true);
  return { output, count: counts.reduce((a, b) => a + b, 0), counts };
}

function replaceAll(
  data: Buffer,
  replacements: readonly Replacement[],
  longest: number,
  counts: number[],
  final: boolean,
  constantHoldBack = false,
): { output: Buffer; held: Buffer } {
  const parts: Buffer[] = [];
  let position = 0;
  for (;;) {
    let best = -1;
    let which = -1;
    replacements.forEach((r, index) => {
      const at = data.indexOf(r.from, position);
      if (at >= 0 && (best < 0 || at < best)) {
        best = at;
        which = index;
      }
    });
    if (best < 0) break;
    const replacement = replacements[which]!;
    parts.push(data.subarray(position, best), replacement.to);
    counts[which] = (counts[which] ?? 0) + 1;
    position = best + replacement.from.length;
  }
  // Hold back the longest tail that is a prefix of some pattern: the next
  // chunk may complete it.
  let holdFrom = data.length;
  if (!final && constantHoldBack) {
    holdFrom = Math.max(position, data.length - (longest - 1));
  } else if (!final) {
    for (let start = Math.max(position, data.length - longest + 1); start < data.length; start += 1) {
      const tail = data.subarray(start);
      if (replacements.some((r) => r.from.subarray(0, tail.length).equals(tail))) {
        holdFrom = start;
        break;
      }
    }
  }
  parts.push(data.subarray(position, holdFrom));
  return { output: Buffer.concat(parts), held: Buffer.from(data.subarray(holdFrom)) };
}
