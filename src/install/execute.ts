import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { run } from "../sandbox/run.js";
import { readHostFacts } from "../engine/host-facts.js";
import { planSandbox } from "../engine/plan.js";
import { parsePermissions } from "../policy/permissions.js";
import type { AuditLog } from "./audit-log.js";
import type { BuildCache, BuildOwner, RestoreResult, StoreResult } from "./build-cache.js";
import { buildKey, type BuildHost } from "./build-key.js";
import { snapshotFolder, type FolderSnapshot } from "./folder-changes.js";
import type { Decision } from "./decide.js";
import type { ScriptedPackage } from "./inventory.js";
import type { InstallState } from "./install-state.js";
import type { LifecycleScript } from "./lifecycle-script.js";
import { displayId } from "./package-identity.js";
import { takeHomeReport, withPrivateHomeReport, type HomeWrite } from "./private-home.js";
import { installSandboxPermissions, type InstallSandboxContext } from "./sandbox-grants.js";

export type Approved = Extract<Decision, { kind: "approved" }>;

export interface ScriptOutcome {
  package: ScriptedPackage;
  script: LifecycleScript;
  /**
   * "stopped": the install was interrupted while it ran (not the script's fault).
   * "restored": not run; the outputs of an earlier sandboxed run with the same inputs were restored from the build cache.
   */
  status: "ok" | "failed" | "stopped" | "already-done" | "restored";
  exitCode: number;
  durationMs: number;
  limitHit: string | undefined;
  /** The last lines the script printed (hostile text: sanitize before showing). */
  outputTail: string;
  /** Destinations the script tried to reach and was refused. */
  blockedHosts: string[];
  /** Granted destinations the proxy could not reach from this machine, as `host:port: why`. */
  unreachableHosts: string[];
  /** Connections to granted destinations that went through. */
  reachedHosts: number;
  /** Attempts to reach the network directly, around the proxy (destinations unknown). */
  bypassAttempts: number;
  /** What the script left in its private home (gone with the sandbox), largest first (hostile paths: sanitize). */
  discardedHomeWrites: HomeWrite[];
  /**
   * Files that run code later (a `.git` with hooks or `core.fsmonitor`,
   * `.envrc`, `.npmrc`, workflows, …) the script created or changed in its
   * package folder, or "unchecked" when it left too much to look through.
   * Either fails the script: no package needs them to install.
   */
  planted: string[] | "unchecked";
}

export type ExecuteEvent =
  | { type: "script-start"; package: ScriptedPackage; script: LifecycleScript }
  | { type: "script-end"; outcome: ScriptOutcome }
  | { type: "build-cache"; package: ScriptedPackage; result: RestoreResult | StoreResult; durationMs: number };

/** The build cache, and what its keys need beside each package. */
export interface BuildCacheContext {
  cache: BuildCache;
  host: BuildHost;
  /** Per location, `name@integrity` of every package it reaches in the lockfile (build-key.ts). */
  dependencies: ReadonlyMap<string, readonly string[]>;
}

export interface ExecuteOptions {
  sandbox: InstallSandboxContext;
  /** Restore builds from here instead of running their scripts, and keep new ones; absent: every script runs. */
  buildCache?: BuildCacheContext;
  audit: AuditLog;
  state: InstallState;
  onEvent?: (event: ExecuteEvent) => void;
  concurrency?: number;
  signal?: AbortSignal;
}

export interface ExecuteReport {
  outcomes: ScriptOutcome[];
  /** The first script that failed in a package that is not optional. */
  failure: ScriptOutcome | undefined;
  /** Optional packages whose scripts failed (npm removes them and carries on; cordon reports them). */
  optionalFailures: ScriptOutcome[];
}

const TAIL_LINES = 30;

/**
 * Runs approved packages' install scripts, each package in its own sandbox
 * (one per script), dependencies before dependents; packages whose
 * dependencies are done run side by side, one per core. A failure stops new
 * scripts from starting; the ones already running finish.
 */
export async function runApprovedScripts(approved: readonly Approved[], options: ExecuteOptions): Promise<ExecuteReport> {
  const byLocation = new Map(approved.map((d) => [d.package.location, d]));
  const waitingOn = new Map(approved.map((d) => [d.package.location, new Set(d.package.dependencies.filter((dep) => byLocation.has(dep)))]));
  const done = new Set<string>();
  const outcomes: ScriptOutcome[] = [];
  const optionalFailures: ScriptOutcome[] = [];
  let failure: ScriptOutcome | undefined;
  const running = new Set<Promise<void>>();
  const concurrency = options.concurrency ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length);

  const started = new Set<string>();
  const dependenciesDone = (d: Approved): boolean => [...(waitingOn.get(d.package.location) ?? [])].every((dep) => done.has(dep));

  while (done.size < approved.length && !failure && !options.signal?.aborted) {
    const waiting = approved.filter((d) => !started.has(d.package.location));
    const ready = waiting.filter(dependenciesDone);
    // Nothing ready and nothing running means a dependency cycle: start the
    // first waiting package in install order (the inventory orders cycles).
    const next = ready.length > 0 || running.size > 0 ? ready : waiting.slice(0, 1);
    for (const decision of next.slice(0, concurrency - running.size)) {
      started.add(decision.package.location);
      const job: Promise<void> = runPackage(decision, options).then((results) => {
        outcomes.push(...results);
        const failed = results.find((r) => r.status === "failed");
        if (failed && decision.package.optional) optionalFailures.push(failed);
        else if (failed && !failure) failure = failed;
        done.add(decision.package.location);
        running.delete(job);
      });
      running.add(job);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  await Promise.all(running);
  return { outcomes, failure, optionalFailures };
}

async function runPackage(decision: Approved, options: ExecuteOptions): Promise<ScriptOutcome[]> {
  const pkg = decision.package;
  // What was built: this exact tarball (npm re-extracts a new version, even
  // one whose install code is byte-identical) with this install code.
  // ... under these grants: a changed policy for the package (net, write, env,
  // limits) makes its finished build stale, so its scripts run again under it.
  // The tarball's integrity already fixes its install code; the code's hash
  // is read from the folder, where a build adds files its gyp files name
  // (cpu-features generates hwcaps.c), so it stands in only without one.
  const built = `${pkg.identity.integrity ?? `${displayId(pkg.identity)} ${pkg.installCode.hash}`} ${grantsDigest(decision.grants)}`;
  // All or nothing: a package whose scripts were cut off was set aside before
  // npm ran and is a fresh extraction now, so every script runs again.
  const finished = options.state.finishedEvents(pkg.location, built);
  if (pkg.scripts.every((script) => finished.has(script.event))) return pkg.scripts.map((script) => notRun(pkg, script, "already-done", 0));
  if (options.signal?.aborted) return [];
  const owner = options.buildCache ? cacheOwnerOf(decision, options.buildCache, options.sandbox) : undefined;
  if (owner !== undefined) {
    const restored = await restoreBuild(decision, owner, built, options);
    if (restored !== undefined) return restored;
  }
  // What the folder held before the first script: the cache keeps only what the scripts changed.
  const before = owner !== undefined ? snapshotFolder(pkg.dir) : undefined;
  const results: ScriptOutcome[] = [];
  await options.state.markRunning(pkg.location, built);
  for (const [i, script] of pkg.scripts.entries()) {
    if (options.signal?.aborted) break;
    options.onEvent?.({ type: "script-start", package: pkg, script });
    const outcome = await runScript(decision, script, options);
    results.push(outcome);
    options.onEvent?.({ type: "script-end", outcome });
    if (outcome.status !== "ok") break;
    await options.state.markFinished(pkg.location, built, script.event, i === pkg.scripts.length - 1);
  }
  const complete = results.length === pkg.scripts.length && results.every((r) => r.status === "ok");
  if (complete && owner !== undefined && before !== undefined) await storeBuild(pkg, owner, before, options);
  return results;
}

function grantsDigest(grants: Approved["grants"]): string {
  const { net, write, env, timeout, memory } = grants;
  return createHash("sha256").update(JSON.stringify([[...net].sort(), [...write].sort(), [...env].sort(), timeout ?? null, memory ?? null])).digest("base64url").slice(0, 22);
}

function notRun(pkg: ScriptedPackage, script: LifecycleScript, status: "already-done" | "restored", durationMs: number): ScriptOutcome {
  return { package: pkg, script, status, exitCode: 0, durationMs, limitHit: undefined, outputTail: "", blockedHosts: [], unreachableHosts: [], reachedHosts: 0, bypassAttempts: 0, discardedHomeWrites: [], planted: [] };
}

/**
 * The key of a package's build, or undefined when its build cannot be kept:
 * no tarball integrity to name it by, or a write grant outside its folder
 * (what it leaves there is not in the entry, so a restore would skip it).
 */
function cacheOwnerOf(decision: Approved, context: BuildCacheContext, sandbox: InstallSandboxContext): BuildOwner | undefined {
  const pkg = decision.package;
  const integrity = pkg.identity.integrity;
  if (integrity === undefined || decision.grants.write.some((item) => item.startsWith("/") || item === "~" || item.startsWith("~/"))) return undefined;
  let env: [string, ReadonlyMap<string, string>][];
  try {
    env = pkg.scripts.map((script) => [script.event, sandboxEnvOf(decision, script, sandbox)]);
  } catch {
    return undefined; // the sandbox would refuse to start; the run says why
  }
  const key = buildKey({
    name: pkg.identity.name, integrity, installCode: pkg.installCode.hash, grants: decision.grants, host: context.host, env,
    dependencies: context.dependencies.get(pkg.location) ?? [],
  });
  return { key, name: pkg.identity.name, integrity };
}

/**
 * The environment the engine's plan gives the script (lifecycle variables,
 * granted host variables, locale), as it will run it. The network layer
 * adds its proxy's address at run time; that changes every run and decides
 * nothing about a build.
 */
function sandboxEnvOf(decision: Approved, script: LifecycleScript, sandbox: InstallSandboxContext): ReadonlyMap<string, string> {
  const pkg = decision.package;
  const input = installSandboxPermissions(pkg, script, decision.grants, sandbox);
  const permissions = parsePermissions(input, { baseDir: pkg.dir, homeDir: os.homedir() });
  return planSandbox({ command: "/bin/sh", args: [], permissions, host: readHostFacts(process.env, pkg.dir) }).env;
}

/** The package's outcomes when its build was restored; undefined when it must be built. */
async function restoreBuild(decision: Approved, owner: BuildOwner, built: string, options: ExecuteOptions): Promise<ScriptOutcome[] | undefined> {
  const pkg = decision.package;
  const cache = options.buildCache!.cache;
  const started = performance.now();
  // Marked running first: a restore cut off halfway is set aside and redone like a cut-off build.
  await options.state.markRunning(pkg.location, built);
  const result = await cache.restore(owner, pkg.dir).catch((error: unknown): RestoreResult => ({ status: "refused", reason: `it could not be read: ${(error as Error).message}` }));
  const durationMs = Math.round(performance.now() - started);
  if (result.status !== "miss") {
    options.onEvent?.({ type: "build-cache", package: pkg, result, durationMs });
    options.audit.write({
      type: "build-cache", package: displayId(pkg.identity), location: pkg.location, action: result.status, key: owner.key, durationMs,
      ...(result.status === "restored" ? { files: result.files, bytes: result.bytes } : { reason: result.reason }),
    });
  }
  if (result.status === "refused" || result.status === "broken") await cache.forget(owner.key).catch(() => undefined);
  if (result.status === "broken") {
    return [{
      ...notRun(pkg, pkg.scripts[0]!, "restored", durationMs), status: "failed", exitCode: 1,
      outputTail: `restoring its build from the build cache failed halfway (${result.reason}); the entry was dropped, and the next run reinstalls the package and builds it`,
    }];
  }
  if (result.status !== "restored") return undefined;
  for (const [i, script] of pkg.scripts.entries()) await options.state.markFinished(pkg.location, built, script.event, i === pkg.scripts.length - 1);
  return pkg.scripts.map((script) => notRun(pkg, script, "restored", durationMs));
}

/** Keeps a finished build; a cache that cannot take it (a full disk) is reported, never fails the install. */
async function storeBuild(pkg: ScriptedPackage, owner: BuildOwner, before: FolderSnapshot, options: ExecuteOptions): Promise<void> {
  const started = performance.now();
  const result = await options.buildCache!.cache.store(owner, pkg.dir, before)
    .catch((error: unknown): StoreResult => ({ status: "not-stored", reason: `the cache could not be written: ${(error as Error).message}` }));
  const durationMs = Math.round(performance.now() - started);
  options.onEvent?.({ type: "build-cache", package: pkg, result, durationMs });
  options.audit.write({
    type: "build-cache", package: displayId(pkg.identity), location: pkg.location, action: result.status, key: owner.key, durationMs,
    ...(result.status === "stored" ? { files: result.files, bytes: result.bytes } : { reason: result.reason }),
  });
}

async function runScript(decision: Approved, script: LifecycleScript, options: ExecuteOptions): Promise<ScriptOutcome> {
  const pkg = decision.package;
  const input = installSandboxPermissions(pkg, script, decision.grants, options.sandbox);
  const permissions = parsePermissions(input, { baseDir: pkg.dir, homeDir: os.homedir() });
  // npm runs every lifecycle script through sh -c, and so does cordon: the
  // script text is the package's, the shell is the sandbox's. Around it, the
  // sandbox's shell links `~/…` write grants into the private home and lists
  // what the script left there (see private-home.ts).
  const wrapped = withPrivateHomeReport(script.command, decision.grants.write, os.homedir());
  const blocked = new Set<string>();
  const unreachable = new Set<string>();
  let reachedHosts = 0;
  let bypassAttempts = 0;
  const result = await run("/bin/sh", wrapped.args, permissions, {
    hostCwd: pkg.dir,
    // Only variables the policy grants by name (never credentials: the
    // policy refuses those names) and LANG/LC_*/TERM are taken from here.
    hostEnv: process.env,
    signal: options.signal,
    network: {
      // Even a package with no hosts granted gets the proxy: it allows
      // nothing, but what the script tried to reach is audited and explained.
      reportWithoutGrants: true,
      onEvent: (event) => {
        if (event.type === "connection-limit") return;
        if (event.type === "bypassed") {
          bypassAttempts = event.attempts;
          options.audit.write({ type: "net-bypass", package: displayId(pkg.identity), attempts: event.attempts });
          return;
        }
        const destination = event.port === 0 ? event.host : `${event.host}:${event.port}`;
        if (event.type === "blocked") blocked.add(destination);
        // An allowed destination with a reason is a granted one the proxy
        // could not reach (DNS, refused, timed out): not the policy's doing.
        else if (event.reason) unreachable.add(`${destination}: ${event.reason.replace(/^connecting to \S+ failed: /, "")}`);
        else reachedHosts += 1;
        options.audit.write({
          type: "net", package: displayId(pkg.identity), action: event.type, host: event.host, port: event.port,
          bytesUp: event.bytesUp, bytesDown: event.bytesDown, durationMs: Math.round(event.durationMs),
          ...(event.reason ? { reason: event.reason } : {}),
        });
      },
    },
  });
  const home = takeHomeReport(result.stderr.toString("utf8"), wrapped.marker);
  const planted = result.persistence.map((p) => `${p.change} ${path.relative(pkg.dir, p.path)}`);
  if (!result.persistenceChecked) planted.push("(too many files to check for planted hooks)");
  const output = `${result.stdout.toString("utf8")}${home.stderr}`;
  const outcome: ScriptOutcome = {
    package: pkg,
    script,
    status: result.exitCode === 0 && planted.length === 0 ? "ok" : options.signal?.aborted ? "stopped" : "failed",
    exitCode: result.exitCode,
    durationMs: Math.round(result.durationMs),
    limitHit: result.limitHit,
    outputTail: output.split("\n").slice(-TAIL_LINES).join("\n"),
    blockedHosts: [...blocked],
    unreachableHosts: [...unreachable],
    reachedHosts,
    bypassAttempts,
    discardedHomeWrites: home.writes,
    planted: result.persistenceChecked ? planted : "unchecked",
  };
  options.audit.write({
    type: "script",
    package: displayId(pkg.identity),
    location: pkg.location,
    event: script.event,
    command: script.command,
    exitCode: outcome.exitCode,
    durationMs: outcome.durationMs,
    ...(outcome.limitHit ? { limitHit: outcome.limitHit } : {}),
    ...(home.writes.length > 0 ? { discardedHomeWrites: home.writes } : {}),
    ...(planted.length > 0 ? { planted } : {}),
    grants: { read: permissions.read.map(short), write: permissions.write.map(short), env: [...decision.grants.env], net: [...decision.grants.net] },
  });
  return outcome;

  function short(p: string): string {
    const rel = path.relative(options.sandbox.projectDir, p);
    return rel.startsWith("..") ? p : rel || ".";
  }
}
