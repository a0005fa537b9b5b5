import type { ESTree } from "meriyah";
import { HOLE, staticString, type ConstantResolver } from "./static-value.js";
import { walk, type Node } from "./walk.js";

export interface CallSite {
  /** Canonical dotted name: "child_process.exec", "fetch", "JSON.stringify", "https.get". */
  callee: string;
  node: ESTree.CallExpression | ESTree.NewExpression;
  args: Node[];
}

export interface StringSite {
  value: string;
  node: Node;
}

export interface MemberSite {
  /** Canonical dotted path, "[]" for a computed part: "process.env.NPM_TOKEN", "process.env[]". */
  path: string;
  node: ESTree.MemberExpression;
}

/** What one walk of a file's AST found, in a form the rules can query cheaply. */
export interface AstFacts {
  calls: CallSite[];
  strings: StringSite[];
  members: MemberSite[];
  /** Right-hand sides of `for (k in X)`, canonical paths. */
  forInOver: MemberSite[];
  /** Object properties whose value is the whole `process.env` (`{ e: process.env }`), with their keys. */
  envValues: Array<{ key: string; node: Node }>;
  /** Static module specifiers this file loads: `import … from "x"`, `require("x")`, `import("x")`. */
  modules: string[];
  /** Identifiers like `_0x3f2a1b`, the mark of javascript-obfuscator. */
  hexNames: number;
  /** Identifiers holding zero-width characters (`do\u200C`): names built to look like keywords or nothing at all. */
  invisibleNames: number;
  identifiers: number;
  /** Resolves an expression to its canonical dotted name ("" when it has none). */
  nameOf(node: Node | null | undefined): string;
  /** The string an expression evaluates to, following names bound once (see staticString). */
  stringOf(node: Node | null | undefined): string | undefined;
  /** A name bound once and never reassigned stands for its value: `const opts = { detached: true }`. */
  resolve(node: Node | undefined): Node | undefined;
  /**
   * A value derived from these facts, computed once per file: several rules
   * ask for the same network calls or credential paths, and a 2 MB bundle
   * makes each pass count.
   */
  memo<T>(key: string, compute: () => T): T;
}

const GLOBAL_PREFIX = /^(?:globalThis|global|window|self)\./;
/**
 * Names that mean the platform's own object when nothing declares them.
 * Any other undeclared name is shown as `~name`: a minified bundle's local
 * function `ws` is not the `ws` package, and must not look like a network call.
 */
const KNOWN_GLOBALS = new Set([
  "process", "require", "module", "exports", "global", "globalThis", "window", "self", "Buffer", "JSON", "Object", "String", "Array",
  "Intl", "Math", "Reflect", "Promise", "eval", "Function", "fetch", "atob", "btoa", "XMLHttpRequest", "WebSocket", "crypto",
  "navigator", "document", "Bun", "Deno", "console", "unescape", "decodeURIComponent", "setTimeout", "setImmediate", "queueMicrotask",
  // Bundlers bind core modules through their own require (`var fs = n(896)`),
  // so an undeclared or opaque `fs` or `https` is taken at its word.
  "fs", "os", "path", "dns", "net", "tls", "http", "https", "http2", "child_process", "vm", "zlib",
]);
export const LOCAL = "~";
const ALIASED_GLOBALS = new Set(["process", "require", "global", "globalThis", "Buffer", "eval", "Function", "module"]);
const PATH_JOIN = /^path\.(?:posix\.|win32\.)?(?:join|resolve)$/;
const HEX_NAME = /^_0x[0-9a-f]{3,}$/i;
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/;

/** One pass over the tree collecting calls, strings and member paths; then require/import bindings are resolved. */
export function collectFacts(program: Node): AstFacts {
  const calls: Array<ESTree.CallExpression | ESTree.NewExpression> = [];
  const members: ESTree.MemberExpression[] = [];
  const forIns: ESTree.ForInStatement[] = [];
  const strings: StringSite[] = [];
  const built: Array<ESTree.TemplateLiteral | ESTree.BinaryExpression> = [];
  const declarators: ESTree.VariableDeclarator[] = [];
  const imports: ESTree.ImportDeclaration[] = [];
  const properties: ESTree.Property[] = [];
  const reassigned = new Set<string>();
  let hexNames = 0;
  let invisibleNames = 0;
  let identifiers = 0;
  walk(program, (node) => {
    switch (node.type) {
      case "CallExpression":
      case "NewExpression":
        calls.push(node);
        break;
      case "MemberExpression":
        members.push(node);
        break;
      case "ForInStatement":
        forIns.push(node);
        break;
      case "VariableDeclarator":
        declarators.push(node);
        break;
      case "ImportDeclaration":
        imports.push(node);
        break;
      case "AssignmentExpression":
        if (node.left.type === "Identifier") reassigned.add(node.left.name);
        break;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        for (const param of node.params) namesIn(param as Node, reassigned);
        if (node.type === "FunctionDeclaration" && node.id) reassigned.add(node.id.name);
        break;
      case "CatchClause":
        if (node.param) namesIn(node.param as Node, reassigned);
        break;
      case "UpdateExpression":
        if (node.argument.type === "Identifier") reassigned.add(node.argument.name);
        break;
      case "Property":
        if (node.value.type === "MemberExpression") properties.push(node);
        break;
      case "Identifier":
        identifiers++;
        if (HEX_NAME.test(node.name)) hexNames++;
        else if (INVISIBLE.test(node.name)) invisibleNames++;
        break;
      case "Literal":
        if (typeof node.value === "string") strings.push({ value: node.value, node });
        break;
      case "TemplateLiteral":
        built.push(node);
        break;
      case "BinaryExpression":
        if (node.operator === "+") built.push(node);
        break;
      default:
        break;
    }
  });
  // A name that is also a parameter, a catch binding or assigned anywhere is
  // not a constant: in minified code `e` is a different value in every function.
  const constants = constantsOf(declarators, reassigned);
  const memos = new Map<string, unknown>();
  const resolveName: ConstantResolver = (name) => constants.get(name);
  const stringOf = (node: Node | null | undefined): string | undefined =>
    node?.type === "CallExpression" && PATH_JOIN.test(nameOf(node.callee as Node)) ? joinedPath(node.arguments as Node[], stringOf) : staticString(node, resolveName);
  const bindings = bindingsOf(declarators, imports);
  const nameOf = makeNamer(bindings);
  for (const node of built) {
    const value = stringOf(node);
    if (value !== undefined) strings.push({ value, node });
  }
  addEnvAliases(declarators, bindings, nameOf, (name) => constants.has(name));
  for (const call of calls) {
    const value = PATH_JOIN.test(nameOf(call.callee as Node)) ? joinedPath(call.arguments as Node[], stringOf) : stringOf(call);
    if (value !== undefined) strings.push({ value, node: call });
  }
  return {
    calls: calls.map((node) => ({ callee: nameOf(node.callee as Node), node, args: node.arguments as Node[] })),
    strings,
    // Only paths rooted at `process` (or a global alias of it) are asked for
    // by the rules; naming every member of a 5 MB bundle is most of the cost.
    members: members.filter((node) => MEMBER_ROOTS.has(rootName(node, bindings))).map((node) => ({ path: nameOf(node), node })),
    forInOver: forIns.filter((f) => f.right.type === "MemberExpression").map((f) => ({ path: nameOf(f.right as Node), node: f.right as ESTree.MemberExpression })),
    envValues: [
      ...properties.filter((p) => nameOf(p.value as Node) === "process.env").map((p) => ({ key: staticName(p.key as Node) ?? "", node: p as Node })),
    ],
    modules: [
      ...imports.map((declaration) => String(declaration.source.value)),
      ...calls.filter((node) => node.type === "CallExpression" && node.callee.type === "Identifier" && (node.callee.name === "require" || bindings.get(node.callee.name) === "require"))
        .map((node) => stringOf(node.arguments[0] as Node)).filter((value): value is string => value !== undefined && !value.includes(HOLE)),
    ],
    hexNames,
    invisibleNames,
    identifiers,
    nameOf,
    stringOf,
    resolve: (node) => (node?.type === "Identifier" ? (constants.get(node.name) ?? node) : node),
    memo: <T>(key: string, compute: () => T): T => {
      if (!memos.has(key)) memos.set(key, compute());
      return memos.get(key) as T;
    },
  };
}

/**
 * Member paths the rules ask for: rooted at `process` (or a global alias of
 * it), and at `os` (`tryGet(os.hostname)` passes the function, never calls it).
 */
const MEMBER_ROOTS = new Set(["process", "globalThis", "global", "window", "self", "os"]);

function rootName(node: ESTree.MemberExpression, bindings: ReadonlyMap<string, string>): string {
  let current: Node = node;
  while (current.type === "MemberExpression") current = current.object as Node;
  return current.type === "Identifier" ? (bindings.get(current.name) ?? current.name).split(".")[0]! : "";
}

/** `path.join(home, ".aws", "credentials")` → "…/.aws/credentials", so path rules see the whole path. */
function joinedPath(args: Node[], stringOf: (node: Node) => string | undefined): string | undefined {
  const parts = args.map((arg) => stringOf(arg) ?? HOLE);
  return parts.some((part) => part !== HOLE) ? parts.join("/") : undefined;
}

/** The names a binding pattern declares: `a`, `{ a, b: [c] }`, `d = 1`, `...e`. */
function namesIn(pattern: Node, into: Set<string>): void {
  if (pattern.type === "Identifier") {
    into.add(pattern.name);
    return;
  }
  walk(pattern, (node) => {
    if (node.type === "Identifier") into.add(node.name);
  });
}

/**
 * Names declared once and never assigned again, with their initial value.
 * Matching is by name, not by scope: a name declared twice anywhere in the
 * file is left out rather than guessed, which is what keeps minified code
 * (the same short names in every function) from being misread.
 */
function constantsOf(declarators: ESTree.VariableDeclarator[], reassigned: ReadonlySet<string>): Map<string, Node> {
  const seen = new Map<string, Node | undefined>();
  const repeated = new Set<string>();
  for (const declarator of declarators) {
    if (declarator.id.type !== "Identifier") continue;
    const name = declarator.id.name;
    if (seen.has(name)) repeated.add(name);
    seen.set(name, (declarator.init as Node | null) ?? undefined);
  }
  const constants = new Map<string, Node>();
  for (const [name, init] of seen) if (init && !repeated.has(name) && !reassigned.has(name)) constants.set(name, init);
  return constants;
}

/**
 * `var data = process.env || {}` (the dependency-confusion beacons), then
 * `JSON.stringify(data)`: a local name for the whole environment is the
 * environment, so the rules that look for it see through the alias.
 */
function addEnvAliases(declarators: ESTree.VariableDeclarator[], bindings: Map<string, string>, nameOf: (node: Node | null | undefined) => string, isConstant: (name: string) => boolean): void {
  for (const declarator of declarators) {
    if (declarator.id.type !== "Identifier" || !declarator.init || !isConstant(declarator.id.name)) continue;
    let init = declarator.init as Node;
    if (init.type === "LogicalExpression") init = init.left as Node;
    if (nameOf(init) === "process.env") bindings.set(declarator.id.name, "process.env");
  }
}

/** local name → canonical name, from `require` and `import`. */
function bindingsOf(declarators: ESTree.VariableDeclarator[], imports: ESTree.ImportDeclaration[]): Map<string, string> {
  const bindings = new Map<string, string>();
  for (const declaration of imports) {
    const module = moduleName(String(declaration.source.value));
    for (const specifier of declaration.specifiers) {
      const imported = specifier.type === "ImportSpecifier" ? staticName(specifier.imported as Node) : undefined;
      bindings.set(specifier.local.name, imported ? `${module}.${imported}` : module);
    }
  }
  // `var r = require, t = process;` (the event-stream payload): aliases of globals first.
  for (const declarator of declarators) {
    if (declarator.id.type === "Identifier" && declarator.init?.type === "Identifier" && ALIASED_GLOBALS.has(declarator.init.name)) {
      bindings.set(declarator.id.name, declarator.init.name);
    }
  }
  for (const declarator of declarators) {
    const module = requiredModule(declarator.init as Node | null, bindings);
    if (module === undefined) continue;
    if (declarator.id.type === "Identifier") bindings.set(declarator.id.name, module);
    if (declarator.id.type !== "ObjectPattern") continue;
    for (const property of declarator.id.properties) {
      if (property.type !== "Property" || property.value.type !== "Identifier") continue;
      const key = staticName(property.key as Node);
      if (key) bindings.set(property.value.name, `${module}.${key}`);
    }
  }
  return bindings;
}

function requiredModule(node: Node | null, bindings: ReadonlyMap<string, string>): string | undefined {
  if (!node) return undefined;
  if (node.type === "AwaitExpression") return requiredModule(node.argument as Node, bindings);
  if (node.type === "MemberExpression") {
    const base = requiredModule(node.object as Node, bindings);
    const key = propertyName(node);
    return base !== undefined && key !== undefined ? `${base}.${key}` : undefined;
  }
  if (node.type === "ImportExpression") {
    const source = staticString(node.source as Node);
    return source === undefined ? undefined : moduleName(source);
  }
  if (node.type !== "CallExpression" || node.callee.type !== "Identifier") return undefined;
  if (node.callee.name !== "require" && bindings.get(node.callee.name) !== "require") return undefined;
  const source = staticString(node.arguments[0] as Node);
  return source === undefined ? undefined : moduleName(source);
}

function moduleName(source: string): string {
  return source.replace(/^node:/, "");
}

function staticName(node: Node): string | undefined {
  if (node.type === "Identifier") return node.name;
  return staticString(node);
}

function propertyName(node: ESTree.MemberExpression): string | undefined {
  if (!node.computed && node.property.type === "Identifier") return node.property.name;
  if (node.computed) return staticString(node.property as Node);
  return undefined;
}

function makeNamer(bindings: Map<string, string>): (node: Node | null | undefined) => string {
  const nameOf = (node: Node | null | undefined): string => {
    const parts: string[] = [];
    let current = node;
    while (current) {
      if (current.type === "MemberExpression") {
        parts.push(propertyName(current) ?? "[]");
        current = current.object as Node;
        continue;
      }
      if (current.type === "ChainExpression" || current.type === "ParenthesizedExpression") {
        current = current.expression as Node;
        continue;
      }
      if (current.type === "Identifier") {
        parts.push(bindings.get(current.name) ?? (KNOWN_GLOBALS.has(current.name) ? current.name : `${LOCAL}${current.name}`));
      } else if (current.type === "CallExpression" || current.type === "ImportExpression") {
        const module = requiredModule(current, bindings);
        if (module === undefined) return "";
        parts.push(module);
      } else {
        return "";
      }
      break;
    }
    return parts.reverse().join(".").replace(/\.\[\]/g, "[]").replace(GLOBAL_PREFIX, "");
  };
  return nameOf;
}
