import path from "node:path";
import semver from "semver";

/** Where a locked package came from, as recorded by its lockfile `resolved` field. */
export type PackageSource = "registry" | "git" | "file" | "remote" | "unknown";

/**
 * Who a package is, taken from the lockfile only. The tarball's own
 * `package.json` can claim any name and version (manifest confusion), so it
 * is never used for policy matching; it is kept apart as `manifest` for display.
 */
export interface PackageIdentity {
  /** The registered name: from the registry URL, else the lock entry's `name` (aliases), else the install folder. */
  readonly name: string;
  /** The version from the registry URL, else the lock entry's `version` for non-registry sources; null when unverifiable. */
  readonly version: string | null;
  readonly source: PackageSource;
  /** The lock entry's own `version`, for display when `version` is unverifiable (never for policy). */
  readonly lockedVersion: string | undefined;
  readonly resolved: string | undefined;
  readonly integrity: string | undefined;
}

/**
 * Registry tarballs live at `<host>/[<prefix>/]<name>/-/<base>-<version>.tgz`.
 * A path segment before `/-/` is required so `https://evil.example/-/trusted-1.0.0.tgz`
 * does not pass for a registry tarball (the same rule as npm's arborist).
 */
const REGISTRY_TARBALL = /^https?:\/\/[^/]+\/.+\/-\/[^/]+-\d/;

export function sourceOf(resolved: string | undefined, hasVersion: boolean): PackageSource {
  if (resolved === undefined) return hasVersion ? "registry" : "unknown";
  if (resolved.startsWith("git+") || resolved.startsWith("git:") || resolved.startsWith("github:")) return "git";
  if (resolved.startsWith("file:")) return "file";
  if (REGISTRY_TARBALL.test(resolved)) return "registry";
  if (/^https?:\/\//.test(resolved)) return "remote";
  return "unknown";
}

/**
 * The name and version a registry tarball URL encodes, as npm's
 * `version-from-tgz` reads it: `/@scope/name/-/name-1.2.3.tgz`.
 */
export function registryIdentityFromUrl(resolved: string): { name: string; version: string } | undefined {
  let url: URL;
  try {
    url = new URL(resolved);
  } catch {
    return undefined;
  }
  const base = path.posix.basename(url.pathname);
  if (!base.endsWith(".tgz")) return undefined;
  const parts = url.pathname.slice(1).split("/-/");
  if (parts.length < 2 || parts[parts.length - 1] !== base) return undefined;
  const before = (parts[parts.length - 2] ?? "").split(/\/|%2f/i);
  const project = before.pop() ?? "";
  const scope = before.pop();
  if (project === "" || !base.startsWith(`${project}-`)) return undefined;
  const parsed = semver.parse(base.slice(project.length + 1, -4));
  if (!parsed) return undefined;
  const name = scope !== undefined && scope.startsWith("@") ? `${decodeURIComponent(scope)}/${project}` : project;
  return { name, version: parsed.version };
}

export interface LockEntryFacts {
  location: string;
  name: string | undefined;
  version: string | undefined;
  resolved: string | undefined;
  integrity: string | undefined;
}

export function identityOf(entry: LockEntryFacts): PackageIdentity {
  const source = sourceOf(entry.resolved, entry.version !== undefined);
  const folderName = nameFromLocation(entry.location);
  const fromUrl = source === "registry" && entry.resolved !== undefined ? registryIdentityFromUrl(entry.resolved) : undefined;
  const name = fromUrl?.name ?? entry.name ?? folderName;
  // Without a resolved URL (omit-lockfile-registry-resolved) npm treats the
  // version as unverifiable: a version pin then never approves. Same here.
  const version = fromUrl?.version ?? (source === "registry" ? null : entry.version ?? null);
  return { name, version, source, lockedVersion: entry.version, resolved: entry.resolved, integrity: entry.integrity };
}

/** `node_modules/a/node_modules/@s/b` → `@s/b`; a workspace folder `packages/x` → `x`. */
export function nameFromLocation(location: string): string {
  const at = location.lastIndexOf("node_modules/");
  if (at >= 0) return location.slice(at + "node_modules/".length);
  return path.posix.basename(location);
}

export function displayId(identity: PackageIdentity): string {
  const version = identity.version ?? identity.lockedVersion;
  return version === undefined ? identity.name : `${identity.name}@${version}`;
}
