import type { Node } from "./ast/walk.js";
import { codeArgument } from "./rules/download-execute.js";
import type { FileContext } from "./rules/rule.js";
import { HOLE } from "./ast/static-value.js";

/** Code found inside a string of a file: decoded from hex or base64, or handed to eval/Function as text. */
export interface HiddenCode {
  text: string;
  /** "a base64 string", "a hex string", "a string passed to eval or Function". */
  how: string;
  node?: Node;
  offset?: number;
  /** Decoded from hex or base64 (rather than code given to eval as text). */
  encoded: boolean;
}

const MIN_ENCODED = 64;
const MIN_CODE_STRING = 64;
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const TEXT_ENCODED = /(?<![\w+/])[0-9a-fA-F]{128,}(?![\w+/])|(?<![\w+/])[A-Za-z0-9+/]{128,}={0,2}(?![\w+/=])/g;
/** What decoded text must contain to be worth analyzing: signs of code that reaches out, not prose or an image. */
const CODE_MARKER = /require\s*\(|child_process|\beval\s*\(|\bexec(?:Sync)?\s*\(|\bspawn\s*\(|\bcurl\s|\bwget\s|\/bin\/(?:ba)?sh\b|powershell|process\.env|\bnew\s+Function\b|\bdns\.|\bhttps?\.(?:get|request)\b|\bfetch\s*\(/;
const CODE_RUNNER = /^(?:eval|Function|vm\.runIn(?:New|This)?Context|vm\.Script|vm\.compileFunction)$/;
/** Strings looked at per file at most: a bundle holds thousands of long ones. */
const MAX_CANDIDATES = 2000;

/**
 * Code that a file carries as data: a hex or base64 literal that decodes to
 * a script (the hex-encoded DNS beacons, a base64 miner command), or a
 * string literal given to eval or Function. The scanner analyzes it as if it
 * were a file of its own, because that is what it becomes when it runs.
 */
export function hiddenCode(file: FileContext): HiddenCode[] {
  if (!file.ast) return hiddenInText(file);
  const found: HiddenCode[] = [];
  for (const call of file.ast.calls) {
    if (!CODE_RUNNER.test(call.callee)) continue;
    const code = file.ast.stringOf(codeArgument(call));
    if (code !== undefined && code.length >= MIN_CODE_STRING && !code.includes(HOLE)) found.push({ text: code, how: "a string passed to eval or Function", node: call.node, encoded: false });
  }
  let candidates = 0;
  for (const site of file.ast.strings) {
    if (site.node.type !== "Literal" || site.value.length < MIN_ENCODED) continue;
    if (++candidates > MAX_CANDIDATES) break;
    const decoded = decodeLiteral(site.value);
    if (decoded) found.push({ ...decoded, node: site.node, encoded: true });
  }
  return found;
}

/**
 * `eval(x)` or `Function(…, x)` with code only known at run time: next to an
 * encoded payload, the place where the payload is decoded and run, even when
 * the decoding goes through a helper (`eval(unhex(blob))`).
 */
export function evaluatesBuiltCode(file: FileContext): boolean {
  if (!file.ast) return /(?<![\w$.])eval\s*\((?!\s*["'`])/.test(file.text);
  return file.ast.calls.some((call) => CODE_RUNNER.test(call.callee) && call.args.length > 0 && file.ast!.stringOf(codeArgument(call)) === undefined);
}

function hiddenInText(file: FileContext): HiddenCode[] {
  const found: HiddenCode[] = [];
  for (const match of file.text.matchAll(TEXT_ENCODED)) {
    const decoded = decodeLiteral(match[0]);
    if (decoded) found.push({ ...decoded, offset: match.index, encoded: true });
    if (found.length >= 8) break;
  }
  return found;
}

/** Layers of encoding peeled (hex of base64 of code, as in hlwgirl-style loaders). */
const MAX_LAYERS = 3;

function decodeLiteral(value: string): { text: string; how: string } | undefined {
  const layers: string[] = [];
  let current = value.trim();
  for (let layer = 0; layer < MAX_LAYERS; layer++) {
    const encoding = HEX.test(current) ? "hex" : BASE64.test(current) && (current.length % 4 === 0 || layer > 0) ? "base64" : undefined;
    if (!encoding) return undefined;
    layers.push(encoding);
    // Embedded wasm, fonts and images are megabytes of base64: a prefix
    // tells text from binary before the whole literal is decoded.
    if (!mostlyPrintable(Buffer.from(current.slice(0, PREFIX_CHARS - (PREFIX_CHARS % 4)), encoding).toString("utf8"))) return undefined;
    // An odd hex length is a payload cut short (corpora truncate them): decode what is there.
    current = Buffer.from(encoding === "hex" ? current.slice(0, current.length & ~1) : current, encoding).toString("utf8");
    if (looksLikeCode(current)) return { text: current, how: `a ${layers.join(" of ")} string` };
  }
  return undefined;
}

const PREFIX_CHARS = 4096;

function looksLikeCode(text: string): boolean {
  return mostlyPrintable(text) && CODE_MARKER.test(text);
}

function mostlyPrintable(text: string): boolean {
  let printable = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code >= 0x20 && code < 0x7f) || code === 9 || code === 10 || code === 13) printable++;
  }
  return printable >= text.length * 0.95;
}
