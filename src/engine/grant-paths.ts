import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../errors.js";
import type { Permissions } from "../policy/permissions.js";
import { scanPersistence, type PersistenceScan } from "./persistence.js";
import { cordonCacheDir, cordonDataDir } from "../host/dirs.js";

/** A path grant after the host has been consulted. */
export interface ResolvedGrant {
  /** The path as the user gave it (absolute). */
  given: string;
  /** The same path with every symlink resolved: what is really mounted. */
  real: string;
  writable: boolean;
}

/** Kernel and device trees: granting them would hand the sandbox the host's devices or processes. */
const UNGRANTABLE_TREES = ["/proc", "/sys", "/dev", "/run"];

/** Credential stores that deserve a warning when a grant reaches them. */
const CREDENTIAL_PATHS = [
  ".ssh", ".npmrc", ".aws", ".config/gh", ".docker", ".kube", ".gnupg", ".netrc",
  ".git-credentials", ".config/gcloud", ".azure", ".yarnrc.yml",
];

export interface ResolvedGrants {
  grants: ResolvedGrant[];
  /**
   * Paths inside writable grants that are mounted read-only again (deny
   * wins): every existing entry named in PROTECTED_NAMES below them, nested
   * ones included (see persistence.ts), and cordon's own cache and data
   * folders. Writing them is how code plants itself to run later,
   * outside any sandbox. Each is mounted read-only over itself, so it cannot
   * be written, and being a mount point it cannot be renamed away and
   * replaced either (`mv .git .git-old` fails with EBUSY). Granting one by its
   * own path makes it writable.
   */
  protectedPaths: string[];
  /** The watched files below the writable grants before the sandbox runs, to report what it plants. */
  persistenceBaseline: PersistenceScan;
  warnings: string[];
}

export function resolveGrantPaths(permissions: Permissions, homeDir: string, hostEnv: NodeJS.ProcessEnv = {}): ResolvedGrants {
  const warnings: string[] = [];
  const grants: ResolvedGrant[] = [];
  const home = safeRealpath(homeDir) ?? homeDir;
  for (const [flag, list, writable] of [
    ["--allow-read", permissions.read, false],
    ["--allow-write", permissions.write, true],
  ] as const) {
    for (const given of list) {
      const real = resolveOne(flag, given, home, warnings);
      grants.push({ given, real, writable });
    }
  }
  // A path granted both ways is writable; keep one entry per real path.
  const byReal = new Map<string, ResolvedGrant>();
  for (const grant of grants) {
    const seen = byReal.get(grant.real);
    if (!seen || (grant.writable && !seen.writable)) byReal.set(grant.real, grant);
  }
  // Grants only add: a read grant inside a writable one must not mount a
  // read-only layer over part of it.
  const writable = [...byReal.values()].filter((g) => g.writable);
  const unique = [...byReal.values()].filter((g) => g.writable || !writable.some((w) => isInside(g.real, w.real)));
  const writableRoots = unique.filter((g) => g.writable).map((g) => g.real);
  const baseline = scanPersistence(writableRoots);
  // Only a grant of the protected path itself unprotects it: a grant of
  // .git/objects leaves .git/hooks and .git/config read-only.
  const explicitlyGranted = (p: string): boolean => unique.some((g) => g.writable && g.real === p);
  const protectedPaths = [
    ...baseline.protect.filter((p) => !explicitlyGranted(p)),
    ...cordonOwnFolders(home, hostEnv).filter((p) => writableRoots.some((root) => isInside(p, root)) && !explicitlyGranted(p)),
  ];
  if (baseline.truncated) warnings.push(`the writable grants hold too many files to watch all of them for planted git hooks and rc files; protection is partial.`);
  return { grants: unique, protectedPaths, persistenceBaseline: baseline, warnings };
}

function resolveOne(flag: string, given: string, home: string, warnings: string[]): string {
  const real = safeRealpath(given);
  if (real === undefined) {
    throw new ConfigError(`${flag}: ${given} does not exist.`, {
      input: flag,
      hint: `Create it first, or fix the path. Grants name existing files or folders.`,
    });
  }
  if (real !== given) warnings.push(`${given} is a symlink to ${real}; granting ${real}.`);
  if (real === "/") {
    throw new ConfigError(`${flag}: ${given} is the whole filesystem.`, {
      input: flag,
      hint: `Grant the folders the program needs, e.g. ${flag}=./data.`,
    });
  }
  if (home === real || isInside(home, real)) {
    throw new ConfigError(`${flag}: ${given} contains your whole home folder (${home}), with its keys and tokens.`, {
      input: flag,
      hint: `Grant the project or folder the program needs, e.g. ${flag}=${path.join(home, "project")}.`,
    });
  }
  const tree = UNGRANTABLE_TREES.find((t) => real === t || isInside(real, t));
  if (tree) {
    throw new ConfigError(`${flag}: ${given} is in ${tree}, which cordon never grants.`, {
      input: flag,
      hint: `The sandbox gets its own private ${tree}; grant ordinary files or folders instead.`,
    });
  }
  for (const credential of CREDENTIAL_PATHS) {
    const full = path.join(home, credential);
    if (real !== full && !isInside(real, full) && !isInside(full, real)) continue;
    // Reached through a symlink, a credential store is never what the user
    // named: a sandbox with a writable grant can plant `dist -> ~/.ssh` and
    // wait for the next run's --allow-write=./dist.
    if (real !== path.resolve(given)) {
      throw new ConfigError(`${flag}: ${given} is a symlink to ${real}, which holds credentials (${full}).`, {
        input: flag,
        hint: `A program may have planted that link. Remove it, or grant ${full} by its own name if you really mean to.`,
      });
    }
    warnings.push(`${flag}=${given} reaches ${full}, which holds credentials.`);
  }
  return real;
}

/**
 * cordon's own caches and data (the build cache install restores from, the
 * scan cache, the Deno binary, the SDK's snapshots) are read-only in every
 * sandbox, even inside a writable grant such as --allow-write=~/.cache: a
 * sandbox that could write them would plant a "build" that the next install
 * restores outside any sandbox's review, or a Deno that every SDK sandbox runs.
 */
function cordonOwnFolders(home: string, hostEnv: NodeJS.ProcessEnv): string[] {
  return [cordonCacheDir(hostEnv, home), cordonDataDir(hostEnv, home)]
    .map((p) => safeRealpath(p))
    .filter((p): p is string => p !== undefined);
}

function safeRealpath(target: string): string | undefined {
  try {
    return fs.realpathSync.native(target);
  } catch {
    return undefined;
  }
}

/** True when `inner` is strictly below `outer`. */
export function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}
