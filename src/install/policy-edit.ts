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
import { ensureCordonFolder } from "./cordon-folder.js";
import { parseInstallPolicy } from "./policy-file.js";
import { readInstallPolicy } from "./policy-read.js";

export interface PolicyEdit {
  /** package.json. */
  readonly file: string;
  /** The policy file (`.cordon/policy.json`), written when grants, pins or settings changed. */
  readonly policyFile: string;
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
 * (npm's `allowScripts`, name-only, so npm and cordon agree: one line per
 * package in package.json), pins its current install code by hash and
 * records grants in the policy file (`.cordon/policy.json`).
 * An explicit approval replaces a name-only deny of the same package (unlike
 * `npm approve-scripts --all`, this is the user naming it).
 */
export async function approvePackages(projectDir: string, names: readonly string[], inventory: Inventory, options: ApproveOptions = {}): Promise<PolicyEdit> {
  return editPolicy(projectDir, options.dryRun ?? false, async (data, summary, policy) => {
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
      const entry = objectField(objectField(policy, "packages"), name);
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
 * `cordon policy prune`: removes `allowScripts` entries and policy-file `packages`
 * entries that match no package with install code in the tree, and pins
 * that match no install code now installed. Unparseable keys are left alone.
 */
export async function prunePolicy(projectDir: string, inventory: Inventory, options: { dryRun?: boolean } = {}): Promise<PolicyEdit> {
  return editPolicy(projectDir, options.dryRun ?? false, async (data, summary, policy) => {
    const allow = isRecord(data.allowScripts) ? data.allowScripts : {};
    for (const key of Object.keys(allow)) {
      const spec = parseAllowKey(key, projectDir);
      if ("ignored" in spec) continue;
      if (!inventory.packages.some((p) => specMatches(spec, p.identity, projectDir, false))) {
        delete allow[key];
        summary.push(`allowScripts[${JSON.stringify(key)}]: removed (matches no package with install scripts)`);
      }
    }
    const packages = isRecord(policy.packages) ? policy.packages : {};
    for (const [name, entry] of Object.entries(packages)) {
      const present = inventory.packages.filter((p) => p.identity.name === name);
      if (present.length === 0) {
        delete packages[name];
        summary.push(`packages[${JSON.stringify(name)}]: removed (not in the tree)`);
        continue;
      }
      if (!isRecord(entry) || !Array.isArray(entry.pins)) continue;
      const hashes = new Set(present.map((p) => p.installCode.hash));
      const kept = entry.pins.filter((pin) => isRecord(pin) && hashes.has(String(pin.hash)));
      if (kept.length !== entry.pins.length) {
        summary.push(`packages[${JSON.stringify(name)}].pins: ${entry.pins.length - kept.length} removed (no longer installed)`);
        entry.pins = kept;
      }
    }
  });
}

/**
 * One edit of the policy: package.json's `allowScripts` (`data`) and the
 * policy file (`policy`). A `cordon` section left in package.json by an
 * older cordon moves into the policy file first. Everything is validated
 * with the same reader as every install before anything is written; the
 * policy file is written before package.json, so an edit cut off between the
 * two leaves at worst the same settings in both files, which reads the same.
 */
async function editPolicy(projectDir: string, dryRun: boolean, edit: (data: Json, summary: string[], policy: Json) => Promise<void>): Promise<PolicyEdit> {
  const source = await readInstallPolicy(projectDir);
  const data = structuredClone(source.data);
  const policy: Json = structuredClone(source.policyFile.data ?? { "//": POLICY_COMMENT });
  const summary: string[] = [];
  moveLegacySection(data, policy, summary, source.policyFile.file);
  await edit(data, summary, policy);
  dropEmpty(data, source.data);
  parseInstallPolicy(data, source.file, { data: policy, file: source.policyFile.file });
  const text = formatLike(source.text, data);
  const hasSettings = Object.keys(policy).some((key) => key !== "//" && !(key === "packages" && isRecord(policy.packages) && Object.keys(policy.packages).length === 0));
  const policyText = source.policyFile.text !== undefined ? formatLike(source.policyFile.text, policy) : hasSettings ? `${JSON.stringify(policy, null, 2)}\n` : undefined;
  const policyChanged = policyText !== undefined && policyText !== source.policyFile.text;
  const changed = text !== source.text || policyChanged;
  if (changed && !dryRun) {
    // The folder (and its .gitignore) also holds the audit record of this edit.
    await ensureCordonFolder(path.dirname(source.file));
    if (policyChanged) await writeFileAtomic(source.policyFile.file, policyText);
    if (text !== source.text) await writeFileAtomic(source.file, text);
  }
  return { file: source.file, policyFile: source.policyFile.file, changed, summary };
}

const POLICY_COMMENT = "cordon's install-script policy: grants and content pins per package (docs/install.md). Commit this file; package.json's allowScripts says which packages may run install scripts.";

/** package.json's `cordon.packages` and `cordon.minReleaseAge` go to the policy file (same keys); the section goes when nothing else is left in it. */
function moveLegacySection(data: Json, policy: Json, summary: string[], policyFile: string): void {
  const legacy = isRecord(data.cordon) ? data.cordon : undefined;
  if (legacy === undefined) return;
  const moved: string[] = [];
  if (isRecord(legacy.packages)) {
    const packages = objectField(policy, "packages");
    for (const [name, entry] of Object.entries(legacy.packages)) {
      // Validation already required a copy in both files to be the same.
      if (!Object.hasOwn(packages, name)) packages[name] = entry;
      moved.push(name);
    }
    delete legacy.packages;
  }
  if (legacy.minReleaseAge !== undefined) {
    if (policy.minReleaseAge === undefined) policy.minReleaseAge = legacy.minReleaseAge;
    delete legacy.minReleaseAge;
    moved.push("minReleaseAge");
  }
  if (Object.keys(legacy).length === 0) delete data.cordon;
  if (moved.length > 0) summary.push(`package.json's cordon section (${moved.join(", ")}) moved to ${path.basename(path.dirname(policyFile))}/${path.basename(policyFile)}`);
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
    summary.push(`packages[${JSON.stringify(name)}].${field}: ${JSON.stringify(value)}`);
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
    summary.push(`packages[${JSON.stringify(name)}].pins: + ${displayId(pkg.identity)} ${pkg.installCode.hash}`);
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

/** An `allowScripts` the edit created but left empty is not written. */
function dropEmpty(data: Json, original: Json): void {
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
