/**
 * Throughput of `cordon scan` on a real node_modules (≥ 200 packages), cold
 * and warm cache. The tree is installed once with `npm install
 * --ignore-scripts` from npm's configured registry into a temporary folder
 * and reused by later runs; the result cache is always a fresh folder.
 *
 * Called by bench/main.ts; also runs alone: node dist/bench/scan.js
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ScanCache, scanTree } from "../src/scan/index.js";

const run = promisify(execFile);

/** Popular tools with big dependency trees (about 700 packages together). */
const TREE_SPECS = ["jest@30.5.2", "webpack@5.112.2", "eslint@10.15.0", "@babel/core@8.1.2"];
const MIN_PACKAGES = 200;

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export async function benchScan(): Promise<BenchResult[]> {
  const project = await benchTree();
  const cacheDir = await mkdtemp(join(tmpdir(), "cordon-bench-cache-"));
  try {
    const cache = new ScanCache(cacheDir);
    const cold = await timed(() => scanTree(project, { cache }));
    const warm = await timed(() => scanTree(project, { cache }));
    const { stats } = cold.result;
    if (stats.packages < MIN_PACKAGES) throw new Error(`the bench tree has ${stats.packages} packages; expected at least ${MIN_PACKAGES}`);
    const megabytes = stats.jsBytes / 1e6;
    const tree = `${stats.packages} packages, ${megabytes.toFixed(1)} MB JS in ${stats.files} files`;
    return [
      { name: "scan cold: JavaScript throughput", value: round(megabytes / cold.seconds), unit: "MB/s", note: `${tree}; goal ≥ 50` },
      { name: "scan cold: whole tree", value: round(cold.seconds), unit: "s", note: `${stats.parsedFiles} files parsed after the pre-filter (${Math.round((100 * stats.parsedFiles) / Math.max(1, stats.files))}% of files)` },
      { name: "scan cold: CPU time, all threads", value: round(cold.cpuSeconds), unit: "s", note: `${round(megabytes / cold.cpuSeconds)} MB per CPU-second; load average ${loadavg()[0]!.toFixed(1)} from other processes during the run` },
      { name: "scan warm: whole tree", value: round(warm.seconds, 3), unit: "s", note: `${warm.result.stats.cachedPackages}/${warm.result.stats.packages} from cache; goal ≤ 0.2` },
      { name: "scan verdicts on the bench tree", value: cold.result.packages.filter((p) => p.verdict !== "ok").length, unit: "flagged packages", note: flaggedNames(cold.result.packages) },
    ];
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** Installs the tree once per spec list; a half-made tree (no lockfile) is made again. */
async function benchTree(): Promise<string> {
  const id = createHash("sha256").update(TREE_SPECS.join(" ")).digest("hex").slice(0, 12);
  const project = join(tmpdir(), `cordon-bench-tree-${id}`);
  if (existsSync(join(project, "node_modules", ".package-lock.json"))) return project;
  await rm(project, { recursive: true, force: true });
  await mkdir(project, { recursive: true });
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "cordon-bench-tree", private: true }));
  await run("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", ...TREE_SPECS], { cwd: project, timeout: 600_000, maxBuffer: 64 << 20 });
  return project;
}

/** Wall time, and CPU time of the whole process (all threads): the machine is shared, so wall time alone says little. */
async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; cpuSeconds: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { result, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

function round(value: number, digits = 2): number {
  return Number(value.toFixed(digits));
}

function flaggedNames(packages: Array<{ name: string; verdict: string }>): string {
  const flagged = packages.filter((p) => p.verdict !== "ok").map((p) => `${p.name} (${p.verdict})`);
  return flagged.length ? flagged.join(", ") : "none";
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const result of await benchScan()) console.log(`${result.name}: ${result.value} ${result.unit}${result.note ? `  (${result.note})` : ""}`);
}
