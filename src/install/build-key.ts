import { createHash } from "node:crypto";
import fs from "node:fs";
import { dependencyEdges } from "./install-order.js";
import type { Lockfile } from "./lockfile.js";
import type { PackageGrants } from "./policy-file.js";

/** Bumped when what an entry holds, or what decides it, changes meaning. */
export const BUILD_CACHE_FORMAT = "cordon-build-1";

/** The machine a build ran on, as far as it decides what the build produces. */
export interface BuildHost {
  readonly platform: string;
  readonly arch: string;
  /** `glibc-2.36`, `musl`, or `unknown`. */
  readonly libc: string;
  /** `process.versions.modules`: the ABI native modules are built for. */
  readonly nodeAbi: string;
}

/**
 * Everything that decides what a package's install scripts leave in its
 * folder. Two builds with equal inputs are interchangeable; anything left
 * out here would let a build made under other conditions be restored.
 */
export interface BuildInputs {
  readonly name: string;
  /** The lockfile's integrity of the tarball npm extracted. */
  readonly integrity: string;
  /** The hash of the scripts' text and the files they run (the pin hash). */
  readonly installCode: string;
  readonly grants: PackageGrants;
  readonly host: BuildHost;
  /**
   * Per script, in the order they run, the environment the sandbox gives it
   * (npm's lifecycle variables, granted host variables, locale). The
   * network layer's proxy variables, which change every run, are not part of it.
   */
  readonly env: readonly (readonly [event: string, env: ReadonlyMap<string, string>])[];
  /**
   * `name@integrity` of every package it can reach through the lockfile's
   * dependency edges: a build compiles against its dependencies' headers
   * (node-addon-api) and runs their tools (node-gyp-build).
   */
  readonly dependencies: readonly string[];
}

/** The cache key: a sha256 (hex) over every input, in one canonical order. */
export function buildKey(inputs: BuildInputs): string {
  const canonical = JSON.stringify([
    BUILD_CACHE_FORMAT,
    inputs.name,
    inputs.integrity,
    inputs.installCode,
    [inputs.grants.net, inputs.grants.write, inputs.grants.env, inputs.grants.timeout ?? null, inputs.grants.memory ?? null],
    [inputs.host.platform, inputs.host.arch, inputs.host.libc, inputs.host.nodeAbi],
    inputs.env.map(([event, env]) => [event, [...env].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]),
    [...inputs.dependencies].sort(),
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** This machine's platform, architecture, C library and Node ABI. */
export function currentBuildHost(): BuildHost {
  return { platform: process.platform, arch: process.arch, libc: libcOf(), nodeAbi: process.versions.modules };
}

function libcOf(): string {
  if (process.platform !== "linux") return "none";
  const report = process.report as { excludeNetwork?: boolean; getReport(): unknown };
  report.excludeNetwork = true;
  const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  if (header?.glibcVersionRuntime) return `glibc-${header.glibcVersionRuntime}`;
  try {
    if (fs.readdirSync("/lib").some((name) => name.startsWith("ld-musl-"))) return "musl";
  } catch { /* no /lib */ }
  return "unknown";
}

/**
 * For each location, `name@integrity` of every package reachable from it
 * through the lockfile's dependency edges (itself excluded), sorted.
 * A package without an integrity is named by its resolved URL or version.
 */
export function dependencyClosures(lock: Lockfile, locations: readonly string[]): Map<string, string[]> {
  const edges = dependencyEdges(lock.packages);
  const result = new Map<string, string[]>();
  for (const start of locations) {
    const seen = new Set<string>([start]);
    const pending = [...(edges.get(start) ?? [])];
    const names: string[] = [];
    while (pending.length > 0) {
      const location = pending.pop()!;
      if (seen.has(location)) continue;
      seen.add(location);
      const entry = lock.packages.get(location);
      if (entry === undefined) continue;
      const { name, integrity, resolved, version } = entry.identity;
      names.push(`${name}@${integrity ?? resolved ?? version ?? entry.lockVersion ?? "?"}`);
      pending.push(...(edges.get(location) ?? []));
    }
    result.set(start, names.sort());
  }
  return result;
}
