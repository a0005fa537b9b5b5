import { createHash } from "node:crypto";
import path from "node:path";
import { InstallError } from "./errors.js";
import { readBounded } from "./bounded-read.js";
import type { GypInfo } from "./gyp-info.js";
import { jsImports } from "./js-imports.js";
import type { LifecycleScript } from "./lifecycle-script.js";
import { insideFolder, resolveModuleFile } from "./package-files.js";

/**
 * What a pin records: the scripts' text and a hash of every package file
 * they would run. Two versions with the same `hash` run the same install
 * code, so approving one approves the other.
 */
export interface InstallCode {
  /** `sha256-<base64>` over the scripts and the file hashes, in a fixed order. */
  readonly hash: string;
  /** Event → script text. */
  readonly scripts: Readonly<Record<string, string>>;
  /** Package-relative POSIX path → `sha256-<base64>` of its bytes. */
  readonly files: Readonly<Record<string, string>>;
  /** Files that load modules by a computed name: the pin may not cover everything they run. */
  readonly dynamicLoads: readonly string[];
}

const FILE_LIMIT = 64 * 1024 ** 2;
const TOTAL_LIMIT = 512 * 1024 ** 2;
const MAX_FILES = 5000;
const JS_FILE = /\.(?:c|m)?js$|^[^.]*$/;

export function sriSha256(bytes: Uint8Array | string): string {
  return `sha256-${createHash("sha256").update(bytes).digest("base64")}`;
}

/**
 * Hashes a package's install code: the files its scripts name, the relative
 * modules those load (followed transitively), and for native builds the gyp
 * files and the files they name (sources, headers).
 */
export async function installCodeOf(
  dir: string,
  location: string,
  scripts: readonly LifecycleScript[],
  gyp: GypInfo | undefined,
): Promise<InstallCode> {
  const files = new Map<string, string>();
  const dynamicLoads: string[] = [];
  let total = 0;
  const queue: { file: string; followImports: boolean }[] = [];
  for (const script of scripts) {
    for (const target of script.targets) {
      if (target.kind === "file") queue.push({ file: target.path, followImports: target.by === "node" || JS_FILE.test(target.path) });
    }
  }
  // Files the scripts themselves write (`node buildcheck.js > buildcheck.gypi`)
  // are the build's output, not published code: pinning them would make
  // every finished build look like a changed package. Their content is still
  // decided by the pinned script that writes them.
  const written = new Set(scripts.flatMap((s) => redirectTargets(s.command)));
  const buildsNative = gyp !== undefined && (scripts.some((s) => s.hints.includes("native-build")) || gyp.commands.length > 0);
  if (gyp !== undefined && buildsNative) {
    for (const file of [...gyp.gypFiles, ...gyp.referencedFiles]) queue.push({ file, followImports: false });
  }
  while (queue.length > 0) {
    const { file, followImports } = queue.shift() ?? { file: "", followImports: false };
    if (files.has(file) || written.has(path.posix.normalize(file))) continue;
    if (files.size >= MAX_FILES) throw tooMuch(dir, location, `more than ${MAX_FILES} files`);
    const bytes = await readBounded(path.join(dir, file), FILE_LIMIT);
    if (bytes === undefined) continue;
    total += bytes.length;
    if (total > TOTAL_LIMIT) throw tooMuch(dir, location, `more than ${TOTAL_LIMIT / 1024 ** 2} MiB of files`);
    files.set(file, sriSha256(bytes));
    if (!followImports) continue;
    const imports = jsImports(bytes.toString("utf8"));
    if (imports.dynamic) dynamicLoads.push(file);
    for (const specifier of imports.relative) {
      const resolved = await resolveModuleFile(dir, path.dirname(path.join(dir, file)), specifier);
      const relative = resolved === undefined ? undefined : insideFolder(dir, resolved);
      // The package's own package.json changes with every version; its
      // scripts are pinned as text, so following it would only cause churn.
      if (relative !== undefined && relative !== "package.json" && !relative.startsWith("node_modules/")) queue.push({ file: relative, followImports: !relative.endsWith(".json") });
    }
  }
  return codeFrom(scripts, files, dynamicLoads);
}

/** Package-relative files a shell command writes with `>` or `>>` (never `>&`, never absolute or `..` paths). */
export function redirectTargets(command: string): string[] {
  const targets: string[] = [];
  for (const match of command.matchAll(/(?:^|[^>&0-9])>{1,2}\s*([A-Za-z0-9_./-]+)/g)) {
    const target = path.posix.normalize(match[1] ?? "");
    if (target !== "" && !target.startsWith("/") && !target.startsWith("..")) targets.push(target);
  }
  return targets;
}

function codeFrom(scripts: readonly LifecycleScript[], files: Map<string, string>, dynamicLoads: string[]): InstallCode {
  const scriptRecord: Record<string, string> = {};
  for (const script of scripts) scriptRecord[script.event] = script.command;
  const sortedFiles = [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    hash: hashInstallCode(scriptRecord, Object.fromEntries(sortedFiles)),
    scripts: scriptRecord,
    files: Object.fromEntries(sortedFiles),
    dynamicLoads: [...new Set(dynamicLoads)].sort(),
  };
}

/** The aggregate hash: one JSON line per script and per file, sorted, so it is independent of discovery order. */
export function hashInstallCode(scripts: Readonly<Record<string, string>>, files: Readonly<Record<string, string>>): string {
  const lines = [
    ...Object.entries(scripts).map(([event, text]) => JSON.stringify(["script", event, text])),
    ...Object.entries(files).map(([file, hash]) => JSON.stringify(["file", file, hash])),
  ].sort();
  return sriSha256(lines.join("\n"));
}

function tooMuch(dir: string, location: string, what: string): InstallError {
  return new InstallError(`${location}: its install scripts would run ${what}; cordon will not pin that much code.`, {
    file: dir,
    packages: [location],
    hint: `Inspect the package; deny its scripts with \`cordon deny <name>\` if you do not expect a build this large.`,
  });
}
