import path from "node:path";
import npa from "npm-package-arg";
import { parseAllowKey, specMatches } from "./allow-scripts.js";
import { writeFileAtomic } from "./atomic-write.js";
import { isRecord, readBounded } from "./bounded-read.js";
import { PolicyError } from "./errors.js";
import { sriSha256 } from "./install-code.js";
import type { InstallCodeStore } from "./install-code-store.js";
import type { Inventory, ScriptedPackage } from "./inventory.js";
import { formatLike } from "./json-text.js";
import { displayId } from "./package-identity.js";
import { parseInstallPolicy } from "./policy-file.js";
import { readInstallPolicy } from "./policy-read.js";

export interface PolicyEdit {
  readonly file: string;
  /** False when the policy already said this (nothing was written). */
  readonly changed: boolean;
  /** What changed, one line each, e.g. `allowScripts["esbuild"]: true`. */
  readonly summary: readonly string[];
}

/** Grants to record with an approval (replacing those given; others are kept). */
export interface GrantsInput {
  net?: readonly string[];
  write?: readonly string[];
  env?: readonly string[];
  timeout?: string | number;
  memory?: string | number;
}

export interface ApproveOptions {
  grants?: GrantsInput;
  /** Record a content pin of the install code (default true). */
  pin?: boolean;
  /** Where to keep copies of the pinned files, for later diffs. */
  store?: InstallCodeStore;
  dryRun?: boolean;
}

type Json = Record<string, unknown>;

/**
 * `cordon approve <pkg>…`: allows each named package's install scripts
 * (npm's `allowScripts`, name-only, so npm and cordon agree), pins its
 * current install code by hash in `cordon.packages`, and records grants.
 * An explicit approval replaces a name-only deny of the same package (unlike
 * `npm approve-scripts --all`, this is the user naming it).
 */
export async function approvePackages(projectDir: string, names: readonly string[], inventory: Inventory, options: ApproveOptions = {}): Promise<PolicyEdit> {
  return editPolicy(projectDir, options.dryRun ?? false, async (data, summary) => {
    for (const arg of names) {
      const targets = packagesNamed(arg, inventory);
      const allow = objectField(data, "allowScripts");
      for (const key of keysFor(targets)) {
        for (const existing of Object.keys(allow)) {
          if (allow[existing] === false && denies(existing, targets, projectDir)) {
            delete allow[existing];
            summary.push(`allowScripts[${JSON.stringify(existing)}]: removed (was false)`);
          }
        }
        if (allow[key] !== true) {
          allow[key] = true;
          summary.push(`allowScripts[${JSON.stringify(key)}]: true`);
        }
      }
      const name = targets[0]!.identity.name;
      const entry = objectField(objectField(objectField(data, "cordon"), "packages"), name);
      if (options.grants !== undefined) setGrants(entry, options.grants, name, summary);
      if (options.pin ?? true) await addPins(entry, targets, name, summary, options.store);
    }
  });
}

/** `cordon deny <pkg>…`: a name-only `false` in `allowScripts` (deny wins), dropping the name's allow entries. */
export async function denyPackages(projectDir: string, names: readonly string[], inventory: Inventory, options: { dryRun?: boolean } = {}): Promise<PolicyEdit> {
  return editPolicy(projectDir, options.dryRun ?? false, async (data, summary) => {
    for (const arg of names) {
      const targets = packagesNamed(arg, inventory, true);
      const allow = objectField(data, "allowScripts");
      const keys = targets.length > 0 ? keysFor(targets) : [bareName(arg)];
      for (const existing of Object.keys(allow)) {
        if (allow[existing] === true && (targets.length > 0 ? allows(existing, targets, projectDir) : registryName(existing) === keys[0])) {
          delete allow[existing];
          summary.push(`allowScripts[${JSON.stringify(existing)}]: removed (was true)`);
        }
      }
      for (const key of keys) {
        if (allow[key] !== false) {
          allow[key] = false;
          summary.push(`allowScripts[${JSON.stringify(key)}]: false`);
        }
      }
    }
  });
}

/**
 * `cordon policy prune`: removes `allowScripts` entries and `cordon.packages`
 * entries that match no package with install code in the tree, and pins
 * that match no install code now installed. Unparseable keys are left alone.
 */
export async function prunePolicy(projectDir: string, inventory: Inventory, options: { dryRun?: boolean } = {}): Promise<PolicyEdit> {
  return editPolicy(projectDir, options.dryRun ?? false, async (data, summary) => {
    const allow = isRecord(data.allowScripts) ? data.allowScripts : {};
    for (const key of Object.keys(allow)) {
      const spec = parseAllowKey(key, projectDir);
      if ("ignored" in spec) continue;
      if (!inventory.packages.some((p) => specMatches(spec, p.identity, projectDir, false))) {
        delete allow[key];
        summary.push(`allowScripts[${JSON.stringify(key)}]: removed (matches no package with install scripts)`);
      }
    }
    const cordon = isRecord(data.cordon) ? data.cordon : {};
    const packages = isRecord(cordon.packages) ? cordon.packages : {};
    for (const [name, entry] of Object.entries(packages)) {
      const present = inventory.packages.filter((p) => p.identity.name === name);
      if (present.length === 0) {
        delete packages[name];
        summary.push(`cordon.packages[${JSON.stringify(name)}]: removed (not in the tree)`);
        continue;
      }
      if (!isRecord(entry) || !Array.isArray(entry.pins)) continue;
      const hashes = new Set(present.map((p) => p.installCode.hash));
      const kept = entry.pins.filter((pin) => isRecord(pin) && hashes.has(String(pin.hash)));
      if (kept.length !== entry.pins.length) {
        summary.push(`cordon.packages[${JSON.stringify(name)}].pins: ${entry.pins.length - kept.length} removed (no longer installed)`);
        entry.pins = kept;
      }
    }
  });
}

async function editPolicy(projectDir: string, dryRun: boolean, edit: (data: Json, summary: string[]) => Promise<void>): Promise<PolicyEdit> {
  const source = await readInstallPolicy(projectDir);
  const data = structuredClone(source.data);
  const summary: string[] = [];
  await edit(data, summary);
  dropEmpty(data, source.data);
  // Validate what is about to be written with the same reader as every
  // install, so a bad grant fails now, naming the key, and not later.
  parseInstallPolicy(data, source.file);
  const text = formatLike(source.text, data);
  const changed = text !== source.text;
  if (changed && !dryRun) await writeFileAtomic(source.file, text);
  return { file: source.file, changed, summary };
}

/** The scripted packages a command-line argument names (`esbuild`, `esbuild@0.25.9`), or a PolicyError with close names. */
export function packagesNamed(arg: string, inventory: Inventory, allowAbsent = false): ScriptedPackage[] {
  let name: string;
  let version: string | undefined;
  try {
    const parsed = npa(arg);
    if (!parsed.registry || parsed.name === null) throw new Error("not a registry name");
    name = parsed.name;
    version = parsed.type === "version" ? parsed.fetchSpec ?? undefined : undefined;
  } catch {
    throw new PolicyError(`"${arg}" is not a package name.`, { input: arg, hint: "Give the name as in the lockfile, e.g. esbuild or @swc/core, optionally with @<version>." });
  }
  const found = inventory.packages.filter((p) => p.identity.name === name && (version === undefined || p.identity.version === version));
  if (found.length > 0 || allowAbsent) return found;
  if (inventory.packages.some((p) => p.identity.name === name)) {
    const versions = inventory.packages.filter((p) => p.identity.name === name).map((p) => displayId(p.identity));
    throw new PolicyError(`${arg} is not installed; installed with install scripts: ${versions.join(", ")}.`, { input: arg, hint: `Approve by name (cordon approve ${name}) or name one of those versions.` });
  }
  if (inventory.names.includes(name)) {
    throw new PolicyError(`${name} has no install scripts, so there is nothing to approve.`, { input: arg, hint: "Run `cordon policy ls` to see the packages that do." });
  }
  const close = closeNames(name, inventory.packages.map((p) => p.identity.name));
  throw new PolicyError(`${name} is not in this project's dependency tree.`, {
    input: arg,
    hint: close.length > 0 ? `Did you mean ${close.join(", ")}?` : "Run `cordon policy ls` to see the packages with install scripts.",
  });
}

/** registry packages: the bare name (cordon pins by content, not by version); others: their resolved spec, as npm matches them. */
function keysFor(targets: readonly ScriptedPackage[]): string[] {
  return [...new Set(targets.map((p) => (p.identity.source === "registry" ? p.identity.name : p.identity.resolved ?? p.identity.name)))];
}

function bareName(arg: string): string {
  try {
    return npa(arg).name ?? arg;
  } catch {
    return arg;
  }
}

function registryName(key: string): string | undefined {
  try {
    const parsed = npa(key);
    return parsed.registry ? parsed.name ?? undefined : undefined;
  } catch {
    return undefined;
  }
}

function denies(key: string, targets: readonly ScriptedPackage[], projectDir: string): boolean {
  return matchesAny(key, targets, projectDir, true);
}

function allows(key: string, targets: readonly ScriptedPackage[], projectDir: string): boolean {
  return matchesAny(key, targets, projectDir, false);
}

function matchesAny(key: string, targets: readonly ScriptedPackage[], projectDir: string, failClosed: boolean): boolean {
  const spec = parseAllowKey(key, projectDir);
  if ("ignored" in spec) return false;
  // A deny written for the name at any version is the user's word about the package.
  if (spec.kind === "registry") return targets.some((t) => t.identity.name === spec.name);
  return targets.some((t) => specMatches(spec, t.identity, projectDir, failClosed));
}

function setGrants(entry: Json, grants: GrantsInput, name: string, summary: string[]): void {
  for (const field of ["net", "write", "env", "timeout", "memory"] as const) {
    const value = grants[field];
    if (value === undefined) continue;
    entry[field] = Array.isArray(value) ? [...value] : value;
    summary.push(`cordon.packages[${JSON.stringify(name)}].${field}: ${JSON.stringify(value)}`);
  }
}

async function addPins(entry: Json, targets: readonly ScriptedPackage[], name: string, summary: string[], store: InstallCodeStore | undefined): Promise<void> {
  const pins = Array.isArray(entry.pins) ? (entry.pins as unknown[]) : [];
  for (const pkg of targets) {
    if (store !== undefined) await keepCopies(pkg, store);
    if (pins.some((pin) => isRecord(pin) && pin.hash === pkg.installCode.hash)) continue;
    // The version is for people and for fetching the approved code again
    // (approved-code.ts checks every file against the pin's hashes); matching
    // is by hash. A lockfile written with omit-lockfile-registry-resolved has
    // no URL to read it from, so the lock entry's own version stands in.
    pins.push({ version: pkg.identity.version ?? pkg.identity.lockedVersion ?? null, hash: pkg.installCode.hash, scripts: { ...pkg.installCode.scripts }, files: { ...pkg.installCode.files } });
    summary.push(`cordon.packages[${JSON.stringify(name)}].pins: + ${displayId(pkg.identity)} ${pkg.installCode.hash}`);
  }
  entry.pins = pins;
}

/** Stores the pinned files, checking each still has the hash the inventory saw (nothing changed under the reviewer). */
async function keepCopies(pkg: ScriptedPackage, store: InstallCodeStore): Promise<void> {
  for (const [file, hash] of Object.entries(pkg.installCode.files)) {
    const bytes = await readBounded(path.join(pkg.dir, file), 64 * 1024 ** 2);
    if (bytes === undefined || sriSha256(bytes) !== hash) {
      throw new PolicyError(`${displayId(pkg.identity)}: ${file} changed since the inventory; nothing was approved.`, {
        file: path.join(pkg.dir, file),
        hint: "Run the command again: cordon approves only code it has just hashed.",
      });
    }
    await store.put(bytes);
  }
}

function objectField(parent: Json, key: string): Json {
  const value = Object.hasOwn(parent, key) ? parent[key] : undefined;
  if (isRecord(value)) return value;
  const created: Json = {};
  parent[key] = created;
  return created;
}

/** Sections the edit created but left empty are not written. */
function dropEmpty(data: Json, original: Json): void {
  const cordon = data.cordon;
  const originalCordon = isRecord(original.cordon) ? original.cordon : {};
  const originalPackages = isRecord(originalCordon.packages) ? originalCordon.packages : {};
  if (isRecord(cordon) && isRecord(cordon.packages)) {
    for (const [name, entry] of Object.entries(cordon.packages)) {
      if (isRecord(entry) && Object.keys(entry).length === 0 && !Object.hasOwn(originalPackages, name)) delete cordon.packages[name];
    }
    if (Object.keys(cordon.packages).length === 0 && !Object.hasOwn(originalCordon, "packages")) delete cordon.packages;
  }
  if (isRecord(cordon) && Object.keys(cordon).length === 0 && !Object.hasOwn(original, "cordon")) delete data.cordon;
  if (isRecord(data.allowScripts) && Object.keys(data.allowScripts).length === 0 && !Object.hasOwn(original, "allowScripts")) delete data.allowScripts;
}

/** Names within a small edit distance, or sharing a long part, best first. */
export function closeNames(name: string, candidates: readonly string[]): string[] {
  const scored = [...new Set(candidates)]
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .filter(({ candidate, distance }) => distance <= Math.max(2, Math.floor(name.length / 3)) || (name.length >= 4 && candidate.includes(name)))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate));
  return scored.slice(0, 5).map((s) => s.candidate);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
