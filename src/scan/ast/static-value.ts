import type { ESTree } from "meriyah";
import type { Node } from "./walk.js";

/** Stands for a part of a string that is only known at run time. */
export const HOLE = "\u2026";

const MAX_STATIC_CHARS = 1 << 20;
/** How many constants deep a name is followed (`const a = b + "x"; const b = ...`). */
const MAX_CONSTANT_DEPTH = 4;

/** The expression a name was bound to once and never reassigned, when the caller knows. */
export type ConstantResolver = (name: string) => Node | undefined;

/**
 * The string a node evaluates to when that is knowable without running it:
 * literals, templates, `+` chains, `[...].join(s)`, `String.fromCharCode(n, ...)`,
 * and base64 or hex decoding of a literal (`atob`, `Buffer.from(s, "base64")`),
 * which is how loaders hide hosts and commands. Unknown parts become HOLE.
 * With a resolver, names bound once to such a value are followed too
 * (`const cmd = Buffer.from(b64, "base64").toString(); spawn(cmd)`).
 * Iterative for `+` chains: minified code builds strings thousands of terms long.
 */
export function staticString(node: Node | null | undefined, resolve?: ConstantResolver, depth = 0): string | undefined {
  if (!node) return undefined;
  const parts: string[] = [];
  const stack: Node[] = [node];
  let known = false;
  let length = 0;
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current.type === "BinaryExpression" && current.operator === "+") {
      stack.push(current.right as Node, current.left as Node);
      continue;
    }
    const value = leafString(current, resolve, depth);
    if (value !== undefined) known = true;
    const part = value ?? HOLE;
    length += part.length;
    if (length > MAX_STATIC_CHARS) return undefined;
    parts.push(part);
  }
  return known ? parts.join("") : undefined;
}

function leafString(node: Node, resolve: ConstantResolver | undefined, depth: number): string | undefined {
  switch (node.type) {
    case "Literal":
      return typeof node.value === "string" || typeof node.value === "number" ? String(node.value) : undefined;
    case "TemplateLiteral":
      return templateString(node, resolve, depth);
    case "CallExpression":
      return decodedCall(node, resolve, depth);
    case "ParenthesizedExpression":
      return staticString(node.expression as Node, resolve, depth);
    case "Identifier": {
      const bound = depth < MAX_CONSTANT_DEPTH ? resolve?.(node.name) : undefined;
      return bound ? staticString(bound, resolve, depth + 1) : undefined;
    }
    default:
      return undefined;
  }
}

function templateString(node: ESTree.TemplateLiteral, resolve: ConstantResolver | undefined, depth: number): string {
  let out = "";
  node.quasis.forEach((quasi, i) => {
    out += quasi.value.cooked ?? quasi.value.raw;
    if (i < node.expressions.length) out += staticString(node.expressions[i] as Node, resolve, depth) ?? HOLE;
  });
  return out;
}

function decodedCall(node: ESTree.CallExpression, resolve: ConstantResolver | undefined, depth: number): string | undefined {
  const callee = node.callee;
  const args = node.arguments as Node[];
  const valueOf = (arg: Node | undefined) => staticString(arg, resolve, depth);
  if (callee.type === "Identifier" && callee.name === "atob") return decode(valueOf(args[0]), "base64");
  if (callee.type !== "MemberExpression" || callee.property.type !== "Identifier") return undefined;
  const method = callee.property.name;
  const object = callee.object as Node;
  // `"moc.kooh".split("").reverse().join("")`: a string spelled backwards.
  if (method === "join" && valueOf(args[0]) === "" && object.type === "CallExpression") {
    const reversed = reversedSplit(object, valueOf);
    if (reversed !== undefined) return reversed;
  }
  if (method === "join" && object.type === "ArrayExpression") {
    const separator = args.length === 0 ? "," : valueOf(args[0]);
    if (separator === undefined) return undefined;
    return object.elements.map((element) => valueOf(element as Node) ?? HOLE).join(separator);
  }
  if (method === "fromCharCode" && object.type === "Identifier" && object.name === "String") {
    const codes = args.map((arg) => (arg.type === "Literal" && typeof arg.value === "number" ? arg.value : NaN));
    return codes.every((code) => Number.isInteger(code) && code >= 0 && code <= 0xffff) ? String.fromCharCode(...codes) : undefined;
  }
  if (method === "toString" && (object.type === "CallExpression" || object.type === "NewExpression")) return bufferFrom(object, valueOf);
  return undefined;
}

function reversedSplit(node: ESTree.CallExpression, valueOf: (arg: Node | undefined) => string | undefined): string | undefined {
  const reverse = node.callee;
  if (reverse.type !== "MemberExpression" || reverse.property.type !== "Identifier" || reverse.property.name !== "reverse") return undefined;
  const split = reverse.object;
  if (split.type !== "CallExpression" || split.callee.type !== "MemberExpression" || split.callee.property.type !== "Identifier" || split.callee.property.name !== "split") return undefined;
  if (valueOf(split.arguments[0] as Node) !== "") return undefined;
  const text = valueOf(split.callee.object as Node);
  return text === undefined || text.includes(HOLE) ? undefined : [...text].reverse().join("");
}

/** `Buffer.from("...", "base64").toString()`, and the deprecated `new Buffer("...", "base64")` old payloads use. */
function bufferFrom(node: ESTree.CallExpression | ESTree.NewExpression, valueOf: (arg: Node | undefined) => string | undefined): string | undefined {
  const callee = node.callee;
  const args = node.arguments as Node[];
  const made = node.type === "NewExpression"
    ? callee.type === "Identifier" && callee.name === "Buffer"
    : callee.type === "MemberExpression" && callee.object.type === "Identifier" && callee.object.name === "Buffer" && callee.property.type === "Identifier" && callee.property.name === "from";
  if (!made) return undefined;
  const encoding = valueOf(args[1]);
  if (encoding !== "base64" && encoding !== "hex") return undefined;
  return decode(valueOf(args[0]), encoding);
}

function decode(text: string | undefined, encoding: "base64" | "hex"): string | undefined {
  if (text === undefined || text.includes(HOLE)) return undefined;
  const decoded = Buffer.from(text, encoding).toString("latin1");
  return decoded;
}
