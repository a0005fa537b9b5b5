import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from "node:fs";
import path from "node:path";

/** Entries a package folder may hold before a walk gives up (a folder that big is not a package). */
const MAX_ENTRIES = 200_000;

export type ItemKind = "dir" | "file" | "link" | "other";

export interface WalkedItem {
  /** POSIX path relative to the folder. */
  name: string;
  kind: ItemKind;
  stat: BigIntStats;
  /** The link's target, for links. */
  target: string | undefined;
}

/**
 * Visits every entry of a package folder in a fixed order (sorted, depth
 * first), nested `node_modules` excepted: those are other packages. The
 * one walk behind the install state's fingerprint and the build cache's
 * snapshots. False when the folder is missing, changes under the walk, or
 * holds more than MAX_ENTRIES entries.
 */
export function walkPackageFolder(dir: string, visit: (item: WalkedItem) => void): boolean {
  if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return false;
  const pending = [""];
  let seen = 0;
  while (pending.length > 0) {
    const relative = pending.pop()!;
    let entries: string[];
    try {
      entries = readdirSync(path.join(dir, relative));
    } catch {
      return false;
    }
    seen += entries.length;
    if (seen > MAX_ENTRIES) return false;
    for (const entry of entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const name = relative === "" ? entry : `${relative}/${entry}`;
      const stat = lstatSync(path.join(dir, name), { bigint: true, throwIfNoEntry: false });
      if (stat === undefined) return false;
      const kind: ItemKind = stat.isDirectory() ? "dir" : stat.isFile() ? "file" : stat.isSymbolicLink() ? "link" : "other";
      if (kind === "dir" && entry === "node_modules") continue;
      visit({ name, kind, stat, target: kind === "link" ? readlinkSync(path.join(dir, name)) : undefined });
      if (kind === "dir") pending.push(name);
    }
  }
  return true;
}
