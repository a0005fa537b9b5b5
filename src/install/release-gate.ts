import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeFileAtomic } from "./atomic-write.js";
import { isRecord, readBounded } from "./bounded-read.js";
import { EXIT_INSTALL_REFUSED, InstallError } from "./errors.js";
import { formatLike } from "./json-text.js";
import { parseLockfile } from "./lockfile.js";
import type { PackumentTimes } from "./npm-client.js";
import {
  describeAge, heldBack, lockedReleases, olderPick, publishedAt,
  type LockedRelease, type Release, type ReleaseAgeGate, type ReleaseTimes,
} from "./release-age.js";

/** A locked version younger than the gate allows, and the version npm would pick instead. */
export interface YoungRelease {
  readonly release: LockedRelease;
  /** Undefined when the registry gives no publish time for it (then its age cannot be shown). */
  readonly published: Date | undefined;
  readonly why: string | undefined;
  readonly pick: Release | undefined;
}

/** A package npm resolved under the gate, and the newer version its ranges allow that the gate held back. */
export interface HeldBack {
  readonly release: LockedRelease;
  readonly installed: Date | undefined;
  readonly newer: Release;
}

export interface ReleaseCheck {
  readonly young: readonly YoungRelease[];
  readonly heldBack: readonly HeldBack[];
}

export type FetchTimes = (names: readonly string[]) => Promise<PackumentTimes>;

const TIMES_LIMIT = 64 * 1024 ** 2;
const TIMES_KEPT = 100_000;

/**
 * Publish times already read, by `name@version integrity`: a version's
 * publish time never changes, so each is asked of the registry once.
 */
export class ReleaseTimesCache {
  readonly file: string;
  readonly #times = new Map<string, string>();
  #dirty = false;

  constructor(file: string = defaultTimesFile()) {
    this.file = file;
    try {
      // A cache file larger than any this code writes is not read (asked again instead).
      if (fs.statSync(file).size > TIMES_LIMIT) return;
      const data = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
      if (isRecord(data) && data.v === 1 && isRecord(data.times)) {
        for (const [key, value] of Object.entries(data.times)) if (typeof value === "string") this.#times.set(key, value);
      }
    } catch { /* none yet, or unreadable: asked again */ }
  }

  get(release: LockedRelease): Date | undefined {
    const text = this.#times.get(keyOf(release));
    return text === undefined ? undefined : new Date(text);
  }

  set(release: LockedRelease, published: Date): void {
    if (release.integrity === undefined) return;
    this.#times.set(keyOf(release), published.toISOString());
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    const kept = [...this.#times].slice(-TIMES_KEPT);
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, JSON.stringify({ v: 1, times: Object.fromEntries(kept) }));
    this.#dirty = false;
  }
}

function defaultTimesFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
  return path.join(base, "cordon", "release-times.json");
}

function keyOf(release: LockedRelease): string {
  return `${release.name}@${release.version} ${release.integrity ?? ""}`;
}

/** The registry packages of the project's lockfile, or none when it has no lockfile yet. */
export async function lockedReleasesOf(projectDir: string): Promise<{ releases: LockedRelease[]; file: string | undefined; text: string | undefined }> {
  for (const name of ["npm-shrinkwrap.json", "package-lock.json"]) {
    const file = path.join(projectDir, name);
    const bytes = await readBounded(file, 256 * 1024 ** 2);
    if (bytes === undefined) continue;
    const text = bytes.toString("utf8");
    return { releases: lockedReleases(parseLockfile(text, file)), file, text };
  }
  return { releases: [], file: undefined, text: undefined };
}

/**
 * Checks each release's publish time against the gate. Times come from the
 * cache, else from the registry; `explain` names locations npm just
 * resolved, whose held-back newer versions are reported.
 */
export async function checkReleaseAges(
  releases: readonly LockedRelease[],
  gate: ReleaseAgeGate,
  fetchTimes: FetchTimes,
  cache: ReleaseTimesCache,
  explain: ReadonlySet<string> = new Set(),
): Promise<ReleaseCheck> {
  const packuments = new Map<string, ReleaseTimes>();
  const errors = new Map<string, string>();
  const fetchNames = async (names: Iterable<string>): Promise<void> => {
    const wanted = [...new Set(names)].filter((name) => !packuments.has(name) && !errors.has(name));
    if (wanted.length === 0) return;
    const answer = await fetchTimes(wanted);
    for (const [name, times] of Object.entries(answer.packuments)) packuments.set(name, times);
    for (const [name, why] of Object.entries(answer.errors)) errors.set(name, why);
  };
  await fetchNames(releases.filter((r) => explain.has(r.location) || cache.get(r) === undefined).map((r) => r.name));
  const published = new Map<LockedRelease, Date | undefined>();
  for (const release of releases) {
    const times = packuments.get(release.name);
    const date = cache.get(release) ?? (times === undefined ? undefined : publishedAt(times, release.version));
    if (date !== undefined) cache.set(release, date);
    published.set(release, date);
  }
  const tooYoung = releases.filter((r) => published.get(r) === undefined || published.get(r)! > gate.cutoff);
  // Their older versions are named: the packument is needed even when the time was cached.
  await fetchNames(tooYoung.map((r) => r.name));
  const young = tooYoung.map((release): YoungRelease => {
    const times = packuments.get(release.name);
    const date = published.get(release);
    const why = date !== undefined ? undefined : errors.get(release.name) ?? "the registry gives no publish time for this version";
    return { release, published: date, why, pick: times === undefined ? undefined : olderPick(release, times, gate) };
  });
  const held: HeldBack[] = [];
  for (const release of releases) {
    const times = packuments.get(release.name);
    if (!explain.has(release.location) || times === undefined) continue;
    const newer = heldBack(release, times, gate);
    if (newer !== undefined) held.push({ release, installed: published.get(release), newer });
  }
  await cache.save().catch(() => undefined);
  return { young, heldBack: held };
}

/**
 * Takes the too-young packages out of the lockfile, so that `npm install
 * --before=CUTOFF` resolves them again, among versions published before
 * the cutoff (npm keeps a locked version that satisfies its ranges, whatever
 * `--before` says). The caller keeps the original text, to put back if npm fails.
 */
export async function unlockReleases(file: string, text: string, locations: readonly string[]): Promise<void> {
  const data = JSON.parse(text) as Record<string, unknown>;
  const packages = isRecord(data.packages) ? data.packages : {};
  for (const location of locations) delete packages[location];
  await writeFileAtomic(file, formatLike(text, data));
}

/** One line per too-young release: the package, the version, its age, and what npm would pick instead. */
export function describeYoung(young: YoungRelease, gate: ReleaseAgeGate, now: Date): string {
  const { name, version } = young.release;
  const age = young.published === undefined
    ? `has no known publish time (${young.why ?? "unknown"})`
    : `was published ${describeAge(now.getTime() - young.published.getTime())} ago (${young.published.toISOString()})`;
  const instead = young.pick === undefined
    ? `no version published before ${gate.cutoff.toISOString()} fits ${young.release.ranges.join(" and ") || "what depends on it"}`
    : `the newest older version that fits is ${young.pick.version}, published ${describeAge(now.getTime() - young.pick.published.getTime())} ago`;
  return `${name}@${version} ${age}; ${instead}`;
}

export function describeHeldBack(held: HeldBack, now: Date): string {
  const { name, version } = held.release;
  const installedAge = held.installed === undefined ? "" : `, published ${describeAge(now.getTime() - held.installed.getTime())} ago`;
  return `${name}: held back at ${version}${installedAge}; ${held.newer.version} is only ${describeAge(now.getTime() - held.newer.published.getTime())} old`;
}

/** Versions younger than the gate are in the lockfile; no install script ran. */
export function releaseTooYoungError(young: readonly YoungRelease[], gate: ReleaseAgeGate, command: "install" | "ci", now: Date): InstallError {
  const lines = young.map((y) => `  ${describeYoung(y, gate, now)}`);
  const age = describeAge(gate.minAgeMs);
  const picks = young.filter((y) => y.pick !== undefined).map((y) => `${y.release.name}@${y.pick!.version}`);
  const move = picks.length > 0
    ? `Move them to older versions: cordon install ${[...new Set(picks)].join(" ")} (or plain cordon install, which asks npm to pick versions published before ${gate.cutoff.toISOString()})`
    : `Move these packages to older versions with cordon install (it asks npm to pick versions published before ${gate.cutoff.toISOString()})`;
  const hint = command === "ci"
    ? `cordon ci installs exactly the lockfile. ${move}, review and commit package-lock.json; or wait until they are ${age} old.`
    : `Pick older versions (cordon install NAME@VERSION for a direct dependency), or wait until they are ${age} old.`;
  return new InstallError(`${young.length} version(s) in the lockfile are younger than ${age} (${gate.setBy}); no install script ran.\n${lines.join("\n")}`, {
    hint,
    exitCode: EXIT_INSTALL_REFUSED,
    packages: young.map((y) => `${y.release.name}@${y.release.version}`),
  });
}
