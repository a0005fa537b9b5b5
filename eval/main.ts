/**
 * `npm run eval`: recall on inert malicious replicas and false-positive rates
 * on the most-downloaded registry packages, fetched with `npm pack` (never
 * installed, never run). Not part of the unit tests: the benign half needs
 * the network the first time and takes minutes; tarballs are cached.
 *
 *   node dist/eval/main.js [--limit=N] [--only=malicious|devset|benign] [--offline]
 *                          [--cache-dir=DIR] [--devset=DIR] [--verbose]
 *
 * Three sets, each with its own figure: the inert replicas in eval/malicious,
 * real malware from the dev set (eval/devset.ts; read as text, never run),
 * and the most-downloaded packages for false positives.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { FileAnalyzerPool, scanPackageDir, scanTarball, type PackageReport, type RegistryManifest } from "../src/scan/index.js";
import { evaluateDevset } from "./devset.js";

const run = promisify(execFile);
const EVAL_DIR = fileURLToPath(new URL("../../eval/", import.meta.url));
const PACK_BATCH = 20;
const PACK_PARALLEL = 3;
const SCAN_PARALLEL = 4;
const DEFAULT_DEVSET = "/work/shared/malware-devset";

/** `holdout`: written after the rules, to test how they generalize, and not used to tune them. */
interface Replica { dir: string; campaign: string; expect: string[]; holdout?: boolean }
interface BenignPackage { name: string; version: string; set: string }

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      limit: { type: "string" }, only: { type: "string" }, offline: { type: "boolean", default: false },
      "cache-dir": { type: "string" }, devset: { type: "string" }, verbose: { type: "boolean", default: false },
    },
  });
  const cacheDir = values["cache-dir"] ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "cordon", "eval-tarballs");
  await using pool = new FileAnalyzerPool();
  const summary: Record<string, unknown> = {};
  const wanted = (set: string) => values.only === undefined || values.only === set;
  if (wanted("malicious")) summary.malicious = await evaluateMalicious(pool);
  if (wanted("devset")) summary.devset = await evaluateDevset(pool, values.devset ?? process.env.CORDON_DEVSET ?? DEFAULT_DEVSET, { verbose: values.verbose });
  if (wanted("benign")) {
    summary.benign = await evaluateBenign(pool, {
      cacheDir, offline: values.offline, verbose: values.verbose, limit: values.limit === undefined ? Infinity : Number(values.limit),
    });
  }
  await mkdir(cacheDir, { recursive: true });
  await writeFile(join(cacheDir, "eval-report.json"), JSON.stringify(summary, null, 2));
  printSummary(summary as Parameters<typeof printSummary>[0]);
  console.log(`\nFull results: ${join(cacheDir, "eval-report.json")}`);
}

/** The headline figures, one per line, in one place at the end. */
function printSummary(summary: {
  malicious?: Awaited<ReturnType<typeof evaluateMalicious>>;
  devset?: Awaited<ReturnType<typeof evaluateDevset>>;
  benign?: Awaited<ReturnType<typeof evaluateBenign>>;
}): void {
  const share = (hits: number, total: number) => `${(total ? hits / total : 0).toFixed(2)} (${hits} of ${total})`;
  const malicious = (rows: ReadonlyArray<{ verdict: string }>) => share(rows.filter((row) => row.verdict === "malicious").length, rows.length);
  const flagged = (rows: ReadonlyArray<{ verdict: string }>) => share(rows.filter((row) => row.verdict !== "ok").length, rows.length);
  console.log("\nSummary");
  if (summary.malicious) console.log(`  replicas, recall (malicious):                 ${malicious(summary.malicious.rows)}`);
  if (summary.devset) {
    const { rows } = summary.devset;
    const development = rows.filter((row) => !row.holdout);
    const heldOut = rows.filter((row) => row.holdout);
    console.log(`  real malware, development part, malicious:    ${malicious(development)}`);
    console.log(`  real malware, development part, flagged:      ${flagged(development)}`);
    console.log(`  real malware, held-out part, malicious:       ${malicious(heldOut)}`);
    console.log(`  real malware, held-out part, flagged:         ${flagged(heldOut)}`);
  }
  if (summary.benign) {
    const { packages, flagged: flaggedBenign } = summary.benign;
    const percent = (verdict: string) => {
      const count = flaggedBenign.filter((f) => f.verdict === verdict).length;
      return `${(packages ? (100 * count) / packages : 0).toFixed(2)} % (${count} of ${packages})`;
    };
    console.log(`  benign, called malicious:                     ${percent("malicious")}`);
    console.log(`  benign, called suspicious:                    ${percent("suspicious")}`);
  }
}

async function evaluateMalicious(pool: FileAnalyzerPool) {
  const replicas = await loadReplicas();
  const rows = [];
  for (const replica of replicas) {
    // registry.json, when present, is what the registry's manifest would say (for manifest confusion).
    const registry = existsSync(join(replica.dir, "registry.json")) ? (JSON.parse(await readFile(join(replica.dir, "registry.json"), "utf8")) as RegistryManifest) : undefined;
    const report = await scanPackageDir(join(replica.dir, "package"), { cache: false, pool, ...(registry ? { registry } : {}) });
    const fired = new Set(report.findings.filter((f) => f.severity !== "info").map((f) => f.rule));
    rows.push({ replica: replica.dir.split("/").pop()!, campaign: replica.campaign, holdout: replica.holdout === true, verdict: report.verdict, expect: replica.expect, missed: replica.expect.filter((rule) => !fired.has(rule)) });
  }
  console.log("Malicious replicas");
  for (const row of rows) console.log(`  ${row.replica.padEnd(28)} ${row.campaign.padEnd(22)} ${row.verdict.padEnd(10)} ${row.missed.length ? `missed: ${row.missed.join(", ")}` : ""}`);
  const perCampaign = groupRate(rows, (row) => row.campaign, (row) => row.verdict === "malicious");
  const pairs = rows.flatMap((row) => row.expect.map((rule) => ({ rule, hit: !row.missed.includes(rule) })));
  const perRule = groupRate(pairs, (pair) => pair.rule, (pair) => pair.hit);
  const recall = rows.filter((row) => row.verdict === "malicious").length / rows.length;
  const flagged = rows.filter((row) => row.verdict !== "ok").length / rows.length;
  console.log(`  recall (verdict malicious): ${recall.toFixed(3)}   flagged at all: ${flagged.toFixed(3)}   (${rows.length} replicas)`);
  const holdouts = rows.filter((row) => row.holdout);
  if (holdouts.length > 0) console.log(`  holdout replicas: ${holdouts.filter((row) => row.verdict === "malicious").length}/${holdouts.length} malicious, ${holdouts.filter((row) => row.verdict !== "ok").length}/${holdouts.length} flagged`);
  console.log(`  per campaign: ${formatRates(perCampaign)}`);
  console.log(`  per rule (expected rule fired): ${formatRates(perRule)}`);
  return { recall, flagged, perCampaign, perRule, rows };
}

async function loadReplicas(): Promise<Replica[]> {
  const root = join(EVAL_DIR, "malicious");
  const replicas: Replica[] = [];
  for (const entry of (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const label = JSON.parse(await readFile(join(root, entry.name, "campaign.json"), "utf8")) as Omit<Replica, "dir">;
    replicas.push({ dir: join(root, entry.name), ...label });
  }
  return replicas;
}

async function evaluateBenign(pool: FileAnalyzerPool, options: { cacheDir: string; offline: boolean; verbose: boolean; limit: number }) {
  const list = (await loadBenignList()).slice(0, options.limit);
  await mkdir(options.cacheDir, { recursive: true });
  const failures = options.offline ? [] : await fetchMissing(list, options.cacheDir);
  const available = list.filter((pkg) => existsSync(tarballPath(options.cacheDir, pkg)));
  console.log(`\nBenign set: ${available.length} of ${list.length} tarballs available${failures.length ? ` (${failures.length} could not be fetched: ${failures.slice(0, 5).join(", ")}${failures.length > 5 ? ", …" : ""})` : ""}`);
  const reports: Array<{ pkg: BenignPackage; report: PackageReport; ms: number }> = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: SCAN_PARALLEL }, async () => {
    while (next < available.length) {
      const pkg = available[next++]!;
      const begin = performance.now();
      const report = await scanTarball(tarballPath(options.cacheDir, pkg), { cache: false, pool });
      reports.push({ pkg, report, ms: performance.now() - begin });
    }
  }));
  const wall = performance.now() - started;
  const malicious = reports.filter((r) => r.report.verdict === "malicious");
  const suspicious = reports.filter((r) => r.report.verdict === "suspicious");
  const times = reports.map((r) => r.ms).sort((a, b) => a - b);
  const jsBytes = reports.reduce((sum, r) => sum + r.report.stats.jsBytes, 0);
  const rate = (n: number) => (reports.length ? n / reports.length : 0);
  console.log(`  false positives: malicious ${malicious.length} (${(100 * rate(malicious.length)).toFixed(2)}%), suspicious ${suspicious.length} (${(100 * rate(suspicious.length)).toFixed(2)}%)`);
  console.log(`  time per package: median ${percentile(times, 0.5).toFixed(0)} ms, p95 ${percentile(times, 0.95).toFixed(0)} ms, max ${(times.at(-1) ?? 0).toFixed(0)} ms; wall ${(wall / 1000).toFixed(1)} s for ${(jsBytes / 1e6).toFixed(0)} MB of JavaScript`);
  for (const r of [...malicious, ...suspicious]) {
    console.log(`  ${r.report.verdict.padEnd(10)} ${r.pkg.name}@${r.pkg.version} [${r.pkg.set}]`);
    const shown = r.report.findings.filter((f) => f.severity === "critical" || f.severity === "high" || (options.verbose && f.severity === "medium"));
    for (const f of shown.slice(0, options.verbose ? 20 : 3)) console.log(`      ${f.severity} ${f.rule} ${f.file}:${f.line} ${f.message} | ${f.evidence.slice(0, 100)}`);
  }
  return {
    packages: reports.length, requested: list.length, fetchFailures: failures,
    maliciousRate: rate(malicious.length), suspiciousRate: rate(suspicious.length),
    flagged: [...malicious, ...suspicious].map((r) => ({ name: r.pkg.name, version: r.pkg.version, verdict: r.report.verdict, findings: r.report.findings.filter((f) => f.severity !== "info") })),
    medianMs: percentile(times, 0.5), p95Ms: percentile(times, 0.95), wallMs: wall, jsBytes,
  };
}

async function loadBenignList(): Promise<BenignPackage[]> {
  const lines = (await readFile(join(EVAL_DIR, "benign-top.tsv"), "utf8")).split("\n").slice(1).filter(Boolean);
  return lines.map((line) => {
    const [name, version, , set] = line.split("\t");
    return { name: name!, version: version!, set: set ?? "top" };
  });
}

function tarballPath(cacheDir: string, pkg: BenignPackage): string {
  return join(cacheDir, `${pkg.name.replace(/^@/, "").replace("/", "-")}-${pkg.version}.tgz`);
}

/** npm pack in batches from the configured registry, scripts off; a failed batch is retried one by one. Returns the specs that failed. */
async function fetchMissing(list: BenignPackage[], cacheDir: string): Promise<string[]> {
  const missing = list.filter((pkg) => !existsSync(tarballPath(cacheDir, pkg))).map((pkg) => `${pkg.name}@${pkg.version}`);
  if (missing.length === 0) return [];
  console.log(`Fetching ${missing.length} tarballs with npm pack into ${cacheDir} …`);
  const batches: string[][] = [];
  for (let i = 0; i < missing.length; i += PACK_BATCH) batches.push(missing.slice(i, i + PACK_BATCH));
  const failures: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: PACK_PARALLEL }, async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      if (await pack(batch, cacheDir)) continue;
      for (const spec of batch) if (!(await pack([spec], cacheDir))) failures.push(spec);
    }
  }));
  return failures;
}

async function pack(specs: string[], cacheDir: string): Promise<boolean> {
  try {
    await run("npm", ["pack", ...specs, "--ignore-scripts", "--json", "--pack-destination", cacheDir], { cwd: cacheDir, timeout: 300_000, maxBuffer: 256 << 20 });
    return true;
  } catch {
    return false;
  }
}

function groupRate<T>(items: T[], key: (item: T) => string, hit: (item: T) => boolean): Record<string, number> {
  const groups = new Map<string, { hits: number; total: number }>();
  for (const item of items) {
    const group = groups.get(key(item)) ?? { hits: 0, total: 0 };
    group.total++;
    if (hit(item)) group.hits++;
    groups.set(key(item), group);
  }
  return Object.fromEntries([...groups].map(([name, group]) => [name, group.hits / group.total]));
}

function formatRates(rates: Record<string, number>): string {
  return Object.entries(rates).map(([name, rate]) => `${name} ${rate.toFixed(2)}`).join(", ");
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0;
}

main().catch((error: unknown) => {
  console.error(`eval failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
