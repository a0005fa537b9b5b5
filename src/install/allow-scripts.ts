import path from "node:path";
import npa from "npm-package-arg";
import semver from "semver";
import type { PackageIdentity } from "./package-identity.js";

/**
 * npm's `allowScripts` field (package.json, npm ≥ 11.16; enforced from
 * npm 12), read with npm's own rules (@npmcli/arborist script-allowed.js and
 * npm's resolve-allow-scripts.js):
 *
 * - a key is anything npm-package-arg parses: `pkg`, `pkg@*`, `pkg@1.2.3`,
 *   `pkg@1.2.3 || 1.2.4`, a git URL (optionally `#<sha-prefix>`), `file:…`, a
 *   tarball URL; a value is `true` (allow) or `false` (deny);
 * - registry keys match the name and version in the lockfile's resolved URL,
 *   never the tarball's package.json, and only registry packages;
 * - semver ranges (`^1`, `~1.2`, `>=1`, `1`, `1.x`) and dist-tags are not
 *   allowed: npm ignores those entries with a warning, and so does cordon;
 *   aliases (`a@npm:b`) never match; unparseable keys are ignored;
 * - any matching `false` wins over any matching `true`;
 * - with no verifiable version (no resolved URL), a version key denies but never allows.
 */
export interface AllowScriptsEntry {
  readonly key: string;
  readonly allow: boolean;
  readonly spec: AllowSpec;
}

export type AllowSpec =
  | { readonly kind: "registry"; readonly name: string; readonly versions: readonly string[] | "any" }
  | { readonly kind: "git"; readonly parsed: npa.Result }
  | { readonly kind: "location"; readonly saveSpec: string | null; readonly fetchSpec: string | null };

/** Parses one key; returns a warning text instead when npm would ignore the entry. */
export function parseAllowKey(key: string, projectDir: string): AllowSpec | { ignored: string } {
  let parsed: npa.Result;
  try {
    parsed = npa(key, projectDir);
  } catch (error) {
    return { ignored: `"${key}" is not a package spec (${(error as Error).message})` };
  }
  switch (parsed.type) {
    case "version":
      return { kind: "registry", name: parsed.name ?? "", versions: [parsed.fetchSpec ?? ""] };
    case "range": {
      const spec = parsed.fetchSpec ?? "";
      if (spec === "*" || parsed.rawSpec === "" || parsed.rawSpec === "*") return { kind: "registry", name: parsed.name ?? "", versions: "any" };
      const versions = exactVersions(spec);
      if (versions === undefined) {
        return { ignored: `"${key}" uses a semver range; npm accepts only exact versions joined by "||" (e.g. "${parsed.name}@1.2.3 || 1.2.4") or the bare name` };
      }
      return { kind: "registry", name: parsed.name ?? "", versions };
    }
    case "tag":
      return { ignored: `"${key}" names a dist-tag, which cannot be verified at install time; use an exact version or the bare name` };
    case "alias":
      return { ignored: `"${key}" is an alias; write the real package name` };
    case "git":
      return { kind: "git", parsed };
    case "file":
    case "directory":
    case "remote":
      return { kind: "location", saveSpec: parsed.saveSpec, fetchSpec: parsed.fetchSpec };
    default:
      return { ignored: `"${key}" is not a kind of spec allowScripts accepts` };
  }
}

/** `1.2.3 || 1.2.4` → both versions; anything with an operator or a partial version → undefined. */
export function exactVersions(spec: string): string[] | undefined {
  const parts = spec.split("||").map((p) => p.trim());
  if (parts.some((p) => p === "" || semver.valid(p) === null)) return undefined;
  return parts.map((p) => semver.valid(p)!);
}

/** true: allowed; false: denied (deny wins); null: no entry matches (unreviewed). */
export function allowScriptsVerdict(entries: readonly AllowScriptsEntry[], identity: PackageIdentity, projectDir: string): boolean | null {
  let allowed = false;
  for (const entry of entries) {
    if (!specMatches(entry.spec, identity, projectDir, !entry.allow)) continue;
    if (!entry.allow) return false;
    allowed = true;
  }
  return allowed ? true : null;
}

export function specMatches(spec: AllowSpec, identity: PackageIdentity, projectDir: string, failClosed: boolean): boolean {
  switch (spec.kind) {
    case "registry":
      if (identity.source !== "registry" || identity.name !== spec.name) return false;
      if (spec.versions === "any") return true;
      if (identity.version === null) return failClosed;
      return spec.versions.includes(identity.version);
    case "git":
      return identity.source === "git" && gitMatches(spec.parsed, identity.resolved ?? "");
    case "location":
      return identity.source !== "registry" && identity.source !== "git" && locationMatches(spec, identity.resolved, projectDir);
  }
}

function locationMatches(spec: { saveSpec: string | null; fetchSpec: string | null }, resolved: string | undefined, projectDir: string): boolean {
  if (resolved === undefined) return false;
  if (resolved === spec.saveSpec || resolved === spec.fetchSpec) return true;
  // Lockfiles record folder and tarball dependencies relative to the project.
  if (resolved.startsWith("file:")) return spec.fetchSpec === path.resolve(projectDir, resolved.slice("file:".length));
  return false;
}

/**
 * Same repository, and when the key names a commit, the locked full SHA
 * starts with it (never the reverse: a longer key must not match a shorter,
 * malformed resolved committish).
 */
/** The parts of hosted-git-info that npm's matcher uses (its typings lag behind). */
interface HostedInfo {
  ssh(options?: { noCommittish?: boolean }): string | undefined;
  committish?: string | null;
}

function hostedOf(result: npa.Result): HostedInfo | undefined {
  return result.hosted as unknown as HostedInfo | undefined;
}

function gitMatches(key: npa.Result, resolved: string): boolean {
  let locked: npa.Result;
  try {
    locked = npa(resolved);
  } catch {
    return false;
  }
  const bare = { noCommittish: true };
  const keyHost = hostedOf(key)?.ssh(bare);
  const lockedHost = hostedOf(locked)?.ssh(bare);
  if (keyHost !== undefined && lockedHost !== undefined) {
    if (keyHost !== lockedHost) return false;
  } else if (key.fetchSpec && locked.fetchSpec) {
    if (key.fetchSpec !== locked.fetchSpec) return false;
  } else {
    return false;
  }
  const wanted = key.gitCommittish || hostedOf(key)?.committish || "";
  if (wanted === "") return true;
  const actual = locked.gitCommittish || hostedOf(locked)?.committish || "";
  return actual !== "" && actual.startsWith(wanted);
}
