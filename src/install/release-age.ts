import semver from "semver";
import { ConfigError } from "../errors.js";
import { resolveDependency } from "./install-order.js";
import type { Lockfile } from "./lockfile.js";

/**
 * The release-age gate ("cool down"): versions published less than a given
 * time ago are not installed, so a hijacked release has time to be noticed
 * and pulled before it reaches this project. Pure: times come from the
 * registry through the caller.
 */
export interface ReleaseAgeGate {
  readonly minAgeMs: number;
  /** Versions published after this are too young; npm gets it as `--before`. */
  readonly cutoff: Date;
  /** How the user set it, for messages: `--min-release-age=3d` or the policy's key. */
  readonly setBy: string;
}

/** A registry package in the lockfile, with what its dependents ask of it. */
export interface LockedRelease {
  readonly location: string;
  readonly name: string;
  readonly version: string;
  readonly integrity: string | undefined;
  /** The ranges its dependents ask for (`^1.2.0`); a spec that is not a range (a tag, a URL) is left out. */
  readonly ranges: readonly string[];
}

/** A registry's versions with their publish times. */
export interface ReleaseTimes {
  readonly versions: readonly string[];
  readonly time: Readonly<Record<string, string>>;
}

export interface Release {
  readonly version: string;
  readonly published: Date;
}

const UNITS_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** "3d", "12h", "2w", "90m"; "0" turns the gate off. Milliseconds. */
export function parseReleaseAge(value: string, input: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(m|h|d|w)?\s*$/i.exec(value);
  if (match && Number(match[1]) === 0) return 0;
  if (!match) {
    throw new ConfigError(`${input}: "${value}" is not an age.`, {
      input,
      hint: "Give a number with a unit: 90m, 12h, 3d or 2w, or a number of days as npm does (0 turns the gate off), e.g. --min-release-age=3d.",
    });
  }
  // A bare number is days, as npm 11's own --min-release-age reads it.
  return Math.ceil(Number(match[1]) * UNITS_MS[(match[2] ?? "d").toLowerCase()]!);
}

export function releaseAgeGate(minAgeMs: number, setBy: string, now: Date): ReleaseAgeGate {
  return { minAgeMs, cutoff: new Date(now.getTime() - minAgeMs), setBy };
}

/**
 * Every registry package of the lockfile, with the ranges its dependents
 * (the project included, dev dependencies too) ask of it, resolved the way
 * Node finds a dependency from each dependent's folder.
 */
export function lockedReleases(lock: Lockfile): LockedRelease[] {
  const ranges = new Map<string, Set<string>>();
  const want = (from: string, specs: Readonly<Record<string, string>>): void => {
    for (const [name, spec] of Object.entries(specs)) {
      const target = resolveDependency(lock.packages, from, name);
      const range = rangeOf(spec);
      if (target === undefined || range === undefined) continue;
      if (!ranges.has(target)) ranges.set(target, new Set());
      ranges.get(target)!.add(range);
    }
  };
  want("", lock.rootDependencySpecs);
  for (const entry of lock.packages.values()) want(entry.location, entry.dependencySpecs);
  const releases: LockedRelease[] = [];
  for (const entry of lock.packages.values()) {
    const { name, source, integrity } = entry.identity;
    // The version npm installs: the lock entry's own (a lockfile written with
    // omit-lockfile-registry-resolved has no URL to read one from).
    const version = entry.identity.version ?? entry.lockVersion;
    if (entry.link || entry.inBundle || source !== "registry" || version === undefined || semver.valid(version) === null) continue;
    releases.push({ location: entry.location, name, version, integrity, ranges: [...(ranges.get(entry.location) ?? [])] });
  }
  return releases;
}

/** `^1.2.0` → itself; `npm:real@^2` → `^2`; tags, URLs, paths → undefined. */
function rangeOf(spec: string): string | undefined {
  const alias = /^npm:(?:@[^/@]+\/)?[^@]+@(.+)$/.exec(spec);
  const range = alias ? alias[1]! : spec;
  return semver.validRange(range) === null ? undefined : range;
}

export function publishedAt(times: ReleaseTimes, version: string): Date | undefined {
  const text = Object.hasOwn(times.time, version) ? times.time[version] : undefined;
  const date = text === undefined ? undefined : new Date(text);
  return date === undefined || Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The version npm picks for this package under the gate: the highest that
 * every dependent's range allows and that was published before the cutoff.
 */
export function olderPick(release: LockedRelease, times: ReleaseTimes, gate: ReleaseAgeGate): Release | undefined {
  return highest(release, times, (published) => published <= gate.cutoff);
}

/**
 * For a package npm resolved under the gate: the newer version its ranges
 * allow that the gate held back (published after the cutoff), if any.
 */
export function heldBack(release: LockedRelease, times: ReleaseTimes, gate: ReleaseAgeGate): Release | undefined {
  const newest = highest(release, times, () => true);
  if (newest === undefined || newest.published <= gate.cutoff || !semver.gt(newest.version, release.version)) return undefined;
  return newest;
}

function highest(release: LockedRelease, times: ReleaseTimes, allowed: (published: Date) => boolean): Release | undefined {
  const candidates = times.versions
    .filter((version) => semver.valid(version) !== null && release.ranges.every((range) => semver.satisfies(version, range)))
    .filter((version) => release.ranges.length > 0 || semver.prerelease(version) === null)
    .sort(semver.rcompare);
  for (const version of candidates) {
    const published = publishedAt(times, version);
    if (published !== undefined && allowed(published)) return { version, published };
  }
  return undefined;
}

/** "3 days", "5 hours", "40 minutes": how long ago, in the largest unit that fits. */
export function describeAge(ms: number): string {
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (ms >= 86_400_000) return plural(Math.floor(ms / 86_400_000), "day");
  if (ms >= 3_600_000) return plural(Math.floor(ms / 3_600_000), "hour");
  return plural(Math.max(0, Math.floor(ms / 60_000)), "minute");
}
