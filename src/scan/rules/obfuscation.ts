import type { Node } from "../ast/walk.js";
import { atInstallTime, type FileContext, type FileFindingDraft, type FileRule } from "./rule.js";

const ROTATION = /while\s*\(\s*!!\s*\[\s*\]\s*\)|\[\s*['"]push['"]\s*\]\s*\(\s*\w+\s*\[\s*['"]shift['"]\s*\]\s*\(\s*\)\s*\)/;
const PACKER = /eval\s*\(\s*function\s*\(\s*p\s*,\s*a\s*,\s*c\s*,\s*k\s*,\s*e\s*,\s*[rd]\s*\)/;
/** Code pushed far to the right of a line so an editor or a diff view does not show it. */
const HIDDEN_PAST_SPACES = /[^\s][ \t]{150,}[A-Za-z_$][\w$.]*\s*[(=]/;
const DECODERS = /^(?:atob|Buffer\.from|String\.fromCharCode|decodeURIComponent|unescape)$/;
const CODE_RUNNER = /^(?:eval|Function|vm\.runIn(?:New|This)?Context|vm\.Script)$/;
const LONG_STRING = 4096;

/**
 * Code written to be unreadable. Minifiers shorten names; obfuscators hide
 * intent: `_0x` names with a rotated string array (javascript-obfuscator, the
 * Shai-Hulud 2 payload), packers, `eval(atob(...))`, code hidden past a wall
 * of spaces. Minification alone is not flagged here.
 */
export const obfuscation: FileRule = {
  id: "obfuscation",
  summary: "obfuscated code: _0x names and string-array rotation, packers, eval of decoded text, code hidden past spaces",
  check(file, report) {
    const techniques = [...hexNameTechnique(file), ...textTechniques(file), ...evalOfDecoded(file)];
    // Two techniques in one file is not a minifier's accident; evaluating
    // decoded text is a loader by definition: benign code has no reason to
    // hide the code it runs from the person reading it.
    const conclusive = techniques.length >= 2 || techniques.some((technique) => technique.decodedEval);
    for (const { decodedEval: _decodedEval, ...draft } of techniques) {
      report({ ...draft, severity: conclusive ? "critical" : atInstallTime(draft.severity, file.installTime) });
    }
    const blob = longOpaqueString(file);
    if (blob) report({ severity: "low", message: `embeds a ${blob.length}-character opaque string`, node: blob.node, evidence: `${blob.value.slice(0, 60)}…` });
  },
};

type Technique = FileFindingDraft & { decodedEval?: boolean };

function hexNameTechnique(file: FileContext): Technique[] {
  const hex = hexNameCount(file);
  if (hex < 20) return [];
  const rotation = ROTATION.exec(file.text);
  return [{
    severity: rotation ? "high" : "medium",
    message: `javascript-obfuscator output (${hex} _0x names${rotation ? ", rotated string array" : ""})`,
    offset: rotation?.index ?? file.text.search(/_0x[0-9a-f]{4}/i),
  }];
}

function textTechniques(file: FileContext): Technique[] {
  const found: Technique[] = [];
  if ((file.ast?.invisibleNames ?? 0) >= 3) {
    found.push({ severity: "high", message: `${file.ast!.invisibleNames} names made of invisible (zero-width) characters`, offset: file.text.search(/[\u200B-\u200D\u2060]|\\u200[B-D]/) });
  }
  const packer = PACKER.exec(file.text);
  if (packer) found.push({ severity: "high", message: "packed with an eval(function(p,a,c,k,e,d)) packer", offset: packer.index });
  const hidden = HIDDEN_PAST_SPACES.exec(file.text);
  if (hidden) found.push({ severity: "high", message: "code hidden past a long run of spaces on one line", offset: hidden.index });
  return found;
}

function hexNameCount(file: FileContext): number {
  if (file.ast) return file.ast.hexNames;
  let count = 0;
  for (const _ of file.text.matchAll(/\b_0x[0-9a-f]{4,6}\b/g)) if (++count >= 1000) break;
  return count;
}

function evalOfDecoded(file: FileContext): Technique[] {
  const ast = file.ast;
  if (!ast) return [];
  return ast.calls
    .filter((call) => CODE_RUNNER.test(call.callee))
    .filter((call) => call.args.some((arg) => isDecoding(file, arg)))
    .slice(0, 1)
    .map((call) => ({ severity: "critical", message: "evaluates decoded text (eval/Function of atob, base64 or char codes)", node: call.node, decodedEval: true }));
}

function isDecoding(file: FileContext, node: Node): boolean {
  let current: Node = node;
  for (let depth = 0; depth < 4; depth++) {
    if (current.type !== "CallExpression") return false;
    const name = file.ast!.nameOf(current.callee as Node);
    if (DECODERS.test(name) || DECODERS.test(name.replace(/\.toString$/, ""))) return true;
    current = (current.callee.type === "MemberExpression" ? current.callee.object : current.arguments[0]) as Node;
    if (!current) return false;
  }
  return false;
}

/** High-entropy strings: often embedded wasm or fonts, sometimes an encrypted payload. Context only. */
function longOpaqueString(file: FileContext): { value: string; node: Node; length: number } | undefined {
  for (const site of file.ast?.strings ?? []) {
    if (site.value.length < LONG_STRING || site.node.type !== "Literal") continue;
    if (entropy(site.value.slice(0, 8192)) > 5.2) return { value: site.value, node: site.node, length: site.value.length };
  }
  return undefined;
}

function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}
