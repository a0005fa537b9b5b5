/**
 * The REPL server `sandbox.deno.repl()` runs inside the sandbox with
 * `deno eval` (its compiled JavaScript is the code argument). It reads one
 * JSON request a line from fd 5 and answers one JSON line on fd 6, a
 * channel beside stdio, so the user's code keeps stdout and stderr.
 *
 * Code is evaluated through V8's inspector in REPL mode (what `deno repl`
 * does): top-level `let`, `const`, `class` and `await` work and persist
 * from one eval to the next. Values travel as tagged JSON (encodeValue),
 * which the host decodes without evaluating anything.
 *
 * Not a boundary: it runs as the user's code, in the user's sandbox.
 * Self-contained (no imports of cordon's modules): it is sent as text.
 */
import inspector from "node:inspector";

interface DenoFile {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
}
declare const Deno: {
  open(path: string, options: { read?: boolean; write?: boolean }): Promise<DenoFile>;
  exit(code: number): never;
};

type Encoded = null | boolean | number | string | [string, ...unknown[]];

const TYPED_ARRAYS = new Set(["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "DataView"]);

/**
 * A value as tagged JSON, structured-clone style: primitives, arrays, plain
 * objects (a class instance becomes its own enumerable properties), Map,
 * Set, Date, RegExp, errors, ArrayBuffers and typed arrays, with shared and
 * cyclic references kept (["c", n] names the n-th object met). Functions
 * and symbols cannot be cloned, as in structuredClone().
 */
export function encodeValue(value: unknown): string {
  const seen = new Map<object, number>();
  const bytes = (view: ArrayBufferView | ArrayBuffer): string => {
    const array = view instanceof ArrayBuffer ? new Uint8Array(view) : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    let binary = "";
    for (let i = 0; i < array.length; i += 0x8000) binary += String.fromCharCode(...array.subarray(i, i + 0x8000));
    return btoa(binary);
  };
  const walk = (v: unknown): Encoded => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        return Number.isFinite(v) && !Object.is(v, -0) ? v : ["n", Object.is(v, -0) ? "-0" : String(v)];
      case "bigint":
        return ["i", v.toString()];
      case "undefined":
        return ["u"];
      case "symbol":
      case "function":
        throw new DOMException(`${String(v)} could not be cloned.`, "DataCloneError");
      default:
        break;
    }
    if (v === null) return null;
    const object = v as object;
    const ref = seen.get(object);
    if (ref !== undefined) return ["c", ref];
    seen.set(object, seen.size);
    if (Array.isArray(object)) return ["a", Array.from(object, walk)];
    if (object instanceof Date) return ["d", object.getTime()];
    if (object instanceof RegExp) return ["r", object.source, object.flags];
    if (object instanceof Map) return ["m", [...object].map(([k, x]) => [walk(k), walk(x)])];
    if (object instanceof Set) return ["s", [...object].map(walk)];
    if (object instanceof Error) return ["e", String(object.name), String(object.message), String(object.stack ?? "")];
    if (object instanceof ArrayBuffer) return ["b", "ArrayBuffer", bytes(object)];
    if (ArrayBuffer.isView(object)) {
      const name = object.constructor.name;
      return ["b", TYPED_ARRAYS.has(name) ? name : "Uint8Array", bytes(object)];
    }
    return ["o", Object.keys(object).map((key) => [key, walk((object as Record<string, unknown>)[key])])];
  };
  return JSON.stringify(walk(value));
}

interface RemoteObject { type: string; subtype?: string; value?: unknown; unserializableValue?: string; objectId?: string; description?: string }
interface EvaluateResult { result: RemoteObject; exceptionDetails?: { exception?: RemoteObject; text: string } }
type Request = { id: number; op: "eval"; code: string } | { id: number; op: "call"; fn: string; args: string };

const ENCODE = Symbol.for("cordon.repl.encode");

async function serve(): Promise<void> {
  (globalThis as Record<symbol, unknown>)[ENCODE] = encodeValue;
  const session = new inspector.Session();
  session.connect();
  const post = <T>(method: string, params: object): Promise<T> => new Promise((resolve, reject) => {
    session.post(method, params, (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result as T)));
  });
  const global = (await post<EvaluateResult>("Runtime.evaluate", { expression: "globalThis", objectGroup: "cordon-repl" })).result.objectId!;
  const argumentOf = (object: RemoteObject): object =>
    object.objectId ? { objectId: object.objectId }
      : object.unserializableValue ? { unserializableValue: object.unserializableValue }
        : object.type === "undefined" ? {} : { value: object.value };
  /** The encoded value of a remote object, computed where it lives. */
  const encoded = async (object: RemoteObject): Promise<string> => {
    const answer = await post<EvaluateResult>("Runtime.callFunctionOn", {
      objectId: global,
      functionDeclaration: "function (value) { return this[Symbol.for('cordon.repl.encode')](value); }",
      arguments: [argumentOf(object)],
      returnByValue: true,
    });
    if (answer.exceptionDetails) throw new Error(answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text);
    return answer.result.value as string;
  };
  const settle = async (outcome: EvaluateResult): Promise<{ ok: string } | { error: string }> => {
    if (outcome.exceptionDetails) {
      const exception = outcome.exceptionDetails.exception;
      return { error: exception ? await encoded(exception).catch(() => encodeValue(new Error(exception.description ?? outcome.exceptionDetails!.text))) : encodeValue(new Error(outcome.exceptionDetails.text)) };
    }
    try {
      return { ok: await encoded(outcome.result) };
    } catch (error) {
      return { error: encodeValue(error) };
    }
  };
  const handle = async (request: Request): Promise<{ ok: string } | { error: string }> => {
    const group = `cordon-${request.id}`;
    try {
      if (request.op === "eval") {
        return await settle(await post<EvaluateResult>("Runtime.evaluate", { expression: request.code, replMode: true, awaitPromise: true, objectGroup: group }));
      }
      const fn = await post<EvaluateResult>("Runtime.evaluate", { expression: request.fn, replMode: true, objectGroup: group });
      if (fn.exceptionDetails || !fn.result.objectId) return await settle(fn.exceptionDetails ? fn : { result: fn.result, exceptionDetails: { text: `${request.fn} is not a function` } });
      return await settle(await post<EvaluateResult>("Runtime.callFunctionOn", {
        objectId: fn.result.objectId,
        functionDeclaration: "function (args) { return this(...JSON.parse(args)); }",
        arguments: [{ value: request.args }],
        awaitPromise: true,
        objectGroup: group,
      }));
    } finally {
      await post("Runtime.releaseObjectGroup", { objectGroup: group }).catch(() => undefined);
    }
  };

  // read()/write() on the files themselves: Deno's readable/writable
  // streams over a FIFO reached through /proc/self/fd lose data.
  const requests = await Deno.open("/proc/self/fd/5", { read: true });
  const answers = await Deno.open("/proc/self/fd/6", { write: true });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const send = async (text: string): Promise<void> => {
    let bytes = encoder.encode(text);
    while (bytes.length > 0) bytes = bytes.subarray(await answers.write(bytes));
  };
  const chunk = new Uint8Array(64 * 1024);
  let buffered = "";
  for (;;) {
    const count = await requests.read(chunk);
    if (count === null) break;
    buffered += decoder.decode(chunk.subarray(0, count), { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const request = JSON.parse(line) as Request;
      // One at a time, in order, as a REPL takes its input.
      await send(`${JSON.stringify({ id: request.id, ...(await handle(request)) })}\n`);
    }
  }
  // The host closed the channel: the REPL ends.
  Deno.exit(0);
}

if ("Deno" in globalThis) await serve();
