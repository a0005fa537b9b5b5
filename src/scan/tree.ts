import { access, readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { ConfigError } from "../errors.js";
import { ScanCache } from "./cache.js";
import { mapLimit } from "./concurrency.js";
import { isRecord } from "./package-meta.js";
import { cacheKeyOf, scanPackageDir, type ScanOptions } from "./scan-package.js";
import type { PackageReport, RegistryManifest, TreeReport } from "./types.js";
import { verdictRank, worstVerdict } from "./verdict.js";
import { FileAnalyzerPool } from "./worker/pool.js";

interface LockEntry {
  integrity?: string;
  hasInstallScript: boolean;
}

const PACKAGE_CONCURRENCY = 64;

/**
 * Scans every package installed under a project's node_modules (nested ones
 * too), sharing one worker pool. Integrities and the registry's
 * hasInstallScript flag come from npm's hidden lockfile
 * (node_modules/.package-lock.json) when it is there: they make the cache
 * work and feed the manifest-confusion rule. Linked packages (workspaces,
 * `npm link`) are the user's own code and are skipped.
 */
export async function scanTree(projectDir: string, options: ScanOptions = {}): Promise<TreeReport> {
  const started = performance.now();
  const root = join(projectDir, "node_modules");
  const dirs = await packageDirs(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT" && error.code !== "ENOTDIR") throw error;
    throw new ConfigError(`${projectDir} has no node_modules folder to scan.`, {
      input: projectDir,
      hint: "Install first (cordon install, or npm install --ignore-scripts), or scan a package: cordon scan ./folder, a .tgz, or npm:NAME@VERSION.",
    });
  });
  const lock = await readHiddenLockfile(root);
  const cache = options.cache === false ? false : (options.cache ?? new ScanCache());
  const ownPool = options.pool ? undefined : new FileAnalyzerPool(options.workers === undefined ? {} : { size: options.workers });
  const pool = options.pool ?? ownPool!;
  if (dirs.length > 0 && !lockCovers(lock, projectDir, dirs, cache)) pool.warmUp();
  try {
    // The same package (same integrity) is often installed several times in
    // one tree; like the cache, this trusts the lockfile's integrity, so it
    // is off when the cache is.
    const byIntegrity = new Map<string, Promise<PackageReport>>();
    const reports = await mapLimit(dirs, PACKAGE_CONCURRENCY, async (dir) => {
      const entry = lock.get(relative(projectDir, dir).split("\\").join("/"));
      const scanOptions: ScanOptions = { ...options, cache, pool, ...lockOptions(entry) };
      const integrity = cache === false ? undefined : scanOptions.integrity;
      if (integrity === undefined) return scanPackageDir(dir, scanOptions);
      const first = byIntegrity.get(integrity);
      if (first) return { ...(await first), source: dir };
      const scan = scanPackageDir(dir, scanOptions);
      byIntegrity.set(integrity, scan);
      return scan;
    });
    reports.sort((a, b) => verdictRank(b.verdict) - verdictRank(a.verdict) || a.name.localeCompare(b.name));
    return {
      root: projectDir,
      verdict: worstVerdict(reports.map((report) => report.verdict)),
      packages: reports,
      stats: {
        packages: reports.length,
        cachedPackages: reports.filter((report) => report.cached).length,
        files: sum(reports, (report) => report.stats.files),
        parsedFiles: sum(reports, (report) => report.stats.parsedFiles),
        jsBytes: sum(reports, (report) => report.stats.jsBytes),
        milliseconds: Math.round(performance.now() - started),
      },
    };
  } finally {
    await ownPool?.close();
  }
}

/** True when the cache can answer for every package, so no thread needs to start. */
function lockCovers(lock: Map<string, LockEntry>, projectDir: string, dirs: string[], cache: ScanCache | false): boolean {
  if (cache === false) return false;
  return dirs.every((dir) => {
    const key = cacheKeyOf(lockOptions(lock.get(relative(projectDir, dir).split("\\").join("/"))));
    return key !== undefined && cache.has(key);
  });
}

function lockOptions(entry: LockEntry | undefined): { integrity?: string; registry?: RegistryManifest } {
  if (!entry?.integrity) return {};
  return { integrity: entry.integrity, registry: { hasInstallScript: entry.hasInstallScript } };
}

/** Package folders under node_modules (npm's nested layout or pnpm's store), without following links. */
async function packageDirs(nodeModules: string): Promise<string[]> {
  const found: string[] = [];
  const pending = [nodeModules];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      // pnpm keeps the real folders in node_modules/.pnpm/<id>/node_modules/<name>
      // and links to them elsewhere; links are never followed, so walk the store.
      if (entry.isDirectory() && entry.name === ".pnpm") {
        for (const id of await readdir(join(dir, entry.name), { withFileTypes: true })) {
          if (id.isDirectory()) pending.push(join(dir, entry.name, id.name, "node_modules"));
        }
        continue;
      }
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith("@")) {
        pending.push(path);
        continue;
      }
      if (await exists(join(path, "package.json"))) found.push(path);
      const nested = join(path, "node_modules");
      if (await exists(nested)) pending.push(nested);
    }
  }
  return found.sort();
}

async function readHiddenLockfile(nodeModules: string): Promise<Map<string, LockEntry>> {
  const entries = new Map<string, LockEntry>();
  let lock: unknown;
  try {
    lock = JSON.parse(await readFile(join(nodeModules, ".package-lock.json"), "utf8"));
  } catch {
    return entries;
  }
  if (!isRecord(lock) || !isRecord(lock.packages)) return entries;
  for (const [path, value] of Object.entries(lock.packages)) {
    if (!isRecord(value) || value.link === true) continue;
    entries.set(path, {
      ...(typeof value.integrity === "string" ? { integrity: value.integrity } : {}),
      hasInstallScript: value.hasInstallScript === true,
    });
  }
  return entries;
}


function sum<T>(items: T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
