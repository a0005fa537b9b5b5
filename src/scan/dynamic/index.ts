/**
 * `cordon scan --dynamic`: the behavioural verdict. Static analysis cannot
 * see code that is fetched, decrypted or triggered by the environment; this
 * installs a copy of the package in an observation sandbox (honeytokens, a
 * sinkhole network, a fake CI runner) and reports what it did, as findings
 * under `behaviour/...` merged with the static scan's.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { mapLimit } from "../concurrency.js";
import { scanPackageDir, type ScanOptions } from "../scan-package.js";
import { fetchSpec } from "../spec.js";
import { scanTarball } from "../tarball.js";
import { extractTarball } from "../tarball/extract.js";
import type { BehaviourSummary, PackageReport } from "../types.js";
import { verdictOf } from "../verdict.js";
import { behaviourFindings, findLeaks } from "./findings.js";
import { observePackage, type Observation, type ObserveOptions } from "./observe.js";
import { enclosingNodeModules } from "./workspace.js";

export { observePackage, DEFAULT_OBSERVE_TIMEOUT_MS, type Observation, type ObserveOptions } from "./observe.js";
export { behaviourFindings } from "./findings.js";
export { plantHoneytokens, type Honeytoken } from "./honeytokens.js";

export interface DynamicScanOptions extends ScanOptions {
  observe?: ObserveOptions;
}

/**
 * A package folder: scanned, then observed (a copy; the folder itself is
 * never run in). A folder inside a node_modules tree finds its dependencies
 * in that tree (read-only).
 */
export async function scanPackageDirDynamic(dir: string, options: DynamicScanOptions = {}): Promise<PackageReport> {
  const report = await scanPackageDir(dir, options);
  return withBehaviour(report, await observePackage(dir, observeOptions(options, dir)));
}

/** A tarball: scanned, then unpacked (with the scanner's strict reader) into a private folder and observed. */
export async function scanTarballDynamic(tarball: string, options: DynamicScanOptions = {}): Promise<PackageReport> {
  const report = await scanTarball(tarball, options);
  const workspace = await mkdtemp(join(os.tmpdir(), "cordon-unpack-"));
  try {
    const dir = join(workspace, "package");
    const extracted = await extractTarball(tarball, dir);
    if (extracted.unreadable) return report;
    return withBehaviour(report, await observePackage(dir, observeOptions(options)));
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

/** An npm: spec, fetched once with scripts off, then as a tarball. */
export async function scanSpecDynamic(spec: string, options: DynamicScanOptions = {}): Promise<PackageReport> {
  const workspace = await mkdtemp(join(os.tmpdir(), "cordon-fetch-"));
  try {
    const fetched = await fetchSpec(spec, workspace, options.signal);
    return await scanTarballDynamic(fetched.tarball, { ...options, integrity: fetched.integrity, registry: fetched.registry, source: fetched.source });
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

/**
 * Observes the packages of a tree scan side by side, as many at once as
 * there are cores (each observation is one sandbox with a few processes).
 * A package whose observation fails keeps its static report, with the
 * failure as a finding.
 */
export async function addBehaviour(reports: readonly PackageReport[], options: DynamicScanOptions & { concurrency?: number } = {}): Promise<PackageReport[]> {
  const limit = options.concurrency ?? Math.max(1, os.availableParallelism());
  return mapLimit(reports, limit, async (report) => {
    try {
      return withBehaviour(report, await observePackage(report.source, observeOptions(options, report.source)));
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      const findings = [...report.findings, { rule: "behaviour/not-observed", severity: "info" as const, file: "package.json", line: 0, column: 0, message: "The observation sandbox could not run this package", evidence: message.slice(0, 300) }];
      return { ...report, findings };
    }
  });
}

/** The static report with the behaviour findings added and the verdict weighed again over both. */
export function withBehaviour(report: PackageReport, observation: Observation): PackageReport {
  const findings = [...report.findings, ...behaviourFindings(observation, observation.entry)];
  return { ...report, findings, verdict: verdictOf(findings), behaviour: summarize(observation) };
}

function summarize(observation: Observation): BehaviourSummary {
  const leaks = findLeaks(observation.exchanges, observation.tokens);
  return {
    steps: observation.steps.map((s) => ({ event: s.event, exitCode: s.exitCode, signal: s.signal, milliseconds: s.ms })),
    notRun: observation.notRun,
    dependenciesInstalled: observation.dependenciesInstalled.length,
    requests: observation.exchanges.slice(0, 200).map((e) => ({
      via: e.via, kind: e.kind, host: e.host, port: e.port,
      ...(e.method ? { method: e.method } : {}), ...(e.target ? { target: e.target.slice(0, 300) } : {}),
      bytesSent: e.sentBytes,
      secrets: leaks.filter((l) => l.exchange === e).map((l) => l.token.id),
    })),
    homeChanges: observation.homeChanges.slice(0, 200).map((c) => ({ path: `~/${c.path}`, change: c.change })),
    processesStarted: observation.processesSeen.slice(0, 100).map((p) => p.command),
    leftRunning: observation.leftRunning.map((p) => p.command),
    directAttempts: observation.directAttempts,
    timedOut: observation.timedOut,
    milliseconds: Math.round(observation.durationMs),
  };
}

function observeOptions(options: DynamicScanOptions, packageDir?: string): ObserveOptions {
  const tree = packageDir === undefined ? [] : enclosingNodeModules(packageDir);
  return {
    ...options.observe,
    ...(tree.length > 0 ? { dependencies: { nodeModules: tree } } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

