import { basename, join } from "node:path";
import { ConfigError } from "../errors.js";
import { analyzeFile, type FileAnalysis } from "./analyze-file.js";
import { FileAnalyzer, type FileRef } from "./file-ref.js";
import { ScanCache } from "./cache.js";
import { hostile, listPackageFiles, readHead, type ListedFile } from "./package-files.js";
import { installTimeClosure } from "./install-reach.js";
import { inlineInstallCode, installTimeFilesOf, packageJsonFacts } from "./package-meta.js";
import { PACKAGE_RULES } from "./rules/index.js";
import type { PackageContext, PackageJsonFacts } from "./rules/rule.js";
import type { Finding, PackageReport, RegistryManifest } from "./types.js";
import { verdictOf } from "./verdict.js";
import { FileAnalyzerPool } from "./worker/pool.js";

export interface ScanOptions {
  /** Where results are kept by integrity; `false` to scan afresh and store nothing. Default: the user's cache folder. */
  cache?: ScanCache | false;
  /** A pool shared across packages (scanTree makes one); otherwise one is made for large packages. */
  pool?: FileAnalyzerPool;
  /** Worker threads when this call makes its own pool. Default: the machine's cores, at most 4. */
  workers?: number;
  /** The package's registry integrity, when known: enables the cache. */
  integrity?: string;
  /** What the registry's manifest says, for the manifest-confusion rule. */
  registry?: RegistryManifest;
  /** Scan files under nested node_modules as part of this package (bundled dependencies). */
  includeNodeModules?: boolean;
  /** Findings the caller already has about this input (tarball extraction). */
  extraFindings?: Finding[];
  /** How the report names where the package came from. Default: the folder. */
  source?: string;
  signal?: AbortSignal;
}

const JS_FILE = /\.(?:c|m)?js$/i;
/** Shell, batch and PowerShell scripts: an install script or a JS file may run them (ua-parser-js's miner was a .sh and a .bat). */
const SCRIPT_FILE = /\.(?:sh|bash|bat|cmd|ps1)$/i;
/** Extensions that are never executables, so their first bytes are not read. */
const TEXT_FILE = /\.(?:md|markdown|txt|json|map|ts|mts|cts|tsx|jsx|css|scss|less|html?|ya?ml|flow|coffee|d\.ts|svg|lock|LICENSE|png|jpe?g|gif|ico|webp|woff2?|ttf|eot)$/i;
/** Below this many files, starting worker threads costs more than it saves. */
const IN_PROCESS_FILES = 200;
/** Files per message to a worker: enough to make messaging cheap, few enough to spread a package across workers. */
const BATCH_FILES = 48;

/**
 * Scans one package folder without running any of it: reads package.json
 * and the files, runs the file rules (in worker threads for large packages)
 * and the package rules, and returns a verdict with findings.
 */
export async function scanPackageDir(dir: string, options: ScanOptions = {}): Promise<PackageReport> {
  const started = performance.now();
  const cache = options.cache === false ? undefined : (options.cache ?? new ScanCache());
  const key = cacheKeyOf(options);
  const hit = key ? await cache?.get(key) : undefined;
  if (hit) return { ...hit, source: options.source ?? dir };
  const manifestJson = await readManifest(dir);
  const manifest = packageJsonFacts(manifestJson.value, basename(dir));

  const listing = await listPackageFiles(dir, { includeNodeModules: options.includeNodeModules ?? false });
  const paths = new Set(listing.files.map((file) => file.path));
  const installTimeFiles = installTimeClosure(dir, installTimeFilesOf(manifest, paths), paths);
  const analyses = await analyzeFiles(listing.files, installTimeFiles, options);
  const inline = inlineInstallCode(manifest).map(({ script, code }) =>
    analyzeFile({ path: `package.json#scripts.${script}`, bytes: Buffer.from(code), installTime: true, isJavaScript: true, shellScript: false }));
  const context: PackageContext = {
    manifest,
    files: analyses.map((analysis) => analysis.summary),
    installTimeFiles,
    bindingGyp: paths.has("binding.gyp") ? await readText(join(dir, "binding.gyp")) : undefined,
    registry: options.registry,
  };
  const findings = [
    ...(options.extraFindings ?? []),
    ...manifestJson.findings,
    ...listing.findings,
    ...PACKAGE_RULES.flatMap((rule) => rule.check(context)),
    ...[...analyses, ...inline].flatMap((analysis) => analysis.findings),
  ];
  const report = reportOf(manifest, findings, options, analyses, listing.files.length, performance.now() - started, dir);
  if (key && cache) await cache.set(key, report).catch(() => undefined);
  return report;
}

/** The cache key for a scan with these options, or undefined when the integrity is unknown. */
export function cacheKeyOf(options: ScanOptions): string | undefined {
  return options.integrity ? ScanCache.keyOf(options.integrity, JSON.stringify(options.registry ?? null), String(options.includeNodeModules ?? false)) : undefined;
}

function reportOf(manifest: PackageJsonFacts, findings: Finding[], options: ScanOptions, analyses: FileAnalysis[], files: number, milliseconds: number, dir: string): PackageReport {
  const js = analyses.filter((analysis) => analysis.summary.isJavaScript);
  return {
    name: manifest.name,
    version: manifest.version,
    verdict: verdictOf(findings),
    findings,
    source: options.source ?? dir,
    ...(options.integrity ? { integrity: options.integrity } : {}),
    cached: false,
    stats: {
      files,
      parsedFiles: js.filter((analysis) => analysis.parsed).length,
      jsBytes: js.reduce((sum, analysis) => sum + analysis.summary.size, 0),
      milliseconds: Math.round(milliseconds),
    },
  };
}

async function readManifest(dir: string): Promise<{ value: unknown; findings: Finding[] }> {
  let text: string;
  try {
    const { bytes, size } = readHead(join(dir, "package.json"), 1 << 20);
    if (size > 1 << 20) return { value: {}, findings: [hostile("medium", "package.json", "package.json is larger than 1 MiB (not read)")] };
    text = Buffer.from(bytes).toString("utf8");
  } catch (error) {
    throw new ConfigError(`${dir} is not a package folder: it has no readable package.json.`, {
      input: dir, cause: error,
      hint: "Point cordon scan at a package folder, a project with node_modules, a .tgz file, or npm:NAME@VERSION.",
    });
  }
  try {
    return { value: JSON.parse(text), findings: [] };
  } catch {
    return { value: {}, findings: [hostile("medium", "package.json", "package.json is not valid JSON: npm would refuse it, so something else reads it")] };
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    const { bytes } = readHead(path, 1 << 20);
    return Buffer.from(bytes).toString("utf8");
  } catch {
    return undefined;
  }
}

/**
 * JavaScript files, files an install script runs, and the first bytes of
 * anything that might be an executable go to the analyzer in batches (to
 * the pool when there is one or the package is large, else in this thread).
 */
async function analyzeFiles(files: ListedFile[], installTimeFiles: ReadonlySet<string>, options: ScanOptions): Promise<FileAnalysis[]> {
  const refs: FileRef[] = files
    .filter((file) => JS_FILE.test(file.path) || SCRIPT_FILE.test(file.path) || installTimeFiles.has(file.path) || !TEXT_FILE.test(file.path))
    .map((file) => {
      const shellScript = SCRIPT_FILE.test(file.path);
      const installTime = installTimeFiles.has(file.path);
      return { ...file, installTime, shellScript, isJavaScript: !shellScript && (JS_FILE.test(file.path) || installTime) };
    });
  const ownPool = !options.pool && refs.length > IN_PROCESS_FILES ? new FileAnalyzerPool(options.workers === undefined ? {} : { size: options.workers }) : undefined;
  const pool = options.pool ?? ownPool;
  try {
    options.signal?.throwIfAborted();
    if (!pool) {
      const analyzer = new FileAnalyzer();
      return refs.map((ref) => analyzer.analyze(ref));
    }
    const batches: FileRef[][] = [];
    for (let i = 0; i < refs.length; i += BATCH_FILES) batches.push(refs.slice(i, i + BATCH_FILES));
    return (await Promise.all(batches.map((batch) => pool.analyze(batch)))).flat();
  } finally {
    await ownPool?.close();
  }
}
