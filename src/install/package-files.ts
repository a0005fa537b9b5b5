import { lstatSync } from "node:fs";
import path from "node:path";

/** A path inside `dir` written POSIX-style, or undefined when `target` is outside it (lexically). */
export function insideFolder(dir: string, target: string): string | undefined {
  const relative = path.relative(dir, target);
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep).join("/");
}

/** Whether a regular file (not a link, not a folder) exists at `file`. */
export async function isPlainFile(file: string): Promise<boolean> {
  return isPlainFileSync(file);
}

export function isPlainFileSync(file: string): boolean {
  try {
    return lstatSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

const MODULE_SUFFIXES = ["", ".js", ".cjs", ".mjs", ".json", "/index.js", "/index.cjs", "/index.mjs"];

/**
 * Resolves a file name the way `node <file>` or `require("./<file>")` would,
 * without following package.json `main` (best effort), and only inside `dir`.
 */
export async function resolveModuleFile(dir: string, from: string, specifier: string): Promise<string | undefined> {
  const base = path.resolve(from, specifier);
  if (insideFolder(dir, base) === undefined) return undefined;
  for (const suffix of MODULE_SUFFIXES) {
    const candidate = base + suffix;
    if (await isPlainFile(candidate)) return candidate;
  }
  return undefined;
}
