import { promises as fs } from "node:fs";
import path from "node:path";
import { nodeArguments, shellArguments, simpleCommands, type Interpreted } from "./script-command.js";
import { insideFolder, isPlainFile, resolveModuleFile } from "./package-files.js";

/** The dependency lifecycle events npm runs at install time, in npm's order. */
export const INSTALL_EVENTS = ["preinstall", "install", "postinstall"] as const;
export type InstallEvent = (typeof INSTALL_EVENTS)[number];
/**
 * What `npm install` (with no package arguments) runs for the project itself,
 * in order, after the dependencies' scripts (npm's lib/commands/install.js).
 */
export const PROJECT_EVENTS = ["preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"] as const;
export type ProjectEvent = (typeof PROJECT_EVENTS)[number];

/** npm's implicit install script for a package with a binding.gyp and no install/preinstall script. */
export const DEFAULT_GYP_INSTALL = "node-gyp rebuild";

/** Something a script would start, as far as its text tells. */
export type ScriptTarget =
  /** A file inside the package, relative to its folder (POSIX). Covered by the pin. */
  | { kind: "file"; path: string; by: string }
  /** Code given on the command line (`node -e`, `sh -c`). Covered by the pin as script text. */
  | { kind: "inline"; by: string; code: string }
  /** A program from a `node_modules/.bin` folder, provided by another package (`providedBy` is its lockfile location). */
  | { kind: "bin"; name: string; providedBy: string | undefined; file: string | undefined }
  /** A tool npm itself supplies to scripts (its bundled node-gyp). */
  | { kind: "tool"; name: string }
  /** A named file that is missing, or lies outside the package. */
  | { kind: "unresolved"; word: string; reason: "missing" | "outside-package" | "unknown-command" };

export type ScriptHint = "native-build";

export interface LifecycleScript {
  readonly event: InstallEvent | ProjectEvent;
  /** The script text. Hostile: strip control characters before printing it. */
  readonly command: string;
  /** True for npm's implicit `node-gyp rebuild`. */
  readonly implicit: boolean;
  readonly targets: readonly ScriptTarget[];
  readonly hints: readonly ScriptHint[];
}

export interface ScriptContext {
  readonly projectDir: string;
  /** The package folder, absolute. */
  readonly dir: string;
  /** All of the package's `scripts`, for `npm run <name>` inside a lifecycle script. */
  readonly scripts: Readonly<Record<string, string>>;
  /** The lockfile location of the package that holds an absolute path, if any. */
  locate(file: string): string | undefined;
}

/** Programs that build or fetch native code; their scripts get the `[native build]` hint. */
const NATIVE_TOOLS = new Set(["node-gyp", "node-gyp-build", "prebuild-install", "node-pre-gyp", "cmake-js", "prebuild", "node-gyp-build-optional-packages"]);
const NODE_NAMES = new Set(["node", "nodejs", "$NODE", "${NODE}", "$npm_node_execpath", "${npm_node_execpath}", process.execPath]);
const SHELLS = new Set(["sh", "bash", "dash", "zsh", "/bin/sh", "/bin/bash"]);
/** Shell builtins and everyday utilities: they run no package code of their own. */
const INERT = new Set(["echo", "printf", "exit", "true", "false", ":", "test", "[", "cd", "mkdir", "rm", "cp", "mv", "cat", "ls", "touch", "chmod", "ln", "sleep", "node-which", "export", "set", "if", "then", "else", "fi", "cmd", "type", "command"]);
const MAX_DEPTH = 4;

export async function readLifecycleScript(
  context: ScriptContext,
  event: InstallEvent | ProjectEvent,
  command: string,
  implicit: boolean,
): Promise<LifecycleScript> {
  const targets: ScriptTarget[] = [];
  await collectTargets(context, command, targets, 0);
  const hints: ScriptHint[] = targets.some((t) => (t.kind === "bin" || t.kind === "tool") && NATIVE_TOOLS.has(t.name)) ? ["native-build"] : [];
  return { event, command, implicit, targets: dedupe(targets), hints };
}

async function collectTargets(context: ScriptContext, script: string, out: ScriptTarget[], depth: number): Promise<void> {
  if (depth > MAX_DEPTH) return;
  for (const { words } of simpleCommands(script)) {
    const [program = "", ...args] = words;
    const name = path.posix.basename(program);
    if (NODE_NAMES.has(program) || name === "node") {
      for (const item of nodeArguments(args)) out.push(await interpreted(context, "node", item));
    } else if (SHELLS.has(program)) {
      for (const item of shellArguments(args)) {
        if (item.kind === "inline") await collectTargets(context, item.code, out, depth + 1);
        else out.push(await interpreted(context, name, item));
      }
    } else if (/^python[0-9.]*$/.test(name) && args[0] !== undefined && !args[0].startsWith("-")) {
      out.push(await fileTarget(context, args[0], name, false));
    } else if ((name === "npm" || name === "pnpm" || name === "yarn") && (args[0] === "run" || args[0] === "run-script")) {
      const nested = args.slice(1).find((a) => !a.startsWith("-"));
      const text = nested === undefined ? undefined : ownScript(context, nested);
      if (text !== undefined) await collectTargets(context, text, out, depth + 1);
    } else if (program.includes("/")) {
      out.push(await fileTarget(context, program, "exec", false));
    } else if (!INERT.has(program)) {
      out.push(await binTarget(context, program));
    }
  }
}

async function interpreted(context: ScriptContext, by: string, item: Interpreted): Promise<ScriptTarget> {
  if (item.kind === "inline") return { kind: "inline", by, code: item.code };
  return fileTarget(context, item.file, by, by === "node");
}

async function fileTarget(context: ScriptContext, word: string, by: string, asModule: boolean): Promise<ScriptTarget> {
  if (word.includes("$")) return { kind: "unresolved", word, reason: "unknown-command" };
  const absolute = path.resolve(context.dir, word);
  if (insideFolder(context.dir, absolute) === undefined) return { kind: "unresolved", word, reason: "outside-package" };
  const file = asModule ? await resolveModuleFile(context.dir, context.dir, word) : (await isPlainFile(absolute)) ? absolute : undefined;
  const relative = file === undefined ? undefined : insideFolder(context.dir, file);
  if (relative === undefined) return { kind: "unresolved", word, reason: "missing" };
  return { kind: "file", path: relative, by };
}

/**
 * Finds a program the way npm's PATH would: the package's own
 * `node_modules/.bin`, then each enclosing `node_modules/.bin` up to the
 * project. A bin that links back into the package itself is a file of the
 * package (and is pinned); one that links elsewhere belongs to another package.
 */
async function binTarget(context: ScriptContext, program: string): Promise<ScriptTarget> {
  if (program === "node-gyp") {
    const local = await findBin(context, program);
    return local ?? { kind: "tool", name: program };
  }
  return (await findBin(context, program)) ?? { kind: "unresolved", word: program, reason: "unknown-command" };
}

async function findBin(context: ScriptContext, program: string): Promise<ScriptTarget | undefined> {
  if (program.includes("$") || program.includes("/")) return undefined;
  for (const binDir of binDirs(context.projectDir, context.dir)) {
    const link = path.join(binDir, program);
    let target: string;
    try {
      target = path.resolve(binDir, await fs.readlink(link));
    } catch {
      continue;
    }
    const own = insideFolder(context.dir, target);
    if (own !== undefined && !own.startsWith("node_modules/")) return { kind: "file", path: own, by: program };
    const providedBy = context.locate(target);
    return { kind: "bin", name: program, providedBy, file: insideFolder(context.projectDir, target) };
  }
  return undefined;
}

/** `<dir>/node_modules/.bin` and every enclosing one up to and including the project's. */
export function binDirs(projectDir: string, dir: string): string[] {
  const dirs: string[] = [];
  let current = dir;
  for (;;) {
    if (path.basename(current) !== "node_modules") dirs.push(path.join(current, "node_modules", ".bin"));
    if (current === projectDir || insideFolder(projectDir, current) === undefined) break;
    current = path.dirname(current);
  }
  return dirs;
}

function ownScript(context: ScriptContext, name: string): string | undefined {
  return Object.hasOwn(context.scripts, name) ? context.scripts[name] : undefined;
}

function dedupe(targets: ScriptTarget[]): ScriptTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = JSON.stringify(t);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
