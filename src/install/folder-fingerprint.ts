import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readlinkSync, type Dirent } from "node:fs";
import path from "node:path";

const MAX_ENTRIES = 200_000;

/**
 * A digest of what a package folder holds now: every file, folder and link
 * (nested `node_modules` excepted: those are other packages) with its mode,
 * size and modification time to the nanosecond. It is what a finished install
 * script is recorded against: a fresh extraction by npm (`npm ci`, `rm -rf
 * node_modules`, a new clone) lacks the script's outputs and differs; a
 * tree copied with its times kept (`cp -a`, a CI cache) matches, and its
 * outputs are indeed there. Like git's index, it trusts size and time: it
 * tells a rebuilt tree from a fresh one, not a forger from an honest tree.
 * Undefined when the folder is missing or too large to walk.
 */
export function fingerprintFolder(dir: string): string | undefined {
  const hash = createHash("sha256");
  const pending = [""];
  let seen = 0;
  if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  while (pending.length > 0) {
    const relative = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(path.join(dir, relative), { withFileTypes: true });
    } catch {
      return undefined;
    }
    seen += entries.length;
    if (seen > MAX_ENTRIES) return undefined;
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const name = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name === "node_modules") continue;
        hash.update(`d\0${name}\0`);
        pending.push(name);
        continue;
      }
      const stat = lstatSync(path.join(dir, name), { bigint: true, throwIfNoEntry: false });
      if (stat === undefined) return undefined;
      const kind = entry.isSymbolicLink() ? `l${readlinkSync(path.join(dir, name))}` : entry.isFile() ? "f" : "o";
      hash.update(`${kind}\0${name}\0${stat.mode}\0${stat.size}\0${stat.mtimeNs}\0`);
    }
  }
  return `sha256-${hash.digest("base64")}`;
}
