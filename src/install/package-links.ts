import { lstatSync, readdirSync, readlinkSync, type Dirent } from "node:fs";
import path from "node:path";
import { insideFolder } from "./package-files.js";

/** A link that would let a package's scripts, or cordon's hashing, reach files outside the package. */
export interface LinkProblem {
  readonly location: string;
  readonly kind: "link-outside" | "folder-is-link" | "too-many-files";
  /** The link, relative to the project. */
  readonly path: string;
  /** Where it points (as written in the link). */
  readonly target: string;
}

const MAX_ENTRIES = 200_000;

/**
 * Checks that no folder on the way from the project to the package is a
 * link, and that no symlink inside the package points outside it. npm never
 * extracts links from registry tarballs, so a link here came from elsewhere
 * (a tampered tree, a git or folder dependency) and is reported, not
 * followed. Nested `node_modules` folders are other packages, checked on
 * their own. Synchronous: it is thousands of tiny system calls, which the
 * thread pool would only slow down. `checkedFolders` caches shared parents.
 */
export function linkProblemsOf(projectDir: string, location: string, checkedFolders: Set<string>): LinkProblem[] {
  const segments = location.split("/");
  for (let i = 1; i <= segments.length; i++) {
    const folder = segments.slice(0, i).join("/");
    if (checkedFolders.has(folder)) continue;
    const stat = lstatSync(path.join(projectDir, folder), { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) {
      return [{ location, kind: "folder-is-link", path: folder, target: readlinkSync(path.join(projectDir, folder)) }];
    }
    checkedFolders.add(folder);
  }
  const dir = path.join(projectDir, location);
  const problems: LinkProblem[] = [];
  const pending = [dir];
  let seen = 0;
  while (pending.length > 0) {
    const folder = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      continue;
    }
    seen += entries.length;
    if (seen > MAX_ENTRIES) return [{ location, kind: "too-many-files", path: location, target: `more than ${MAX_ENTRIES} entries` }];
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") pending.push(full);
      } else if (entry.isSymbolicLink()) {
        const target = readlinkSync(full);
        if (insideFolder(dir, path.resolve(folder, target)) === undefined) {
          problems.push({ location, kind: "link-outside", path: path.relative(projectDir, full).split(path.sep).join("/"), target });
        }
      }
    }
  }
  return problems;
}
