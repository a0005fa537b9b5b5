import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "./atomic-write.js";

interface StateFile {
  v: 1;
  /** location → what was built there (tarball integrity and install code hash), and the events that finished. */
  done: Record<string, { hash: string; events: string[] }>;
}

/**
 * Which approved scripts already ran to success for which package tarball and
 * install code, so an install stopped half-way can be rerun and finishes the
 * job without running finished scripts twice. A new tarball starts over.
 */
export class InstallState {
  readonly #file: string;
  #state: StateFile;

  constructor(projectDir: string) {
    this.#file = path.join(projectDir, ".cordon", "install-state.json");
    this.#state = { v: 1, done: {} };
    try {
      const parsed = JSON.parse(fs.readFileSync(this.#file, "utf8")) as StateFile;
      if (parsed.v === 1 && typeof parsed.done === "object") this.#state = parsed;
    } catch { /* no state yet, or unreadable: start clean */ }
  }

  finished(location: string, hash: string, event: string): boolean {
    const entry = this.#state.done[location];
    return entry !== undefined && entry.hash === hash && entry.events.includes(event);
  }

  async markFinished(location: string, hash: string, event: string): Promise<void> {
    const entry = this.#state.done[location];
    const events = entry && entry.hash === hash ? entry.events : [];
    this.#state.done[location] = { hash, events: [...new Set([...events, event])] };
    await fs.promises.mkdir(path.dirname(this.#file), { recursive: true });
    await writeFileAtomic(this.#file, `${JSON.stringify(this.#state, null, 2)}\n`);
  }

  /** Forgets packages no longer installed (or reinstalled by npm). */
  async keepOnly(locations: ReadonlySet<string>): Promise<void> {
    for (const location of Object.keys(this.#state.done)) if (!locations.has(location)) delete this.#state.done[location];
  }
}
