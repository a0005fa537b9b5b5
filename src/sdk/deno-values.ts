/**
 * Decodes what the REPL server inside (inside/deno-repl.ts, encodeValue)
 * sends: tagged JSON. The text comes from the sandbox and is hostile: it is
 * parsed as JSON only, nothing is evaluated, object keys are defined as own
 * properties (a "__proto__" key is a key, never a prototype), typed arrays
 * are made only from a fixed list, and anything malformed is refused.
 */
const TYPED_ARRAYS: Record<string, (bytes: Uint8Array) => unknown> = {
  ArrayBuffer: (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength),
  DataView: (b) => new DataView(b.buffer, b.byteOffset, b.byteLength),
  Int8Array: (b) => new Int8Array(b.buffer, b.byteOffset, b.byteLength),
  Uint8Array: (b) => b,
  Uint8ClampedArray: (b) => new Uint8ClampedArray(b.buffer, b.byteOffset, b.byteLength),
  Int16Array: (b) => new Int16Array(aligned(b, 2)),
  Uint16Array: (b) => new Uint16Array(aligned(b, 2)),
  Int32Array: (b) => new Int32Array(aligned(b, 4)),
  Uint32Array: (b) => new Uint32Array(aligned(b, 4)),
  Float32Array: (b) => new Float32Array(aligned(b, 4)),
  Float64Array: (b) => new Float64Array(aligned(b, 8)),
  BigInt64Array: (b) => new BigInt64Array(aligned(b, 8)),
  BigUint64Array: (b) => new BigUint64Array(aligned(b, 8)),
};

function aligned(bytes: Uint8Array, size: number): ArrayBuffer {
  if (bytes.byteLength % size !== 0) throw new TypeError("a typed array's length does not fit its element size");
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

const NUMBERS: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY, "-0": -0 };

/** An error thrown in the sandbox's REPL, as it was there: its name, message and stack. */
export class DenoReplError extends Error {
  constructor(name: string, message: string, stack: string) {
    super(message);
    Object.defineProperty(this, "name", { value: name, enumerable: false, configurable: true, writable: true });
    if (stack) this.stack = stack;
  }
}

export function decodeValue(text: string): unknown {
  const refs: unknown[] = [];
  const bad = (): never => {
    throw new TypeError("The sandbox's REPL sent a value cordon cannot read.");
  };
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : bad());
  const str = (value: unknown): string => (typeof value === "string" ? value : bad());
  const walk = (node: unknown): unknown => {
    if (node === null || typeof node === "string" || typeof node === "boolean" || typeof node === "number") return node;
    const [tag, a, b, c] = list(node);
    switch (tag) {
      case "u": return undefined;
      case "n": return str(a) in NUMBERS ? NUMBERS[str(a)] : bad();
      case "i": return /^-?\d+$/.test(str(a)) ? BigInt(str(a)) : bad();
      case "c": return typeof a === "number" && a < refs.length ? refs[a] : bad();
      case "d": return keep(new Date(typeof a === "number" ? a : a === null ? Number.NaN : bad()));
      case "r": return keep(new RegExp(str(a), str(b)));
      case "e": return keep(new DenoReplError(str(a), str(b), str(c)));
      case "b": {
        const make = Object.hasOwn(TYPED_ARRAYS, str(a)) ? TYPED_ARRAYS[str(a)]! : bad();
        return keep(make(new Uint8Array(Buffer.from(str(b), "base64"))));
      }
      case "a": {
        const array: unknown[] = keep([]);
        for (const item of list(a)) array.push(walk(item));
        return array;
      }
      case "s": {
        const set = keep(new Set<unknown>());
        for (const item of list(a)) set.add(walk(item));
        return set;
      }
      case "m": {
        const map = keep(new Map<unknown, unknown>());
        for (const entry of list(a)) {
          const [key, value] = list(entry);
          map.set(walk(key), walk(value));
        }
        return map;
      }
      case "o": {
        const object: Record<string, unknown> = keep({});
        for (const entry of list(a)) {
          const [key, value] = list(entry);
          Object.defineProperty(object, str(key), { value: walk(value), enumerable: true, writable: true, configurable: true });
        }
        return object;
      }
      default:
        return bad();
    }
  };
  const keep = <T>(value: T): T => {
    refs.push(value);
    return value;
  };
  return walk(JSON.parse(text));
}
