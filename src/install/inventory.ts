import path from "node:path";
import { InstallError } from "./errors.js";
import { gypInfoOf, type GypInfo } from "./gyp-info.js";
import { installCodeOf, type InstallCode } from "./install-code.js";
import { dependencyEdges, installOrder } from "./install-order.js";
import {
  DEFAULT_GYP_INSTALL, INSTALL_EVENTS, PROJECT_EVENTS, readLifecycleScript,
  type InstallEvent, type LifecycleScript, type ProjectEvent,
} from "./lifecycle-script.js";
import { readLockfile, type LockedPackage, type Lockfile } from "./lockfile.js";
import { linkProblemsOf, type LinkProblem } from "./package-links.js";
import { readManifest, readManifestSync, type InstalledManifest } from "./manifest.js";
import { displayId, type PackageIdentity } from "./package-identity.js";
import { isPlainFileSync } from "./package-files.js";

/** A dependency that wants to run code at install time. */
export interface ScriptedPackage {
  /** Lockfile location, e.g. `node_modules/esbuild`. */
  readonly location: string;
  /** Absolute package folder. */
  readonly dir: string;
  /** From the lockfile: use this for policy, display and audit. */
  readonly identity: PackageIdentity;
  /** What the tarball's package.json claims; differs from `identity` in a manifest-confusion attack. */
  readonly claimed: { readonly name: string | undefined; readonly version: string | undefined };
  readonly claimMismatch: boolean;
  readonly manifest: InstalledManifest;
  /** In the order npm runs them: preinstall, install, postinstall. */
  readonly scripts: readonly LifecycleScript[];
  readonly gyp: GypInfo | undefined;
  readonly installCode: InstallCode;
  /** Locations of its resolved dependencies. */
  readonly dependencies: readonly string[];
  readonly dev: boolean;
  readonly optional: boolean;
}

/** The user's own code: the root project and workspace / linked folders. */
export interface ProjectPackage {
  /** "" for the root; a workspace or link-target folder otherwise. */
  readonly location: string;
  readonly dir: string;
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly manifest: InstalledManifest;
  readonly scripts: readonly LifecycleScript[];
}

export interface Inventory {
  readonly projectDir: string;
  readonly lockfile: string;
  /** Locked dependency entries (all of them, scripted or not). */
  readonly packageCount: number;
  /** Every dependency's lockfile name, sorted (for "did you mean" and for pruning). */
  readonly names: readonly string[];
  /** Dependencies with install code, dependencies before dependents. */
  readonly packages: readonly ScriptedPackage[];
  /** Root first, then workspaces and linked folders by location. */
  readonly project: readonly ProjectPackage[];
}

export interface InventoryOptions {
  signal?: AbortSignal;
  /** Packages read at once (default 32). */
  concurrency?: number;
}

/**
 * Lists every package in an installed tree (after `npm install
 * --ignore-scripts`) that would run code at install time, and the project's
 * own lifecycle scripts. Reads files only: nothing is run.
 *
 * Throws InstallError, naming every package at fault, when a package folder
 * links outside itself: such a package could make cordon hash, or its
 * sandbox write, files that are not its own.
 */
export async function inventoryInstallScripts(projectDir: string, options: InventoryOptions = {}): Promise<Inventory> {
  const root = path.resolve(projectDir);
  const rootManifest = await readManifest(root);
  if (rootManifest === undefined) {
    throw new InstallError(`${path.join(root, "package.json")} does not exist.`, {
      file: path.join(root, "package.json"),
      hint: "Run cordon install in the project folder (the one with package.json).",
    });
  }
  const lock = await readLockfile(root);
  const locate = locator(lock, root);
  const edges = dependencyEdges(lock.packages);
  const dependencies = [...lock.packages.values()].filter((p) => !p.link && !p.inBundle && isDependency(p.location));
  const problems: LinkProblem[] = [];
  const checkedFolders = new Set<string>();
  const withScripts: [LockedPackage, InstalledManifest][] = [];
  for (const [i, entry] of dependencies.entries()) {
    if (i % 256 === 255) await yieldToEventLoop(options.signal);
    const dir = path.join(root, entry.location);
    let manifest: InstalledManifest | undefined;
    try {
      manifest = readManifestSync(dir);
    } catch (error) {
      throw annotate(error, entry);
    }
    if (manifest === undefined) continue; // not installed here (an optional dependency for another platform)
    problems.push(...linkProblemsOf(root, entry.location, checkedFolders));
    if (mayRunCode(dir, manifest)) withScripts.push([entry, manifest]);
  }
  if (problems.length > 0) throw linkError(problems, lock);
  const found = await mapLimit(withScripts, options.concurrency ?? 8, options.signal, ([entry, manifest]) =>
    scriptedPackage(root, entry, manifest, locate, edges.get(entry.location) ?? []).catch((error: unknown) => {
      throw annotate(error, entry);
    }),
  );
  const byLocation = new Map(found.filter((p): p is ScriptedPackage => p !== undefined).map((p) => [p.location, p]));
  const order = installOrder(edges).filter((location) => byLocation.has(location));
  return {
    projectDir: root,
    lockfile: lock.file,
    packageCount: dependencies.length,
    names: [...new Set(dependencies.map((p) => p.identity.name))].sort(),
    packages: order.map((location) => byLocation.get(location)!),
    project: await projectPackages(root, rootManifest, lock, locate),
  };
}

/** A cheap first pass: an install-time script, or a binding.gyp npm would build. */
function mayRunCode(dir: string, manifest: InstalledManifest): boolean {
  if (INSTALL_EVENTS.some((event) => (manifest.scripts[event] ?? "") !== "")) return true;
  return manifest.gypfile !== false && isPlainFileSync(path.join(dir, "binding.gyp"));
}

async function yieldToEventLoop(signal: AbortSignal | undefined): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  signal?.throwIfAborted();
}

/** Workspace folders and link targets have no `node_modules` segment; they are the user's code. */
function isDependency(location: string): boolean {
  return location.split("/").includes("node_modules");
}

async function scriptedPackage(
  projectDir: string,
  entry: LockedPackage,
  manifest: InstalledManifest,
  locate: (file: string) => string | undefined,
  dependencies: readonly string[],
): Promise<ScriptedPackage | undefined> {
  const dir = path.join(projectDir, entry.location);
  const scripts = await lifecycleScriptsOf(projectDir, dir, manifest, INSTALL_EVENTS, locate);
  if (scripts.length === 0) return undefined;
  const gyp = await gypInfoOf(dir);
  const claimed = { name: manifest.name, version: manifest.version };
  return {
    location: entry.location,
    dir,
    identity: entry.identity,
    claimed,
    claimMismatch:
      (claimed.name !== undefined && claimed.name !== entry.identity.name) ||
      (entry.identity.version !== null && claimed.version !== undefined && claimed.version !== entry.identity.version),
    manifest,
    scripts,
    gyp,
    installCode: await installCodeOf(dir, entry.location, scripts, gyp),
    dependencies,
    dev: entry.dev,
    optional: entry.optional,
  };
}

/** Explicit scripts, plus npm's implicit `node-gyp rebuild` for a binding.gyp with no install/preinstall script. */
async function lifecycleScriptsOf(
  projectDir: string,
  dir: string,
  manifest: InstalledManifest,
  events: readonly (InstallEvent | ProjectEvent)[],
  locate: (file: string) => string | undefined,
): Promise<LifecycleScript[]> {
  const context = { projectDir, dir, scripts: manifest.scripts, locate };
  const scripts: LifecycleScript[] = [];
  const has = (event: string): boolean => Object.hasOwn(manifest.scripts, event) && manifest.scripts[event] !== "";
  for (const event of events) {
    if (has(event)) {
      scripts.push(await readLifecycleScript(context, event, manifest.scripts[event]!, false));
    } else if (event === "install" && !has("preinstall") && manifest.gypfile !== false && (await gypInfoOf(dir)) !== undefined) {
      scripts.push(await readLifecycleScript(context, event, DEFAULT_GYP_INSTALL, true));
    }
  }
  return scripts;
}

async function projectPackages(
  root: string,
  rootManifest: InstalledManifest,
  lock: Lockfile,
  locate: (file: string) => string | undefined,
): Promise<ProjectPackage[]> {
  const result: ProjectPackage[] = [];
  const folders: [string, InstalledManifest][] = [["", rootManifest]];
  for (const entry of lock.packages.values()) {
    if (entry.link || isDependency(entry.location)) continue;
    const manifest = await readManifest(path.join(root, entry.location));
    if (manifest !== undefined) folders.push([entry.location, manifest]);
  }
  for (const [location, manifest] of folders) {
    const dir = path.join(root, location);
    result.push({
      location,
      dir,
      name: manifest.name,
      version: manifest.version,
      manifest,
      scripts: await lifecycleScriptsOf(root, dir, manifest, PROJECT_EVENTS, locate),
    });
  }
  return result;
}

/** Maps an absolute path to the lockfile location of the package that holds it. */
function locator(lock: Lockfile, projectDir: string): (file: string) => string | undefined {
  return (file) => {
    const relative = path.relative(projectDir, file).split(path.sep).join("/");
    if (relative.startsWith("..")) return undefined;
    const segments = relative.split("/");
    for (let i = segments.length; i > 0; i--) {
      const candidate = segments.slice(0, i).join("/");
      const entry = lock.packages.get(candidate);
      if (entry !== undefined && !entry.link) return candidate;
    }
    return undefined;
  };
}

function linkError(problems: readonly LinkProblem[], lock: Lockfile): InstallError {
  const lines = problems.slice(0, 20).map((p) => {
    const id = lock.packages.get(p.location);
    const who = id === undefined ? p.location : `${displayId(id.identity)} (${p.location})`;
    return p.kind === "folder-is-link"
      ? `  ${who}: the package folder is a link to ${p.target}`
      : p.kind === "too-many-files"
        ? `  ${who}: ${p.target}`
        : `  ${who}: ${p.path} links to ${p.target}, outside the package`;
  });
  const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : "";
  return new InstallError(`Packages link outside their own folder, so their install code cannot be confined:\n${lines.join("\n")}${more}`, {
    packages: [...new Set(problems.map((p) => p.location))],
    hint: "Reinstall from the registry with `npm ci --ignore-scripts` (npm never extracts links from tarballs); if a link remains, deny the package or remove it from your dependencies.",
  });
}

function annotate(error: unknown, entry: LockedPackage): unknown {
  if (error instanceof InstallError) {
    return new InstallError(`${displayId(entry.identity)} (${entry.location}): ${error.message}`, {
      ...(error.file === undefined ? {} : { file: error.file }),
      packages: [entry.location],
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      cause: error,
    });
  }
  return error;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, signal: AbortSignal | undefined, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
