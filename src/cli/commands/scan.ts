import { stat } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { parseCommandFlags } from "../flags.js";
import { ConfigError } from "../../errors.js";
import {
  ScanCache, scanPackageDir, scanSpec, scanTarball, scanTree, severityRank, toSarif, verdictRank, worstVerdict,
  type Finding, type PackageReport, type ScanOptions, type Verdict,
} from "../../scan/index.js";
import type { DynamicScanOptions } from "../../scan/dynamic/index.js";
import { parseDuration } from "../../policy/units.js";
import { paint, sanitizeForTerminal } from "../terminal.js";

export const SCAN_HELP = `Usage: cordon scan [TARGET] [options]

Finds malicious packages before any of their code runs. Nothing is executed,
unless --dynamic asks for it (then only inside an observation sandbox).

TARGET:
  (none)               the installed tree: ./node_modules of the current folder
  ./folder             one package folder (add --tree for its node_modules)
  ./package.tgz        a package tarball
  npm:NAME@VERSION     fetched with npm pack from npm's configured registry

Options:
  --format=text        text (default), json, or sarif (GitHub code scanning)
  --fail-on=malicious  exit 1 when a package is at least this bad:
                       malicious (default), suspicious, or none
  --tree               scan TARGET/node_modules instead of TARGET itself
  --no-cache           scan afresh; do not read or write the result cache
  --verbose            also show low and info findings in text output
  --dynamic            also install each package in an observation sandbox and
                       watch it: install scripts, then its entry point, with a
                       fake home of planted secrets, CI variables and a network
                       that answers everything and forwards nothing; findings
                       under behaviour/... join the static ones
  --dynamic-timeout=30s  time for each observation (packages run side by side,
                       as many as there are cores)
  --dynamic-offline    observe a folder, .tgz or npm: package alone; by default
                       its registry dependencies are installed first (npm on
                       this machine, scripts off) so its scripts find them

Exit status: 0 clean (below --fail-on), 1 a package reached --fail-on,
125 the scan could not be done (the message says why).`;

const FORMATS = ["text", "json", "sarif"] as const;
const FAIL_ON = ["malicious", "suspicious", "none"] as const;
type Format = (typeof FORMATS)[number];
type FailOn = (typeof FAIL_ON)[number];

interface ScanRequest {
  target: string | undefined;
  format: Format;
  failOn: FailOn;
  tree: boolean;
  cache: boolean;
  verbose: boolean;
  /** Observe in a sandbox too, with this much time per package; undefined: static only. */
  dynamicTimeoutMs: number | undefined;
  /** Install a standalone package's registry dependencies before observing it. */
  dynamicDependencies: boolean;
}

export async function scanCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${SCAN_HELP}\n`);
    return 0;
  }
  const request = parseRequest(argv);
  const options: ScanOptions = { cache: request.cache ? new ScanCache() : false };
  const reports = await scanTarget(request, options);
  process.stdout.write(render(reports, request));
  const worst = worstVerdict(reports.map((report) => report.verdict));
  return request.failOn !== "none" && verdictRank(worst) >= verdictRank(request.failOn) ? 1 : 0;
}

function parseRequest(argv: string[]): ScanRequest {
  const { values, positionals } = parseCommandFlags("scan", {
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: "string", default: "text" },
      "fail-on": { type: "string", default: "malicious" },
      tree: { type: "boolean", default: false },
      "no-cache": { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      dynamic: { type: "boolean", default: false },
      "dynamic-timeout": { type: "string" },
      "dynamic-offline": { type: "boolean", default: false },
    },
  });
  if (positionals.length > 1) throw new ConfigError(`cordon scan takes one target, got ${positionals.length}.`, { hint: "Scan one folder, tarball or npm: spec at a time, or none for ./node_modules." });
  const format = oneOf(FORMATS, values.format, "--format");
  const failOn = oneOf(FAIL_ON, values["fail-on"], "--fail-on");
  for (const flag of ["dynamic-timeout", "dynamic-offline"] as const) {
    if (values[flag] !== undefined && values[flag] !== false && !values.dynamic) {
      throw new ConfigError(`--${flag} is about the observation; it needs --dynamic.`, { input: `--${flag}`, hint: `Add --dynamic, or leave out --${flag}.` });
    }
  }
  const dynamicTimeoutMs = values.dynamic ? parseDuration(values["dynamic-timeout"] ?? "30s", "--dynamic-timeout") : undefined;
  return { target: positionals[0], format, failOn, tree: values.tree, cache: !values["no-cache"], verbose: values.verbose, dynamicTimeoutMs, dynamicDependencies: !values["dynamic-offline"] };
}

function oneOf<T extends string>(allowed: readonly T[], value: string, flag: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${flag}=${value} is not one of ${allowed.join(", ")}.`, { input: flag, hint: `Use ${flag}=${allowed[0]}.` });
}

async function scanTarget(request: ScanRequest, options: ScanOptions): Promise<PackageReport[]> {
  if (request.dynamicTimeoutMs !== undefined) {
    return observeTarget(request, { ...options, observe: { timeoutMs: request.dynamicTimeoutMs, dependencies: request.dynamicDependencies ? "install" : "none" } });
  }
  const target = request.target;
  if (target === undefined) return (await scanTree(process.cwd(), options)).packages;
  if (target.startsWith("npm:")) return [await scanSpec(target, options)];
  const kind = await stat(target).then((info) => (info.isDirectory() ? "dir" : "file"), () => undefined);
  if (kind === undefined) {
    throw new ConfigError(`${target} does not exist.`, { input: target, hint: "Give a package folder, a .tgz file, or npm:NAME@VERSION for a registry package." });
  }
  if (kind === "file") return [await scanTarball(target, options)];
  if (request.tree) return (await scanTree(target, options)).packages;
  return [await scanPackageDir(target, options)];
}

/** The same targets, each also observed in a sandbox (the dynamic part is loaded only when asked for). */
async function observeTarget(request: ScanRequest, options: DynamicScanOptions): Promise<PackageReport[]> {
  const dynamic = await import("../../scan/dynamic/index.js");
  const target = request.target;
  if (target === undefined) return dynamic.addBehaviour((await scanTree(process.cwd(), options)).packages, options);
  if (target.startsWith("npm:")) return [await dynamic.scanSpecDynamic(target, options)];
  const kind = await stat(target).then((info) => (info.isDirectory() ? "dir" : "file"), () => undefined);
  if (kind === undefined) {
    throw new ConfigError(`${target} does not exist.`, { input: target, hint: "Give a package folder, a .tgz file, or npm:NAME@VERSION for a registry package." });
  }
  if (kind === "file") return [await dynamic.scanTarballDynamic(target, options)];
  if (request.tree) return dynamic.addBehaviour((await scanTree(target, options)).packages, options);
  return [await dynamic.scanPackageDirDynamic(target, options)];
}

function render(reports: PackageReport[], request: ScanRequest): string {
  switch (request.format) {
    case "json":
      return terminalSafeJson({ verdict: worstVerdict(reports.map((report) => report.verdict)), packages: reports });
    case "sarif":
      return terminalSafeJson(toSarif(reports, { baseOf: (report) => sarifBase(report) }));
    case "text":
      return renderText(reports, request.verbose);
  }
}

/**
 * JSON keeps package text exactly, but escapes what JSON.stringify leaves raw
 * and a terminal would act on (C1 controls, bidirectional overrides), so
 * `cat report.json` cannot reorder or hide text.
 */
function terminalSafeJson(value: unknown): string {
  const json = JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `${json}\n`;
}

/** Paths in SARIF are relative to the folder the scan ran in, as code scanning expects. */
function sarifBase(report: PackageReport): string {
  const source = resolve(report.source);
  const inside = relative(process.cwd(), source);
  return report.source.startsWith("npm:") || inside.startsWith("..") ? `${report.name}@${report.version}` : inside || ".";
}

const MARK: Record<Verdict, string> = { malicious: "✘", suspicious: "▲", ok: "✔" };
const COLOR: Record<Verdict, "red" | "yellow" | "green"> = { malicious: "red", suspicious: "yellow", ok: "green" };

/** Every string that came from a package goes through sanitizeForTerminal. */
function renderText(reports: PackageReport[], verbose: boolean): string {
  const lines: string[] = [];
  const clean = (text: string): string => sanitizeForTerminal(text);
  for (const report of reports) {
    const shown = report.findings
      .filter((finding) => verbose || severityRank(finding.severity) >= severityRank("medium"))
      .sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
    // An observed package is shown even when clean (what it did is the news), unless a whole tree was observed.
    const showObserved = report.behaviour !== undefined && (verbose || reports.length <= 20);
    if (report.verdict === "ok" && shown.length === 0 && !showObserved) continue;
    const mark = paint(COLOR[report.verdict], `${MARK[report.verdict]} ${report.verdict}`, process.stdout);
    lines.push(`${mark}  ${clean(report.name)}@${clean(report.version)}  ${paint("dim", clean(report.source), process.stdout)}`);
    if (report.behaviour) lines.push(`    ${paint("dim", behaviourLine(report.behaviour), process.stdout)}`);
    for (const finding of shown) lines.push(...findingLines(finding, clean));
  }
  const ok = reports.filter((report) => report.verdict === "ok").length;
  const cached = reports.filter((report) => report.cached).length;
  const megabytes = reports.reduce((sum, report) => sum + report.stats.jsBytes, 0) / 1e6;
  lines.push(`${reports.length} package${reports.length === 1 ? "" : "s"} scanned (${cached} from cache, ${megabytes.toFixed(1)} MB of JavaScript): ${ok} ok, ${reports.length - ok} flagged.`);
  return `${lines.join("\n")}\n`;
}

/** One line of what an observation did, numbers and step names only (no package text). */
function behaviourLine(behaviour: NonNullable<PackageReport["behaviour"]>): string {
  const steps = behaviour.steps.map((step) => `${step.event}${step.exitCode === 0 ? "" : ` (exit ${step.exitCode ?? step.signal ?? "?"})`}`).join(", ") || (behaviour.timedOut ? "the first step did not end" : "nothing ran");
  const hosts = new Set(behaviour.requests.map((request) => request.host)).size;
  return `observed ${(behaviour.milliseconds / 1000).toFixed(1)} s${behaviour.timedOut ? " (time limit)" : ""}: ${sanitizeForTerminal(steps)}; ${behaviour.requests.length} request${behaviour.requests.length === 1 ? "" : "s"} to ${hosts} host${hosts === 1 ? "" : "s"}; ${behaviour.homeChanges.length} home change${behaviour.homeChanges.length === 1 ? "" : "s"}; ${behaviour.leftRunning.length} left running`;
}

function findingLines(finding: Finding, clean: (text: string) => string): string[] {
  const where = finding.line > 0 ? `${finding.file}:${finding.line}:${finding.column}` : finding.file;
  return [
    `    ${finding.severity.padEnd(8)} ${finding.rule.padEnd(24)} ${clean(where)}`,
    `             ${clean(finding.message)}`,
    ...(finding.evidence ? [`             ${paint("dim", clean(finding.evidence), process.stdout)}`] : []),
  ];
}
