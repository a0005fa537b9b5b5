import { posix } from "node:path";
import { INSTALL_SCRIPTS, type PackageJsonFacts } from "./rules/rule.js";

/**
 * Reads the parts of a hostile package.json that the rules need, as plain
 * typed values: anything of the wrong type is dropped, never trusted.
 */
export function packageJsonFacts(json: unknown, fallbackName: string): PackageJsonFacts {
  const record = isRecord(json) ? json : {};
  const scripts: Record<string, string> = {};
  if (isRecord(record.scripts)) {
    for (const [name, command] of Object.entries(record.scripts)) if (typeof command === "string") scripts[name] = command;
  }
  return {
    name: typeof record.name === "string" ? record.name : fallbackName,
    version: typeof record.version === "string" ? record.version : "0.0.0",
    scripts,
    hasGypfile: record.gypfile === true,
    main: typeof record.main === "string" ? record.main : undefined,
  };
}

/**
 * The install scripts, and the scripts they run with `npm run x` (or yarn's
 * and pnpm's): `"preinstall": "npm run setup"` puts `setup` at install time
 * too, so a payload one script away is not out of sight.
 */
export function installScriptsOf(manifest: PackageJsonFacts): Array<{ name: string; command: string }> {
  const found: Array<{ name: string; command: string }> = INSTALL_SCRIPTS.filter((name) => manifest.scripts[name] !== undefined).map((name) => ({ name, command: manifest.scripts[name]! }));
  const seen = new Set(found.map((script) => script.name));
  for (let i = 0; i < found.length && found.length < MAX_INSTALL_SCRIPTS; i++) {
    for (const match of found[i]!.command.matchAll(RUN_SCRIPT)) {
      const name = match[1]!;
      if (seen.has(name) || manifest.scripts[name] === undefined) continue;
      seen.add(name);
      found.push({ name, command: manifest.scripts[name]! });
    }
  }
  return found;
}

const RUN_SCRIPT = /\b(?:npm|pnpm|yarn)\s+(?:run(?:-script)?\s+)?(?:--?[\w-]+\s+)*([\w:.-]+)/g;
const MAX_INSTALL_SCRIPTS = 16;

/**
 * Files an install script runs: `node x.js`, `sh ./setup.sh`, `bun run y`,
 * `./bin/tool`, and `require('./z')` inside `node -e "..."`. Matching is by
 * path against the package's own files, so a word that is not a file is ignored.
 */
export function installTimeFilesOf(manifest: PackageJsonFacts, files: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  for (const { command } of installScriptsOf(manifest)) {
    const words = command.match(/[\w@./\\-]+\.?[\w-]*/g) ?? [];
    const required = [...command.matchAll(/require\(\s*\\?['"]([^'"\\]+)\\?['"]\s*\)/g)].map((match) => match[1]!);
    // `node .` runs the package's main (ac-addon's postinstall ran its bundled .exe from there).
    const main = /\bnode(?:js)?\s+\.\/?(?=[\s&;|]|$)/.test(command) ? [manifest.main ?? "index.js"] : [];
    for (const word of [...words, ...required, ...main]) {
      const resolved = resolveInPackage(word, files);
      if (resolved) found.add(resolved);
    }
  }
  return found;
}

function resolveInPackage(word: string, files: ReadonlySet<string>): string | undefined {
  const normalized = posix.normalize(word.replace(/\\/g, "/"));
  if (normalized.startsWith("../") || normalized.startsWith("/")) return undefined;
  for (const candidate of [normalized, `${normalized}.js`, `${normalized}.cjs`, `${normalized}.mjs`, `${normalized}/index.js`]) {
    if (files.has(candidate)) return candidate;
  }
  return undefined;
}

/** The code of `node -e "..."` / `node --eval '...'` in an install script, analyzed as its own install-time file. */
export function inlineInstallCode(manifest: PackageJsonFacts): Array<{ script: string; code: string }> {
  const found: Array<{ script: string; code: string }> = [];
  for (const { name, command } of installScriptsOf(manifest)) {
    for (const match of command.matchAll(/\bnode(?:js)?\s+(?:-\S+\s+)*(?:-e|--eval|-p|--print)\s+(?:"((?:[^"\\]|\\.)*)"|'([^']*)')/g)) {
      const code = match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : match[2]!;
      found.push({ script: name, code });
    }
  }
  return found;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
