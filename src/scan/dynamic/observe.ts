import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LaunchedSandbox, LaunchOptions, SandboxBackend } from "../../engine/backend.js";
import { BubblewrapBackend } from "../../engine/bwrap/backend.js";
import type { PersistenceChange } from "../../engine/persistence.js";
import { SANDBOX_HOME, type Mount, type SandboxPlan } from "../../engine/plan.js";
import { BypassCounter } from "../../net/bypass-counter.js";
import { SANDBOX_PROXY_PORT } from "../../net/egress-proxy.js";
import { nodeProxyPreload, proxyEnvironment } from "../../net/proxy-env.js";
import { sandboxTrust } from "../../net/secrets/trust.js";
import type { SinkholeExchange } from "../../net/sinkhole/exchange.js";
import { Sinkhole } from "../../net/sinkhole/sinkhole.js";
import { SandboxCertificateAuthority } from "../../net/tls/certificate-authority.js";
import { SandboxedProcess } from "../../sandbox/sandboxed-process.js";
import { packageJsonFacts } from "../package-meta.js";
import { INSTALL_SCRIPTS } from "../rules/rule.js";
import { StageAnswers, type StageKind, type StageServed } from "./answers.js";
import { diffTrees, snapshotTree, type TreeChange } from "./file-tree.js";
import { plantHoneytokens, type Honeytoken, type RandomBytes } from "./honeytokens.js";
import { SandboxProcessWatch, type SandboxProcess } from "./processes.js";
import { installRegistryDependencies } from "../spec.js";
import { adoptDependencies, prepareWorkspace } from "./workspace.js";
import { configuredRegistry } from "./registry.js";

export const DEFAULT_OBSERVE_TIMEOUT_MS = 30_000;
const RUNNER = fileURLToPath(new URL("./inside/run-steps.cjs", import.meta.url));
const PROCESS_SAMPLE_MS = 200;

export interface ObserveOptions {
  /** The whole observation, install scripts and load together. Default 30 s. */
  timeoutMs?: number;
  /** How long the entry point may run once loaded. Default: a sixth of the timeout, at most 5 s. */
  loadMs?: number;
  /** How long to wait for processes left running after the steps. Default: a tenth of the timeout, at most 3 s. */
  lingerMs?: number;
  signal?: AbortSignal;
  /** Where the private workspace is made (default: the system's temporary folder). */
  tempRoot?: string;
  /**
   * Where the package's dependencies come from: "none" (the package alone;
   * default), "install" (its registry dependencies, installed with npm on the
   * host, scripts off, before the observation), or the node_modules folders
   * of the tree it is installed in (bound read-only, found through NODE_PATH).
   */
  dependencies?: "none" | "install" | { nodeModules: readonly string[] };
  /** For tests: the randomness of honeytokens and nonces; another sandbox backend. */
  random?: RandomBytes;
  backend?: SandboxBackend;
}

/** One step as the runner inside reported it (advisory: see inside/run-steps.cts). */
export interface ObservedStep {
  event: string;
  exitCode: number | null;
  signal: string | null;
  ms: number;
  /** The step's output, its last 16 KiB: sandbox text, hostile. */
  output: string;
  /** When cordon read the report (ms since the epoch): exchanges before it belong to this step or an earlier one. */
  endedAt: number;
}

/** Everything seen while a package was installed and loaded in an observation sandbox. */
export interface Observation {
  name: string;
  version: string;
  /** The package's entry point as package.json names it (findings at load time point there). */
  entry: string;
  /** Install scripts in npm's order, then "load" for the entry point. */
  plannedSteps: string[];
  steps: ObservedStep[];
  /** What was not run, and why (the implicit node-gyp build, dependencies left out). */
  notRun: string[];
  /** Dependencies installed for the observation (mode "install"), as name@range. */
  dependenciesInstalled: string[];
  tokens: Honeytoken[];
  exchanges: readonly SinkholeExchange[];
  /** Stages the sinkhole served, and those that ran (their mark appeared). */
  stagesServed: StageServed[];
  stagesRun: StageKind[];
  /** The line written into raw channels, and what a shell would answer to it. */
  probe: { line: string; answer: string };
  homeChanges: TreeChange[];
  homeChangesComplete: boolean;
  /** Files that run code later, planted in the project folder (persistence.ts). */
  projectPersistence: PersistenceChange[];
  processesSeen: SandboxProcess[];
  /** The package's processes still alive when the last step had ended. */
  leftRunning: SandboxProcess[];
  /** Connection attempts around the sinkhole (clients that ignore proxy settings; DNS). */
  directAttempts: number;
  timedOut: boolean;
  durationMs: number;
}

/**
 * Installs a copy of a package in an observation sandbox and watches: its
 * install scripts run, then its entry point is loaded, with a fake home full
 * of honeytokens, CI variables, and a sinkhole for a network. The sandbox is
 * cordon's ordinary one (no network out, nothing of the host writable but a
 * private workspace); only the door is different.
 */
export async function observePackage(packageDir: string, options: ObserveOptions = {}): Promise<Observation> {
  const random = options.random ?? randomBytes;
  const manifest = packageJsonFacts(JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")), "package");
  const plant = plantHoneytokens(random);
  const workspace = await prepareWorkspace(packageDir, manifest.name, manifest.version, plant, options.tempRoot);
  try {
    const deps = options.dependencies === "install" ? await installDependencies(packageDir, workspace, options.signal) : { installed: [], notes: [] };
    const observation = await observeIn(workspace, manifest, plant, options, random);
    return { ...observation, dependenciesInstalled: deps.installed, notRun: [...observation.notRun, ...deps.notes] };
  } finally {
    await workspace.remove();
  }
}

type Manifest = ReturnType<typeof packageJsonFacts>;

/** The package's registry dependencies, fetched on the host (npm, scripts off) and put next to it. */
async function installDependencies(packageDir: string, workspace: Workspace, signal: AbortSignal | undefined): Promise<{ installed: string[]; notes: string[] }> {
  const json = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as Record<string, unknown>;
  const listOf = (field: string): Record<string, string> => {
    const listed = json[field];
    const out: Record<string, string> = {};
    if (listed && typeof listed === "object") for (const [name, range] of Object.entries(listed)) if (typeof range === "string") out[name] = range;
    return out;
  };
  const dependencies = { dependencies: listOf("dependencies"), optionalDependencies: listOf("optionalDependencies") };
  if (Object.keys(dependencies.dependencies).length + Object.keys(dependencies.optionalDependencies).length === 0) return { installed: [], notes: [] };
  const folder = join(workspace.root, "deps");
  await mkdir(folder, { mode: 0o700 });
  try {
    const result = await installRegistryDependencies(dependencies, folder, signal);
    await adoptDependencies(folder, workspace);
    return { installed: result.installed, notes: result.skipped.length > 0 ? [`dependencies not installed (not registry specs: fetching them can run code): ${result.skipped.join(", ")}`] : [] };
  } catch (error) {
    return { installed: [], notes: [`dependencies could not be installed, observed without them: ${(error as Error).message}`] };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
type Workspace = Awaited<ReturnType<typeof prepareWorkspace>>;

async function observeIn(workspace: Workspace, manifest: Manifest, plant: ReturnType<typeof plantHoneytokens>, options: ObserveOptions, random: RandomBytes): Promise<Observation> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_OBSERVE_TIMEOUT_MS;
  const nonce = random(12).toString("hex");
  const stages = new StageAnswers(nonce);
  const probe = shellProbe(random);
  const ca = await SandboxCertificateAuthority.forAnyName();
  const sinkhole = new Sinkhole({ ca, answer: stages.answer, rawProbe: () => probe.line });
  const { steps, notRun } = stepsOf(manifest, await hasBindingGyp(workspace.packageDir));
  const homeBefore = snapshotTree(workspace.home);
  let bypass: BypassCounter | undefined;
  let processes: SandboxProcessWatch | undefined;
  const backend = new SinkholeBackend(options.backend ?? new BubblewrapBackend(), async (hostPid) => {
    await sinkhole.attachToNetns(hostPid, SANDBOX_PROXY_PORT);
    bypass = BypassCounter.open(hostPid);
    processes = new SandboxProcessWatch(hostPid);
  });
  const treeModules = typeof options.dependencies === "object" ? options.dependencies.nodeModules : [];
  const runnerPlan = {
    binDirs: treeModules.map((dir) => join(dir, ".bin")),
    packageDir: workspace.packageDir,
    projectDir: workspace.project,
    packageName: manifest.name,
    steps,
    load: true,
    loadMs: options.loadMs ?? Math.min(5_000, Math.floor(timeoutMs / 6)),
    lingerMs: options.lingerMs ?? Math.min(3_000, Math.floor(timeoutMs / 10)),
    npmEnv: npmEnvironment(manifest, workspace),
  };
  const started = performance.now();
  const observed: ObservedStep[] = [];
  let leftRunning: SandboxProcess[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const sandbox = await SandboxedProcess.start("node", [RUNNER, JSON.stringify(runnerPlan)], { allowWrite: [workspace.project], timeout: timeoutMs }, {
      extraMounts: [...observationMounts(workspace.home, ca.certificatePem), ...treeMounts(treeModules)],
      extraEnv: observationEnv(plant.env, ca.certificatePem, treeModules),
      backend,
      stdout: "pipe",
      stderr: "ignore",
      signal: options.signal,
    });
    sampler = setInterval(() => processes?.sample(), PROCESS_SAMPLE_MS);
    readReports(sandbox, (report) => {
      if (report.type === "step") observed.push({ ...stepOf(report), endedAt: Date.now() });
      if (report.type === "steps-done") leftRunning = processes?.sample() ?? [];
    });
    const exit = await sandbox.exited;
    clearInterval(sampler);
    await sinkhole.close();
    const homeAfter = snapshotTree(workspace.home);
    const marks = new Set((["js", "sh", "py"] as const).map((kind) => stages.markName(kind)));
    const homeChanges = diffTrees(homeBefore, homeAfter);
    return {
      name: manifest.name,
      version: manifest.version,
      entry: (manifest.main ?? "index.js").replace(/^\.\//, ""),
      plannedSteps: [...steps.map((s) => s.event), "load"],
      steps: observed,
      notRun,
      dependenciesInstalled: [],
      tokens: plant.tokens,
      exchanges: sinkhole.exchanges,
      stagesServed: stages.served,
      stagesRun: (["js", "sh", "py"] as const).filter((kind) => homeAfter.entries.has(stages.markName(kind))),
      probe,
      homeChanges: homeChanges.filter((change) => !marks.has(change.path)),
      homeChangesComplete: !homeBefore.truncated && !homeAfter.truncated,
      projectPersistence: exit.persistence.map((change) => ({ ...change, path: change.path.startsWith(workspace.project) ? change.path.slice(workspace.project.length + 1) : change.path })),
      processesSeen: processes?.seen ?? [],
      leftRunning,
      directAttempts: bypass?.finish() ?? 0,
      timedOut: exit.limitHit === "timeout",
      durationMs: performance.now() - started,
    };
  } finally {
    clearInterval(sampler);
    await sinkhole.close();
  }
}

/** npm's lifecycle order; binding.gyp without an install script means `node-gyp rebuild`, which is not run here. */
function stepsOf(manifest: Manifest, bindingGyp: boolean): { steps: { event: string; script: string }[]; notRun: string[] } {
  const steps = INSTALL_SCRIPTS.filter((event) => manifest.scripts[event] !== undefined).map((event) => ({ event, script: manifest.scripts[event] as string }));
  const implicitBuild = bindingGyp && manifest.scripts.install === undefined && manifest.scripts.preinstall === undefined;
  return { steps, notRun: implicitBuild ? ["install: node-gyp rebuild (implicit, from binding.gyp): native builds are not run; the static scan reads binding.gyp"] : [] };
}

async function hasBindingGyp(dir: string): Promise<boolean> {
  return readFile(join(dir, "binding.gyp")).then(() => true, () => false);
}

/** What npm sets for a lifecycle script; payloads read these to know they are being installed, and where. */
function npmEnvironment(manifest: Manifest, workspace: Workspace): Record<string, string> {
  return {
    npm_package_name: manifest.name,
    npm_package_version: manifest.version,
    npm_package_json: join(workspace.packageDir, "package.json"),
    npm_config_user_agent: `npm/10.8.2 node/${process.version} linux x64 workspaces/false ci/github-actions`,
    npm_config_registry: configuredRegistry().href,
    npm_config_cache: `${SANDBOX_HOME}/.npm`,
    npm_config_global_prefix: "/usr/local",
    npm_node_execpath: process.execPath,
    npm_command: "install",
    INIT_CWD: workspace.project,
  };
}

/**
 * The sandbox's view changed for observation: the fake home over $HOME
 * (writable, so what the package plants there is seen), the sinkhole's CA
 * in every trust store, and the proxy preload for Node < 24.
 */
function observationMounts(home: string, caPem: string): Mount[] {
  return [
    { kind: "bind", source: home, target: SANDBOX_HOME },
    ...sandboxTrust(caPem).files.map((file): Mount => ({ kind: "data", target: file.path, content: file.content })),
    ...nodeProxyPreload().readOnlyPaths.map((p): Mount => ({ kind: "ro-bind", source: p, target: p })),
    { kind: "ro-bind", source: RUNNER, target: RUNNER },
  ];
}

/**
 * The tree the package came from, read-only, so its install scripts and entry
 * point find their dependencies there (NODE_PATH; its .bin on PATH). Only
 * the outermost folder is bound: the inner ones are inside it.
 */
function treeMounts(nodeModules: readonly string[]): Mount[] {
  const outermost = nodeModules[nodeModules.length - 1];
  return outermost === undefined ? [] : [{ kind: "ro-bind", source: outermost, target: outermost }];
}

function observationEnv(honey: ReadonlyMap<string, string>, caPem: string, nodeModules: readonly string[]): Map<string, string> {
  const env = new Map(honey);
  if (nodeModules.length > 0) env.set("NODE_PATH", nodeModules.join(":"));
  for (const [name, value] of sandboxTrust(caPem).env) env.set(name, value);
  for (const [name, value] of proxyEnvironment(SANDBOX_PROXY_PORT, { nodePreload: nodeProxyPreload().preload })) env.set(name, value);
  return env;
}

/**
 * A line written into a raw channel: harmless, and a shell's answer to it
 * (the sum) is not in the line itself, so an echoing terminal does not
 * fake it. Its answer coming back proves a remote shell.
 */
function shellProbe(random: RandomBytes): { line: string; answer: string } {
  const a = 100_000_000 + (random(4).readUInt32BE(0) % 800_000_000);
  const b = 100_000_000 + (random(4).readUInt32BE(0) % 800_000_000);
  return { line: `echo $((${a}+${b}))\n`, answer: String(a + b) };
}

type RunnerReport = { type: "step"; event?: unknown; exitCode?: unknown; signal?: unknown; ms?: unknown; output?: unknown } | { type: "steps-done" } | { type: "other" };

function readReports(sandbox: SandboxedProcess, onReport: (report: RunnerReport) => void): void {
  let pending = "";
  sandbox.stdout?.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    if (pending.length > 1024 ** 2) pending = pending.slice(-64 * 1024);
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      try {
        const parsed = JSON.parse(line) as { type?: unknown };
        onReport(parsed.type === "step" || parsed.type === "steps-done" ? (parsed as RunnerReport) : { type: "other" });
      } catch { /* not a report */ }
    }
  });
}

function stepOf(report: RunnerReport & { type: "step" }): Omit<ObservedStep, "endedAt"> {
  return {
    event: typeof report.event === "string" ? report.event.slice(0, 40) : "?",
    exitCode: typeof report.exitCode === "number" ? report.exitCode : null,
    signal: typeof report.signal === "string" ? report.signal.slice(0, 20) : null,
    ms: typeof report.ms === "number" ? report.ms : 0,
    output: typeof report.output === "string" ? report.output.slice(-16 * 1024) : "",
  };
}

/**
 * The ordinary backend, with the sinkhole attached to the sandbox's network
 * namespace while bubblewrap holds the command (as the egress proxy is).
 */
class SinkholeBackend implements SandboxBackend {
  readonly name: string;
  readonly #inner: SandboxBackend;
  readonly #attach: (hostPid: number) => Promise<void>;

  constructor(inner: SandboxBackend, attach: (hostPid: number) => Promise<void>) {
    this.name = `${inner.name}+sinkhole`;
    this.#inner = inner;
    this.#attach = attach;
  }

  launch(plan: SandboxPlan, options: LaunchOptions): LaunchedSandbox {
    return this.#inner.launch(plan, {
      ...options,
      beforeStart: async (hostPid) => {
        await this.#attach(hostPid);
        await options.beforeStart?.(hostPid);
      },
    });
  }
}
