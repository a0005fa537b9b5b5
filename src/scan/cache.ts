import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { PackageReport } from "./types.js";

/**
 * Bumped whenever a rule changes what it reports, so old results are not
 * reused after an upgrade.
 */
export const SCANNER_VERSION = "scan-2";

/** $XDG_CACHE_HOME/cordon/scan, else ~/.cache/cordon/scan. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith("/") ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "cordon", "scan");
}

/**
 * Reports keyed by package integrity (the registry's sha512 of the tarball):
 * a package whose bytes did not change need not be scanned again. A key
 * also carries the scanner version and anything else the caller says shaped
 * the result (for example what the registry manifest said).
 *
 * What it does not protect against: the cache trusts the integrity it is
 * given. For an installed tree that is the lockfile's, so a file changed in
 * place after install is seen only by a scan without the cache (documented).
 */
export class ScanCache {
  readonly dir: string;
  #made = false;

  constructor(dir: string = defaultCacheDir()) {
    this.dir = dir;
  }

  static keyOf(integrity: string, ...context: string[]): string {
    return createHash("sha256").update([SCANNER_VERSION, integrity, ...context].join("\0")).digest("hex");
  }

  // Synchronous file calls inside an async API: entries are small, a tree
  // has hundreds, and a round trip through libuv's thread pool for each
  // costs more than the call (measured: most of a warm scan).
  async get(key: string): Promise<PackageReport | undefined> {
    try {
      const report = JSON.parse(readFileSync(this.#path(key), "utf8")) as PackageReport;
      return isReport(report) ? { ...report, cached: true } : undefined;
    } catch {
      return undefined;
    }
  }

  has(key: string): boolean {
    return existsSync(this.#path(key));
  }

  /** Atomic: written to a temporary name, then renamed, so a reader never sees half a report. */
  async set(key: string, report: PackageReport): Promise<void> {
    if (!this.#made) mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.#made = true;
    const temporary = `${this.#path(key)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temporary, JSON.stringify({ ...report, cached: false }), { mode: 0o600 });
    renameSync(temporary, this.#path(key));
  }

  #path(key: string): string {
    return join(this.dir, `${key}.json`);
  }
}

function isReport(value: unknown): value is PackageReport {
  const report = value as PackageReport;
  return typeof report === "object" && report !== null && typeof report.name === "string" && Array.isArray(report.findings) && typeof report.verdict === "string";
}
