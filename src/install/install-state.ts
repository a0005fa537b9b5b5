import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "./atomic-write.js";
import { fingerprintFolder } from "./folder-fingerprint.js";

/**
 * The record lives inside the `node_modules` it describes, so it goes when
 * that tree goes: `npm ci` empties node_modules (dot files too), `rm -rf
 * node_modules` and a fresh clone have none. Sandboxes see node_modules
 * read-only, so no install script can mark itself or another package done.
 */
export const INSTALL_STATE_FILE = "node_modules/.cordon-install-state.json";

interface PackageRecord {
  /** The tarball (lockfile integrity) and install code hash the scripts ran for. */
  built: string;
  /** Events that finished, in the order they ran. */
  events: string[];
  /** The package folder's fingerprint when its last script finished; absent until then (and after a failure or a cut). */
  tree?: string;
}

interface StateFile {
  v: 2;
  packages: Record<string, PackageRecord>;
}

/**
 * Which approved scripts finished for which package, and what their folder
 * held when they did. A script counts as done only while its outputs are
 * provably in the tree being installed: same tarball, same install code, and
 * a folder that still matches what the script left. A package whose scripts
 * were cut off (Ctrl-C, kill -9, a crash, a failure) is set aside before npm
 * runs, so npm extracts it afresh and its scripts start over from a clean
 * folder, never on top of a half-finished build.
 */
export class InstallState {
  readonly #projectDir: string;
  readonly #file: string;
  readonly #state: StateFile;
  #saving: Promise<void> = Promise.resolve();

  private constructor(projectDir: string, state: StateFile) {
    this.#projectDir = projectDir;
    this.#file = path.join(projectDir, INSTALL_STATE_FILE);
    this.#state = state;
  }

  static open(projectDir: string): InstallState {
    let state: StateFile = { v: 2, packages: {} };
    try {
      const parsed = JSON.parse(fs.readFileSync(path.join(projectDir, INSTALL_STATE_FILE), "utf8")) as Partial<StateFile>;
      if (parsed.v === 2 && typeof parsed.packages === "object" && parsed.packages !== null) state = parsed as StateFile;
    } catch { /* no record yet, or unreadable: every approved script runs */ }
    return new InstallState(projectDir, state);
  }

  /** The events of the package at `location` already done for `built` whose outputs are still in its folder. */
  finishedEvents(location: string, built: string): ReadonlySet<string> {
    const record = this.#state.packages[location];
    if (record === undefined || record.built !== built || record.tree === undefined) return new Set();
    if (fingerprintFolder(path.join(this.#projectDir, location)) !== record.tree) return new Set();
    return new Set(record.events);
  }

  /** Written, and on disk, before the package's first script starts: until its last one finishes, the package counts as cut off. */
  async markRunning(location: string, built: string): Promise<void> {
    this.#state.packages[location] = { built, events: [] };
    await this.#save();
  }

  /** `complete` after the package's last script: only then is its folder's fingerprint recorded, and the package done. */
  async markFinished(location: string, built: string, event: string, complete: boolean): Promise<void> {
    const events = this.#state.packages[location]?.events ?? [];
    const tree = complete ? fingerprintFolder(path.join(this.#projectDir, location)) : undefined;
    this.#state.packages[location] = { built, events: [...events.filter((e) => e !== event), event], ...(tree === undefined ? {} : { tree }) };
    await this.#save();
  }

  /**
   * Before npm runs: removes the folders of packages whose scripts did not
   * finish, so npm reinstalls them from its cache as it would any missing
   * package. Returns their locations.
   */
  async discardUnfinished(): Promise<string[]> {
    const discarded: string[] = [];
    for (const [location, record] of Object.entries(this.#state.packages)) {
      if (record.tree !== undefined) continue;
      const dir = packageFolder(this.#projectDir, location);
      if (dir !== undefined) {
        await fs.promises.rm(dir, { recursive: true, force: true });
        discarded.push(location);
      }
      delete this.#state.packages[location];
    }
    if (discarded.length > 0) await this.#save();
    return discarded;
  }

  /** Forgets packages that are no longer installed. */
  async keepOnly(locations: ReadonlySet<string>): Promise<void> {
    const gone = Object.keys(this.#state.packages).filter((location) => !locations.has(location));
    for (const location of gone) delete this.#state.packages[location];
    if (gone.length > 0) await this.#save();
  }

  /** Saves one at a time, each writing the whole record as it is then, so a slower save never overwrites a newer one. */
  #save(): Promise<void> {
    this.#saving = this.#saving.catch(() => undefined).then(async () => {
      await fs.promises.mkdir(path.dirname(this.#file), { recursive: true });
      await writeFileAtomic(this.#file, `${JSON.stringify(this.#state, null, 2)}\n`);
    });
    return this.#saving;
  }
}

/**
 * The folder of a dependency at `location`, only when it is a real folder
 * reached without links: a record naming `../x`, a workspace folder or a
 * path through a symlink is never removed.
 */
function packageFolder(projectDir: string, location: string): string | undefined {
  const segments = location.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) return undefined;
  const last = segments.lastIndexOf("node_modules");
  const nameLength = segments.length - last - 1;
  if (last < 0 || nameLength < 1 || nameLength > 2 || (nameLength === 2 && !segments[last + 1]!.startsWith("@"))) return undefined;
  for (let i = 1; i <= segments.length; i++) {
    const stat = fs.lstatSync(path.join(projectDir, ...segments.slice(0, i)), { throwIfNoEntry: false });
    if (stat === undefined || stat.isSymbolicLink() || !stat.isDirectory()) return undefined;
  }
  return path.join(projectDir, ...segments);
}
