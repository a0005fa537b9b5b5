import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SANDBOX_PATH } from "../engine/plan.js";
import { approvedFromRegistry } from "./approved-code.js";
import { AuditLog } from "./audit-log.js";
import { ensureCordonFolder } from "./cordon-folder.js";
import { BuildCache } from "./build-cache.js";
import { currentBuildHost, dependencyClosures } from "./build-key.js";
import { readLockfile } from "./lockfile.js";
import { writeFileAtomic } from "./atomic-write.js";
import { parseReleaseAge, releaseAgeGate, type ReleaseAgeGate } from "./release-age.js";
import {
  checkReleaseAges, lockedReleasesOf, releaseTooYoungError, ReleaseTimesCache, unlockReleases,
  type FetchTimes, type HeldBack, type YoungRelease,
} from "./release-gate.js";
import { readInstallPolicy } from "./policy-read.js";
import { checkInstallScripts, diffChangedInstallCode, type InstallCheck } from "./check.js";
import type { Decision } from "./decide.js";
import { ConfigError, isCordonError } from "../errors.js";
import {
  ApprovalNeededError, EXIT_INSTALL_REFUSED, InstallError, InstallInterruptedError, NpmFailedError, ScriptFailedError,
} from "./errors.js";
import { runApprovedScripts, type Approved, type BuildCacheContext, type ExecuteEvent, type ExecuteReport, type ScriptOutcome } from "./execute.js";
import { InstallCodeStore } from "./install-code-store.js";
import { InstallState } from "./install-state.js";
import type { ScriptedPackage } from "./inventory.js";
import type { PackageReport } from "../scan/types.js";
import { locateNpm } from "./npm-facts.js";
import { parseNpmArgs, type NpmArgs } from "./npm-args.js";
import { fetchPackumentTimes, readNpmBuildConfig, runNpm, type NpmResult } from "./npm-client.js";
import type { NpmFacts } from "./lifecycle-env.js";
import { ensureWritableFolder, notWritableError } from "./writable.js";
import { displayId } from "./package-identity.js";
import { approvePackages, denyPackages } from "./policy-edit.js";
import { installSandboxPermissions, type InstallSandboxContext } from "./sandbox-grants.js";

export type ReviewAnswer = "approve" | "deny" | "skip";

/** What an interactive review is shown for one package. */
export interface ReviewRequest {
  decision: Extract<Decision, { kind: "unknown" | "changed" }>;
  check: InstallCheck;
  store: InstallCodeStore;
  /** What cordon scan found in the package (hostile text: sanitize before printing). */
  scan: PackageReport | undefined;
}

export interface InstallOptions {
  /** Where cordon was started. npm finds the project from there as it always does (a workspace folder's root, `--prefix`). */
  projectDir: string;
  /** "ci" runs `npm ci`; "install" runs `npm install [packages]`. */
  command: "install" | "ci";
  packages?: readonly string[];
  /** More arguments for npm, as npm takes them (`-D`, `-E`, `--omit=dev`, `-w NAME`, …); unknown ones are npm's to judge. */
  npmArgs?: readonly string[];
  /** Asks the user about unknown and changed packages; absent in CI, where they fail the install. */
  review?: (request: ReviewRequest) => Promise<ReviewAnswer>;
  /** In CI: skip unknown and changed packages instead of failing. */
  skipUnknown?: boolean;
  /** Run the project's own lifecycle scripts as npm would (default true). */
  projectScripts?: boolean;
  onProgress?: (event: InstallProgress) => void;
  /**
   * Where finished sandboxed builds are kept and restored from (build-cache.ts);
   * default: the user's cache folder. false: every approved script runs.
   */
  buildCache?: BuildCache | false;
  /** Aborting stops npm or the running sandboxes; the reason, when a signal name, sets the exit status (SIGINT 130, SIGTERM 143). */
  signal?: AbortSignal;
  /**
   * The release-age gate, as `--min-release-age` takes it ("3d", "0" for
   * off); default: the policy's `minReleaseAge`. Versions published more
   * recently are not installed.
   */
  minReleaseAge?: string;
  /** The clock the gate measures ages with (tests). */
  now?: Date;
}

export type InstallProgress =
  | { type: "project"; projectDir: string }
  | { type: "discarded"; locations: readonly string[] }
  | { type: "npm-done"; packages: number; warnings: string[] }
  | { type: "inventory"; check: InstallCheck; scans: ReadonlyMap<string, PackageReport> }
  | { type: "decided"; package: ScriptedPackage; answer: ReviewAnswer | "policy-approved" | "policy-denied" | "skipped" }
  | ExecuteEvent
  | { type: "project-script"; event: string; command: string }
  /** The build cache is not used for this install, and why (a sandbox could reach it). */
  | { type: "build-cache-off"; reason: string }
  /** Locked versions younger than the gate, taken out of the lockfile for npm to resolve again before the cutoff. */
  | { type: "release-age-unlocked"; gate: ReleaseAgeGate; young: readonly YoungRelease[] }
  /** After npm: every registry package was checked; these were held back at older versions. */
  | { type: "release-age"; gate: ReleaseAgeGate; checked: number; heldBack: readonly HeldBack[] };

export interface InstallReport {
  /** The project npm installed (the workspace root when started in a workspace folder). */
  projectDir: string;
  /** Set when npm left node_modules as it was (`--dry-run`, `--package-lock-only`); nothing was inventoried or run. */
  treeUnchanged: NpmArgs["treeUnchanged"];
  /** What npm printed on stdout (its report of a dry run, or `--json` output). */
  npmOutput: string;
  /** Packages set aside before npm ran because their scripts had not finished last time. */
  discarded: readonly string[];
  check: InstallCheck | undefined;
  execution: ExecuteReport;
  skipped: ScriptedPackage[];
  denied: ScriptedPackage[];
  projectScripts: { event: string; exitCode: number }[];
}

/**
 * `cordon install`: npm installs with every script off; cordon inventories
 * what wants to run code at install time, decides each package from the
 * policy (asking on a terminal, failing in CI), and runs only the approved
 * scripts, each confined to its own package folder.
 */
export async function installProject(options: InstallOptions): Promise<InstallReport> {
  try {
    return await install(options);
  } catch (error) {
    throw asInstallError(error, options);
  }
}

async function install(options: InstallOptions): Promise<InstallReport> {
  const startDir = path.resolve(options.projectDir);
  const npm = locateNpm();
  if (!npm) {
    throw new InstallError("Could not find npm next to this Node binary, so install scripts would have no node-gyp.", {
      hint: "Install npm alongside node (it ships with the official Node.js builds).",
    });
  }
  const args = parseNpmArgs([...(options.npmArgs ?? []), ...(options.packages ?? [])], npm);
  if (options.command === "ci" && args.specs.length > 0) {
    throw new ConfigError(`cordon ci installs exactly the lockfile; it takes no package names (got ${args.specs.join(" ")}).`, {
      hint: "Use cordon install NAME to add a package.",
      exitCode: EXIT_INSTALL_REFUSED,
    });
  }
  const projectDir = await npmProjectDir(startDir, args, options.signal);
  options.onProgress?.({ type: "project", projectDir });
  const empty = { projectDir, treeUnchanged: args.treeUnchanged, discarded: [], check: undefined, execution: { outcomes: [], failure: undefined, optionalFailures: [] }, skipped: [], denied: [], projectScripts: [] };

  // A dry run changes nothing, cordon's records included.
  const state = args.treeUnchanged ? undefined : InstallState.open(projectDir);
  if (state) {
    ensureWritableFolder(path.join(projectDir, ".cordon"));
    await ensureCordonFolder(projectDir);
  }
  const discarded = (await state?.discardUnfinished()) ?? [];
  if (discarded.length > 0) options.onProgress?.({ type: "discarded", locations: discarded });

  // cordon's --ignore-scripts comes before the user's arguments: after a
  // `--` it would be a package name, and npm would run every script. The
  // user cannot turn it off (parseNpmArgs refuses --ignore-scripts=false).
  const npmArgv = [options.command, "--ignore-scripts", "--no-audit", "--no-fund", ...args.argv];
  const now = options.now ?? new Date();
  const gate = await releaseGateOf(projectDir, options, now);
  const fetchTimes: FetchTimes = (names) => fetchPackumentTimes(names, startDir, npm.dir!, options.signal);
  const times = new ReleaseTimesCache();
  const locked = gate === undefined ? undefined : await lockedReleasesOf(projectDir);
  let unlocked = false;
  if (gate !== undefined && locked !== undefined) {
    const before = await checkReleaseAges(locked.releases, gate, fetchTimes, times);
    // A dry run changes no file, the lockfile included: it is told what is too young instead.
    if (before.young.length > 0 && (options.command === "ci" || locked.file === undefined || args.treeUnchanged === "--dry-run")) {
      throw releaseTooYoungError(before.young, gate, options.command, now);
    }
    if (before.young.length > 0) {
      options.onProgress?.({ type: "release-age-unlocked", gate, young: before.young });
      await unlockReleases(locked.file!, locked.text!, before.young.map((y) => y.release.location));
      unlocked = true;
    }
    // npm picks, for whatever it resolves, the newest version published before the cutoff (npm-pick-manifest's `before`).
    if (options.command === "install") npmArgv.splice(4, 0, `--before=${gate.cutoff.toISOString()}`);
  }
  const npmRun = await runNpm(npmArgv, startDir, options.signal);
  if (npmRun.code !== 0) {
    // The versions taken out of the lockfile go back in: npm failed, nothing changed.
    if (unlocked) await writeFileAtomic(locked!.file!, locked!.text!).catch(() => undefined);
    throw npmFailedError(options.command, npmRun, gate);
  }
  if (gate !== undefined && locked !== undefined && args.treeUnchanged !== "--dry-run") {
    const after = await lockedReleasesOf(projectDir);
    const known = new Set(locked.releases.map((r) => `${r.location} ${r.version} ${r.integrity ?? ""}`));
    const resolved = after.releases.filter((r) => !known.has(`${r.location} ${r.version} ${r.integrity ?? ""}`));
    const check = await checkReleaseAges(resolved, gate, fetchTimes, times, new Set(resolved.map((r) => r.location)));
    if (check.young.length > 0) throw releaseTooYoungError(check.young, gate, options.command, now);
    options.onProgress?.({ type: "release-age", gate, checked: after.releases.length, heldBack: check.heldBack });
  }
  if (!state) return { ...empty, npmOutput: npmRun.stdout };

  let check = await checkInstallScripts(projectDir, { signal: options.signal });
  options.onProgress?.({ type: "npm-done", packages: check.inventory.packageCount, warnings: npmWarnings(npmRun.stderr) });
  const scans = await scanScriptedPackages(check, options.signal);
  options.onProgress?.({ type: "inventory", check, scans });
  const audit = AuditLog.forProject(projectDir);
  audit.write({ type: "install", command: `cordon ${options.command}`, packages: check.inventory.packageCount, scripted: check.inventory.packages.length });

  const store = new InstallCodeStore(projectDir);
  const skipped = new Set<string>();
  const pending = check.decisions.filter((d): d is Extract<Decision, { kind: "unknown" | "changed" }> => d.kind === "unknown" || d.kind === "changed");
  if (pending.length > 0 && !options.review && !options.skipUnknown) {
    for (const d of pending) audit.write({ type: "decision", package: displayId(d.package.identity), location: d.package.location, decision: d.kind, by: "ci", reason: "no terminal to ask" });
    throw await unknownPackagesError(pending, store, projectDir, options.signal);
  }
  for (const decision of pending) {
    const name = decision.package.identity.name;
    const answer = options.review ? await options.review({ decision, check, store, scan: scans.get(decision.package.location) }) : "skip";
    const by = options.review ? "user" : "flag";
    if (answer === "approve") await approvePackages(projectDir, [name], check.inventory, { store });
    else if (answer === "deny") await denyPackages(projectDir, [name], check.inventory);
    else skipped.add(decision.package.location);
    audit.write({
      type: "decision", package: displayId(decision.package.identity), location: decision.package.location,
      decision: answer === "approve" ? "approved" : answer === "deny" ? "denied" : "skipped", by,
    });
    options.onProgress?.({ type: "decided", package: decision.package, answer: options.review ? answer : "skipped" });
  }
  // The answers were written to the policy: decide again from it, so what
  // runs is exactly what the policy now says.
  if (pending.length > 0) check = await checkInstallScripts(projectDir, { signal: options.signal });

  const approved = check.decisions.filter((d): d is Approved => d.kind === "approved" && !skipped.has(d.package.location));
  const denied = check.decisions.filter((d) => d.kind === "denied").map((d) => d.package);
  for (const d of check.decisions) {
    if (d.kind === "approved" || d.kind === "denied") {
      audit.write({ type: "decision", package: displayId(d.package.identity), location: d.package.location, decision: d.kind, by: "policy" });
    }
  }

  await state.keepOnly(new Set(check.inventory.packages.map((p) => p.location)));
  const sandbox = sandboxContext(projectDir, check, npm);
  const buildCache = options.buildCache === false ? undefined : await buildCacheContext(options.buildCache ?? new BuildCache(), approved, sandbox, check);
  if (buildCache !== undefined && "off" in buildCache) {
    options.onProgress?.({ type: "build-cache-off", reason: buildCache.off });
    audit.write({ type: "build-cache-off", reason: buildCache.off });
  }
  const execution = await runApprovedScripts(approved, {
    sandbox,
    ...(buildCache === undefined || "off" in buildCache ? {} : { buildCache }),
    audit,
    state,
    onEvent: options.onProgress,
    signal: options.signal,
  });
  options.signal?.throwIfAborted();
  if (execution.failure) throw scriptFailedError(execution);

  const projectScripts: { event: string; exitCode: number }[] = [];
  // npm runs the project's own scripts only for a bare `npm install` (and always for `npm ci`).
  if ((options.projectScripts ?? true) && args.specs.length === 0) {
    const root = check.inventory.project.find((p) => p.location === "");
    for (const script of root?.scripts ?? []) {
      options.onProgress?.({ type: "project-script", event: script.event, command: script.command });
      const started = performance.now();
      // The project's own scripts are the user's code: npm runs them with
      // the user's full environment, and so does cordon (it says so).
      const result = await runNpm(["run-script", script.event, "--ignore-scripts=false"], projectDir, options.signal);
      const durationMs = Math.round(performance.now() - started);
      audit.write({ type: "project-script", event: script.event, command: script.command, exitCode: result.code ?? 1, durationMs });
      projectScripts.push({ event: script.event, exitCode: result.code ?? 1 });
      if (result.code !== 0) {
        throw new ScriptFailedError(`The project's own ${script.event} script failed (exit ${result.code}).`, {
          hint: `${result.stderr.trim().split("\n").slice(-10).join("\n")}\nThis is your project's script, not a dependency's.`,
        });
      }
    }
  }
  return { ...empty, npmOutput: npmRun.stdout, discarded, check, execution, skipped: check.inventory.packages.filter((p) => skipped.has(p.location)), denied, projectScripts };
}

/**
 * The project npm will install into, asked of npm itself with the
 * arguments that choose it: from a workspace's folder that is the workspace root (npm
 * walks up to the package.json whose `workspaces` include it), with
 * `--prefix` that folder. Policy, lockfile and node_modules are the root's.
 */
async function npmProjectDir(startDir: string, args: NpmArgs, signal: AbortSignal | undefined): Promise<string> {
  const result = await runNpm(["prefix", ...args.projectArgs], startDir, signal);
  const prefix = result.stdout.trim().split("\n").pop() ?? "";
  if (result.code !== 0 || !path.isAbsolute(prefix)) throw npmFailedError("prefix", result);
  return prefix;
}

/**
 * The project a policy command (`cordon approve`, `deny`, `policy`, `audit`)
 * works on, found as `cordon install` finds it: by `npm prefix` from
 * `startDir` (a workspace's folder gives the workspace root). Its errors
 * are the user's (exit 2), as install's are.
 */
export async function findProjectDir(startDir: string, signal?: AbortSignal): Promise<string> {
  const result = await runNpm(["prefix"], path.resolve(startDir), signal);
  const prefix = result.stdout.trim().split("\n").pop() ?? "";
  if (result.code !== 0 || !path.isAbsolute(prefix)) {
    const error = npmFailedError("prefix", result);
    throw new InstallError(error.message, { ...(error.hint === undefined ? {} : { hint: error.hint }), exitCode: EXIT_INSTALL_REFUSED, cause: error });
  }
  return prefix;
}

/** A policy command's own errors (a flag, the policy, the tree) as the user's: exit 2, as install's; others unchanged. */
export function asPolicyCommandError(error: unknown): unknown {
  if (isCordonError(error) && error.exitCode === undefined && (error.code === "E_CONFIG" || error.code === "E_POLICY" || error.code === "E_INSTALL")) {
    return new InstallError(error.message, { ...(error.hint === undefined ? {} : { hint: error.hint }), exitCode: EXIT_INSTALL_REFUSED, cause: error });
  }
  return notWritableError(error) ?? error;
}

/** The gate from `--min-release-age`, else the policy's `minReleaseAge`; undefined when neither sets one (or it is 0). */
async function releaseGateOf(projectDir: string, options: InstallOptions, now: Date): Promise<ReleaseAgeGate | undefined> {
  if (options.minReleaseAge !== undefined) {
    const ms = parseReleaseAge(options.minReleaseAge, "--min-release-age");
    return ms === 0 ? undefined : releaseAgeGate(ms, `--min-release-age=${options.minReleaseAge}`, now);
  }
  const policy = (await readInstallPolicy(projectDir)).policy;
  if (policy.minReleaseAge === undefined || policy.minReleaseAge.ms === 0) return undefined;
  return releaseAgeGate(policy.minReleaseAge.ms, policy.minReleaseAge.setIn, now);
}

function npmFailedError(command: string, result: NpmResult, gate?: ReleaseAgeGate): NpmFailedError {
  const said = result.stderr.split("\n")
    // npm prints its own stack for errors like EACCES: the message above it says it all.
    .filter((line) => /\S/.test(line.replace(/^npm (error|ERR!)\s*/, "")) && !/^npm (error|ERR!)\s+at /.test(line))
    .slice(0, 12).join("\n");
  const code = result.code ?? 128 + (result.signal ? (os.constants.signals[result.signal] ?? 0) : 0);
  const cooled = gate !== undefined && /ETARGET|with a date before/.test(result.stderr)
    ? `\nThe release-age gate (${gate.setBy}) had npm consider only versions published before ${gate.cutoff.toISOString()}; a version asked for may be younger than that.`
    : "";
  return new NpmFailedError(`npm ${command} failed (exit ${code}); no install script ran.`, code, { hint: `npm said:\n${said}${cooled}` });
}

/** What escaped the steps above, as the user error it is: an interruption, a folder cordon may not write. */
function asInstallError(error: unknown, options: InstallOptions): unknown {
  if (error instanceof InstallInterruptedError) return error;
  if (options.signal?.aborted) {
    const signal = typeof options.signal.reason === "string" ? os.constants.signals[options.signal.reason as NodeJS.Signals] : undefined;
    const by = typeof options.signal.reason === "string" ? ` by ${options.signal.reason}` : "";
    return new InstallInterruptedError(`Stopped${by} before the install finished.`, {
      hint: `Run cordon ${options.command} again to finish: a package whose install scripts were cut off is reinstalled by npm and its scripts run again from a clean folder.`,
      ...(signal === undefined ? {} : { exitCode: 128 + signal }),
      cause: error,
    });
  }
  if (isCordonError(error) && error.exitCode === undefined && (error.code === "E_CONFIG" || error.code === "E_POLICY" || error.code === "E_INSTALL")) {
    return new InstallError(error.message, { ...(error.hint === undefined ? {} : { hint: error.hint }), exitCode: EXIT_INSTALL_REFUSED, cause: error });
  }
  return notWritableError(error) ?? error;
}

/**
 * cordon scan's verdict on every package that wants to run code at install
 * time, before any of it runs (cached by integrity, so a rerun is instant).
 * A scan that fails is reported as no findings rather than stopping the install.
 */
async function scanScriptedPackages(check: InstallCheck, signal: AbortSignal | undefined): Promise<Map<string, PackageReport>> {
  const reports = new Map<string, PackageReport>();
  const { scanPackageDir, FileAnalyzerPool } = await import("../scan/index.js");
  await using pool = new FileAnalyzerPool({});
  await Promise.all(check.inventory.packages.map(async (pkg) => {
    try {
      reports.set(pkg.location, await scanPackageDir(pkg.dir, { integrity: pkg.identity.integrity, pool, signal }));
    } catch { /* no findings shown for this package */ }
  }));
  return reports;
}

/**
 * The build cache for this install, or why it is off: no install sandbox may
 * read or write the folder it lives in, or one package could plant a build
 * that another's restore would copy out of the sandbox into the tree.
 */
async function buildCacheContext(cache: BuildCache, approved: readonly Approved[], sandbox: InstallSandboxContext, check: InstallCheck): Promise<BuildCacheContext | { off: string }> {
  for (const decision of approved) {
    const script = decision.package.scripts[0];
    if (script === undefined) continue;
    const input = installSandboxPermissions(decision.package, script, decision.grants, sandbox);
    for (const grant of [...(input.allowRead ?? []), ...(input.allowWrite ?? [])]) {
      if (overlaps(expandHome(grant), cache.dir)) {
        return { off: `${displayId(decision.package.identity)} may reach ${grant}, which holds the build cache (${cache.dir}); every approved script runs` };
      }
    }
  }
  const lock = await readLockfile(check.inventory.projectDir);
  return { cache, host: currentBuildHost(), dependencies: dependencyClosures(lock, approved.map((d) => d.package.location)) };
}

function expandHome(grant: string): string {
  return grant === "~" ? os.homedir() : grant.startsWith("~/") ? path.join(os.homedir(), grant.slice(2)) : path.resolve(grant);
}

/** One path is the other or holds it, also through symlinks on the way. */
function overlaps(a: string, b: string): boolean {
  const real = (p: string): string => {
    let head = p;
    const tail: string[] = [];
    for (;;) {
      try {
        return path.join(fs.realpathSync(head), ...tail.reverse());
      } catch {
        if (path.dirname(head) === head) return p;
        tail.push(path.basename(head));
        head = path.dirname(head);
      }
    }
  };
  const inside = (x: string, y: string): boolean => x === y || x.startsWith(`${y}/`);
  const [ra, rb] = [real(a), real(b)];
  return inside(ra, rb) || inside(rb, ra) || inside(a, b) || inside(b, a);
}

function sandboxContext(projectDir: string, check: InstallCheck, npm: NpmFacts): InstallSandboxContext {
  const nodeDir = path.dirname(process.execPath);
  return {
    projectDir,
    nodeGypDir: path.join(os.homedir(), ".cache", "node-gyp"),
    npm,
    npmConfig: readNpmBuildConfig(projectDir),
    systemPath: `${nodeDir}:${SANDBOX_PATH}`,
    lockfile: check.inventory.lockfile,
    // (npm and its node-gyp need no extra grant: the engine shows every
    // sandbox Node's lib/node_modules, wherever Node is installed.)
  };
}

async function unknownPackagesError(pending: readonly Extract<Decision, { kind: "unknown" | "changed" }>[], store: InstallCodeStore, projectDir: string, signal: AbortSignal | undefined): Promise<ApprovalNeededError> {
  const lines: string[] = [];
  for (const d of pending) {
    const what = d.kind === "changed" ? "install code changed since it was approved" : "not reviewed";
    lines.push(`  ${displayId(d.package.identity)}: ${what}; ${d.package.scripts.map((s) => `${s.event}: ${s.command}`).join("; ")}`);
    if (d.kind === "changed") {
      const diff = await diffChangedInstallCode(d, store, { maxBytes: 4096, recover: approvedFromRegistry(d, store, projectDir, signal) });
      lines.push(...diff.trimEnd().split("\n").map((line) => `      ${line}`));
    }
    lines.push(`    approve: cordon approve ${d.package.identity.name}    deny: cordon deny ${d.package.identity.name}`);
  }
  return new ApprovalNeededError(`${pending.length} package(s) want to run code at install time and the policy does not cover them. No install script ran.\n${lines.join("\n")}`, {
    hint: "Review and approve or deny each (the commands above), or run with --skip-unknown to install without their scripts.",
    packages: pending.map((d) => displayId(d.package.identity)),
  });
}

function scriptFailedError(execution: ExecuteReport): ScriptFailedError {
  const failure = execution.failure!;
  const id = displayId(failure.package.identity);
  const ran = execution.outcomes.filter((o) => o.status === "ok" || o.status === "already-done" || o.status === "restored").map((o) => `${displayId(o.package.identity)} ${o.script.event}`);
  const name = failure.package.identity.name;
  const advice = failure.blockedHosts.length > 0 || failure.unreachableHosts.length > 0 || failure.bypassAttempts > 0
    ? networkAdvice(failure)
    : failure.limitHit === "timeout"
      ? `It hit its time limit; raise it: cordon approve ${name} --timeout=20m.`
      : failure.limitHit === "memory"
        ? `It ran out of memory; raise it: cordon approve ${name} --memory=8G.`
        : `Look at its output above; if it needs a host, grant it (cordon approve ${name} --allow-net=HOST), or install without its script (cordon deny ${name}).`;
  return new ScriptFailedError(
    `${id}: the ${failure.script.event} script failed with exit code ${failure.exitCode}${failure.limitHit ? ` (${failure.limitHit} limit)` : ""}.\n` +
      `  script: ${failure.script.command}\n  last output:\n${failure.outputTail.split("\n").map((l) => `    ${l}`).join("\n")}`,
    {
      hint: `${advice}\nScripts that finished: ${ran.length > 0 ? ran.join(", ") : "none"}. Rerun cordon install to finish the job: packages whose scripts finished are not run again.`,
      packages: [id],
    },
  );
}

/**
 * What to tell the user about a script's network: granted hosts the proxy
 * could not reach (a network problem, not a grant to add), hosts its policy
 * does not grant, and attempts around the proxy. A script that was refused a
 * host but succeeded without it, by falling back (a native build that built
 * from source, a download from a granted host instead), is not told to add
 * a grant: that would only widen the sandbox.
 */
export function networkAdvice(outcome: Pick<ScriptOutcome, "package" | "script" | "status" | "blockedHosts" | "unreachableHosts" | "reachedHosts" | "bypassAttempts">): string {
  const name = outcome.package.identity.name;
  const id = `${displayId(outcome.package.identity)} ${outcome.script.event}`;
  const parts: string[] = [];
  if (outcome.unreachableHosts.length > 0) {
    parts.push(`${id} could not reach ${outcome.unreachableHosts.join("; ")}. Its policy grants ${outcome.unreachableHosts.length === 1 ? "that host" : "those hosts"}: ` +
      "cordon's proxy tried from this machine and the host did not answer; check this machine's network, proxy or DNS, or whether the host is up.");
  }
  if (outcome.blockedHosts.length > 0) {
    const hosts = [...new Set(outcome.blockedHosts.map((h) => h.replace(/:(443|80)$/, "")))];
    if (fellBack(outcome)) {
      parts.push(`${id} tried ${outcome.blockedHosts.join(", ")} (not granted, blocked) and succeeded without it.`);
    } else {
      parts.push(`${id} tried to reach ${outcome.blockedHosts.join(", ")}, which its policy does not grant (blocked)${outcome.status === "ok" ? ", and finished anyway" : ""}. ` +
        `If that download is expected, grant it: cordon approve ${name} --allow-net=${hosts.join(",")}; to install without its script: cordon deny ${name}.`);
    }
  }
  if (outcome.bypassAttempts > 0) {
    parts.push(`${id} tried ${outcome.bypassAttempts} time(s) to reach the network directly, around cordon's proxy (a client that ignores HTTP_PROXY gets no network).`);
  }
  return parts.join(" ");
}

/** Refused a host, yet done: a native build that built instead of downloading, or a script that got what it needed from a granted host. */
export function fellBack(outcome: Pick<ScriptOutcome, "script" | "status" | "reachedHosts">): boolean {
  return outcome.status === "ok" && (outcome.script.hints.includes("native-build") || outcome.reachedHosts > 0);
}

/**
 * What to tell the user about files a script left in its private home, one
 * line each: they were discarded with the sandbox, and the grant that keeps
 * them. The path comes from the sandbox, so a command is suggested only for
 * plain names: a folder named `x;rm -rf ~` is reported, never put in a
 * command line to copy.
 */
export function homeWritesAdvice(outcome: Pick<ScriptOutcome, "package" | "script" | "discardedHomeWrites">): string[] {
  const id = `${displayId(outcome.package.identity)} ${outcome.script.event}`;
  return outcome.discardedHomeWrites.map((write) => {
    const what = `${id} wrote ${formatBytes(write.bytes)} to ${write.path} in its private home, discarded with its sandbox`;
    if (!/^~(\/[\w@+.-]+)+$/.test(write.path) || write.path.split("/").some((part) => part === "..")) return `${what}.`;
    return `${what}; to keep it: mkdir -p ${write.path} && cordon approve ${outcome.package.identity.name} --allow-write=${write.path}`;
  });
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/**
 * npm's own warnings (an engine the package does not support, a config
 * name npm does not know, which is how a typo such as --save-dve shows):
 * with stdout and stderr captured, they would vanish when npm succeeds.
 * Hostile text in part (package names): the CLI sanitizes before printing.
 */
export function npmWarnings(stderr: string): string[] {
  return [...new Set(stderr.split("\n").map((line) => line.trim()).filter((line) => /^npm warn(ing)?\b/i.test(line)))].slice(0, 20);
}
