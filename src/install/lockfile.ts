import path from "node:path";
import { InstallError } from "./errors.js";
import { isRecord, own, parseJsonText, readBounded } from "./bounded-read.js";
import { identityOf, type PackageIdentity } from "./package-identity.js";

/** One `packages` entry of a v2/v3 lockfile, validated. */
export interface LockedPackage {
  /** The lockfile key, a POSIX path relative to the project: `node_modules/a/node_modules/b`. */
  readonly location: string;
  readonly identity: PackageIdentity;
  /** The lock entry's own `version` (display only; policy uses `identity.version`). */
  readonly lockVersion: string | undefined;
  /** A symlink to `resolved` (workspaces, `file:` folders installed as links). */
  readonly link: boolean;
  /** Bundled dependencies never run install scripts (npm's rule). */
  readonly inBundle: boolean;
  readonly dev: boolean;
  readonly optional: boolean;
  /** Names this package depends on (`dependencies` and `optionalDependencies`). */
  readonly dependencyNames: readonly string[];
  /** What it asks of each dependency, as written (`^1.2.0`, `npm:real@^2`): `dependencies`, `optionalDependencies` and `peerDependencies`. */
  readonly dependencySpecs: Readonly<Record<string, string>>;
}

export interface Lockfile {
  readonly file: string;
  readonly lockfileVersion: number;
  /** Every entry but the root (""), by location. */
  readonly packages: ReadonlyMap<string, LockedPackage>;
  readonly rootDependencyNames: readonly string[];
  /** What the project asks of its direct dependencies, dev ones included. */
  readonly rootDependencySpecs: Readonly<Record<string, string>>;
}

const LOCKFILE_LIMIT = 256 * 1024 ** 2;
const REGENERATE = "Regenerate it with `npm install --package-lock-only --ignore-scripts` (npm 7 or later) and review the diff.";

/** Reads `npm-shrinkwrap.json` when present (npm prefers it), else `package-lock.json`. */
export async function readLockfile(projectDir: string): Promise<Lockfile> {
  for (const name of ["npm-shrinkwrap.json", "package-lock.json"]) {
    const file = path.join(projectDir, name);
    const bytes = await readBounded(file, LOCKFILE_LIMIT);
    if (bytes !== undefined) return parseLockfile(bytes.toString("utf8"), file);
  }
  throw new InstallError(`${path.join(projectDir, "package-lock.json")} does not exist.`, {
    file: path.join(projectDir, "package-lock.json"),
    hint: "cordon takes each package's identity from the lockfile. Run `npm install --ignore-scripts` first (cordon install does).",
  });
}

export function parseLockfile(text: string, file: string): Lockfile {
  const data = parseJsonText(text, file, REGENERATE);
  if (!isRecord(data)) throw malformed(file, "(top level)", "is not a JSON object");
  const lockfileVersion = own(data, "lockfileVersion");
  if (lockfileVersion !== 2 && lockfileVersion !== 3) {
    throw new InstallError(`${file}: lockfileVersion ${JSON.stringify(lockfileVersion)} is not supported; cordon reads versions 2 and 3.`, {
      file,
      key: "lockfileVersion",
      hint: REGENERATE,
    });
  }
  const entries = own(data, "packages");
  if (!isRecord(entries)) throw malformed(file, "packages", "is missing or not an object");
  const packages = new Map<string, LockedPackage>();
  let rootDependencyNames: string[] = [];
  let rootDependencySpecs: Record<string, string> = {};
  for (const [location, entry] of Object.entries(entries)) {
    const key = `packages[${JSON.stringify(location)}]`;
    if (!isRecord(entry)) throw malformed(file, key, "is not an object");
    if (location === "") {
      rootDependencyNames = dependencyNamesOf(entry, file, key);
      rootDependencySpecs = dependencySpecsOf(entry, ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"]);
      continue;
    }
    checkLocation(location, file, key);
    packages.set(location, lockedPackage(location, entry, file, key));
  }
  return { file, lockfileVersion, packages, rootDependencyNames, rootDependencySpecs };
}

function lockedPackage(location: string, entry: Record<string, unknown>, file: string, key: string): LockedPackage {
  const text = (field: string): string | undefined => {
    const value = own(entry, field);
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value.includes("\0")) throw malformed(file, `${key}.${field}`, "is not a string");
    return value;
  };
  const flag = (field: string): boolean => own(entry, field) === true;
  const lockVersion = text("version");
  const identity = identityOf({ location, name: text("name"), version: lockVersion, resolved: text("resolved"), integrity: text("integrity") });
  return {
    location,
    identity,
    lockVersion,
    link: flag("link"),
    inBundle: flag("inBundle"),
    dev: flag("dev"),
    optional: flag("optional"),
    dependencyNames: dependencyNamesOf(entry, file, key),
    dependencySpecs: dependencySpecsOf(entry, ["dependencies", "optionalDependencies", "peerDependencies"]),
  };
}

/** Specs as written; a value that is not a string (checked for the names above) is left out. */
function dependencySpecsOf(entry: Record<string, unknown>, fields: readonly string[]): Record<string, string> {
  const specs: Record<string, string> = {};
  for (const field of fields) {
    const deps = own(entry, field);
    if (!isRecord(deps)) continue;
    for (const [name, spec] of Object.entries(deps)) if (typeof spec === "string" && !Object.hasOwn(specs, name)) specs[name] = spec;
  }
  return specs;
}

function dependencyNamesOf(entry: Record<string, unknown>, file: string, key: string): string[] {
  const names = new Set<string>();
  for (const field of ["dependencies", "optionalDependencies"]) {
    const deps = own(entry, field);
    if (deps === undefined) continue;
    if (!isRecord(deps)) throw malformed(file, `${key}.${field}`, "is not an object");
    for (const name of Object.keys(deps)) names.add(name);
  }
  return [...names].sort();
}

/**
 * Locations become paths cordon reads (and the installer grants write access
 * to), so a hostile lockfile must not be able to name `../../.ssh` or an
 * absolute path as a package folder.
 */
function checkLocation(location: string, file: string, key: string): void {
  const segments = location.split("/");
  // A link target outside the project (`file:../lib` installed as a link) is
  // recorded as `../lib`: leading `..` is allowed there, never below node_modules.
  const firstInside = segments.findIndex((s) => s !== "..");
  const inside = firstInside < 0 ? [] : segments.slice(firstInside);
  const bad =
    location.includes("\\") ||
    location.includes("\0") ||
    path.posix.isAbsolute(location) ||
    inside.length === 0 ||
    (firstInside > 0 && segments.includes("node_modules")) ||
    inside.some((s) => s === "" || s === "." || s === "..");
  if (bad) throw malformed(file, key, "is not a folder inside the project");
}

function malformed(file: string, key: string, rule: string): InstallError {
  return new InstallError(`${file}: ${key} ${rule}.`, { file, key, hint: REGENERATE });
}
