import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ConfigError } from "../errors.js";
import { ScanError } from "./errors.js";
import { isRecord } from "./package-meta.js";
import type { ScanOptions } from "./scan-package.js";
import { scanTarball } from "./tarball.js";
import type { PackageReport, RegistryManifest } from "./types.js";
import { npmCommand } from "../host/tools.js";

const run = promisify(execFile);
const NPM_TIMEOUT_MS = 120_000;

/**
 * Registry specs only: `name`, `name@1.2.3`, `@scope/name@^1`, `name@latest`.
 * Git, URL and file specs are refused: `npm pack` of a git dependency runs
 * its `prepare` script, which is exactly the code this scan is meant to
 * judge before it runs. A leading "-" would be read by npm as an option.
 */
const REGISTRY_SPEC = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(?:@[\w.^~<>=| *+-]+)?$/i;

export function parseNpmSpec(input: string): string {
  const spec = input.startsWith("npm:") ? input.slice(4) : input;
  if (!REGISTRY_SPEC.test(spec) || spec.length > 214 + 64) {
    throw new ConfigError(`"${input}" is not a registry package spec.`, {
      input,
      hint: "Use npm:NAME, npm:NAME@VERSION or npm:@SCOPE/NAME@RANGE. Git, URL and file specs are refused because fetching them can run code.",
    });
  }
  return spec;
}

/**
 * Fetches a package from the registry npm is configured with (`npm pack`,
 * scripts off, in a private temporary folder) and scans the tarball; the
 * registry's own manifest is fetched too, to catch manifest confusion.
 * Nothing from the package is executed.
 */
export async function scanSpec(input: string, options: ScanOptions = {}): Promise<PackageReport> {
  const workspace = await mkdtemp(join(tmpdir(), "cordon-fetch-"));
  try {
    const fetched = await fetchSpec(input, workspace, options.signal);
    return await scanTarball(fetched.tarball, { ...options, integrity: fetched.integrity, registry: fetched.registry, source: fetched.source });
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

export interface FetchedSpec {
  /** The tarball, inside the workspace given. */
  tarball: string;
  integrity: string;
  registry: RegistryManifest | undefined;
  /** "npm:NAME@VERSION from REGISTRY", for reports. */
  source: string;
}

/** Fetches a registry spec's tarball into `workspace` (a folder the caller owns and removes), scripts off. */
export async function fetchSpec(input: string, workspace: string, signal?: AbortSignal): Promise<FetchedSpec> {
  const spec = parseNpmSpec(input);
  const registryUrl = (await npm(["config", "get", "registry"], workspace, signal)).trim();
  const packed = await pack(spec, workspace, signal);
  const registry = await registryManifest(`${packed.name}@${packed.version}`, workspace, signal);
  return { tarball: join(workspace, packed.filename), integrity: packed.integrity, registry, source: `npm:${packed.name}@${packed.version} from ${registryUrl}` };
}

/**
 * Installs a package's registry dependencies into `dir` (an empty folder the
 * caller owns) with npm, scripts off, so that an observed package's install
 * scripts and entry point find what they require. Only registry specs are
 * installed: git, URL, file and link specs are left out and returned,
 * because fetching a git dependency runs its `prepare` script. The folder
 * holds nothing of the package: its own .npmrc (which could name another
 * registry or a `git` program), lockfile and scripts are never read.
 */
export async function installRegistryDependencies(
  lists: { dependencies: Readonly<Record<string, string>>; optionalDependencies: Readonly<Record<string, string>> },
  dir: string,
  signal?: AbortSignal,
): Promise<{ installed: string[]; skipped: string[] }> {
  const installed: string[] = [];
  const skipped: string[] = [];
  const keep = (listed: Readonly<Record<string, string>>): Record<string, string> => {
    const kept: Record<string, string> = {};
    for (const [name, range] of Object.entries(listed)) {
      const registryRange = /^[\w.^~<>=| *+-]*$/.test(range) || (range.startsWith("npm:") && REGISTRY_SPEC.test(range.slice(4)));
      if (REGISTRY_SPEC.test(name) && !name.includes("@", 1) && registryRange) {
        kept[name] = range;
        installed.push(`${name}@${range}`);
      } else skipped.push(`${name}@${range}`);
    }
    return kept;
  };
  // Optional ones stay optional: npm skips those made for another platform.
  const dependencies = keep(lists.dependencies);
  const optionalDependencies = keep(lists.optionalDependencies);
  if (installed.length === 0) return { installed, skipped };
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "cordon-observed-deps", version: "0.0.0", private: true, dependencies, optionalDependencies }));
  await npm(["install", "--ignore-scripts", "--omit=dev", "--no-package-lock", "--no-audit", "--no-fund", "--install-strategy=hoisted", "--loglevel=error"], dir, signal);
  return { installed, skipped };
}

async function pack(spec: string, workspace: string, signal: AbortSignal | undefined): Promise<{ filename: string; integrity: string; name: string; version: string }> {
  const output = await npm(["pack", spec, "--json", "--ignore-scripts", "--pack-destination", workspace], workspace, signal);
  const [entry] = parseJson(output, spec) as unknown[];
  if (!isRecord(entry) || typeof entry.filename !== "string" || typeof entry.name !== "string" || typeof entry.version !== "string") {
    throw new ScanError(`npm pack ${spec} printed no package description.`, { input: spec, hint: "Run `npm pack --json " + spec + "` yourself to see what npm says." });
  }
  const filename = entry.filename.replace(/^@/, "").replace(/\//g, "-");
  return { filename, integrity: typeof entry.integrity === "string" ? entry.integrity : "", name: entry.name, version: entry.version };
}

async function registryManifest(spec: string, workspace: string, signal: AbortSignal | undefined): Promise<RegistryManifest | undefined> {
  try {
    const view = parseJson(await npm(["view", spec, "name", "version", "scripts", "--json"], workspace, signal), spec);
    if (!isRecord(view)) return undefined;
    const scripts: Record<string, string> = {};
    if (isRecord(view.scripts)) for (const [name, command] of Object.entries(view.scripts)) if (typeof command === "string") scripts[name] = command;
    return {
      ...(typeof view.name === "string" ? { name: view.name } : {}),
      ...(typeof view.version === "string" ? { version: view.version } : {}),
      scripts,
    };
  } catch {
    return undefined;
  }
}

async function npm(args: string[], cwd: string, signal: AbortSignal | undefined): Promise<string> {
  try {
    const npm = npmCommand(args);
    const { stdout } = await run(npm.file, npm.args, { cwd, timeout: NPM_TIMEOUT_MS, maxBuffer: 16 << 20, ...(signal ? { signal } : {}) });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").split("\n").filter((line) => /ERR!|error/i.test(line)).slice(0, 3).join(" ");
    throw new ScanError(`npm ${args.slice(0, 2).join(" ")} failed${stderr ? `: ${stderr}` : ""}.`, {
      input: args[1] ?? args[0] ?? "npm",
      hint: "Check the package name and version, and that npm can reach its registry (`npm config get registry`, `npm ping`).",
      cause: error,
    });
  }
}

function parseJson(text: string, spec: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ScanError(`npm printed something other than JSON for ${spec}.`, { input: spec });
  }
}
