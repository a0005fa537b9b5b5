import { createHash } from "node:crypto";
import { walkPackageFolder, type ItemKind } from "./folder-walk.js";

export type { ItemKind };

interface Item {
  readonly kind: ItemKind;
  /** Permission bits only (never setuid, setgid or sticky). */
  readonly mode: number;
  readonly size: bigint;
  /** Inode and change time: a write, a replacement or a chmod changes them, and no program can set them back. */
  readonly identity: string;
  readonly target: string | undefined;
}

/**
 * What a package folder holds (nested `node_modules` excepted: those are
 * other packages), by POSIX relative path, and a digest of its shape: every
 * path with its type, permission bits, size and link target, but no times,
 * so the same tarball extracted twice gives the same digest.
 */
export interface FolderSnapshot {
  readonly items: ReadonlyMap<string, Item>;
  readonly shape: string;
}

/** What install scripts changed in a folder: what to remove, then what to create, in that order. */
export interface FolderChanges {
  /** Deepest first: files, links and emptied folders the scripts removed or replaced by another type. */
  readonly removed: readonly string[];
  /** Shallowest first: folders created, or whose permission bits changed. */
  readonly dirs: readonly { path: string; mode: number }[];
  readonly files: readonly { path: string; mode: number; size: number }[];
  readonly links: readonly { path: string; target: string }[];
}

/** Undefined when the folder is missing or larger than any package should be. */
export function snapshotFolder(dir: string): FolderSnapshot | undefined {
  const items = new Map<string, Item>();
  const shape = createHash("sha256");
  const complete = walkPackageFolder(dir, ({ name, kind, stat, target }) => {
    const mode = Number(stat.mode & 0o777n);
    const size = kind === "file" ? stat.size : 0n;
    items.set(name, { kind, mode, size, identity: `${stat.dev}:${stat.ino}:${stat.ctimeNs}`, target });
    shape.update(`${kind}\0${name}\0${mode}\0${size}\0${target ?? ""}\0`);
  });
  return complete ? { items, shape: `sha256-${shape.digest("base64")}` } : undefined;
}

/**
 * What changed between two snapshots of one folder. A file counts as
 * changed when its inode, change time, size or mode differ: rewriting it
 * in place or replacing it always changes one of them.
 */
export function folderChanges(before: FolderSnapshot, after: FolderSnapshot): FolderChanges {
  const removed: string[] = [];
  for (const [name, item] of before.items) {
    const now = after.items.get(name);
    if (now === undefined || now.kind !== item.kind || (item.kind === "link" && now.target !== item.target)) removed.push(name);
  }
  const dirs: { path: string; mode: number }[] = [];
  const files: { path: string; mode: number; size: number }[] = [];
  const links: { path: string; target: string }[] = [];
  for (const [name, item] of after.items) {
    const was = before.items.get(name);
    const same = was !== undefined && was.kind === item.kind;
    if (item.kind === "dir" && !(same && was.mode === item.mode)) dirs.push({ path: name, mode: item.mode });
    if (item.kind === "file" && !(same && was.identity === item.identity && was.size === item.size && was.mode === item.mode)) {
      files.push({ path: name, mode: item.mode, size: Number(item.size) });
    }
    if (item.kind === "link" && !(same && was.target === item.target)) links.push({ path: name, target: item.target! });
  }
  return {
    removed: removed.sort(byDepth).reverse(),
    dirs: dirs.sort((a, b) => byDepth(a.path, b.path)),
    files: files.sort((a, b) => byDepth(a.path, b.path)),
    links: links.sort((a, b) => byDepth(a.path, b.path)),
  };
}

/** Things a snapshot holds that no cache entry may: devices, sockets, pipes. */
export function otherItems(snapshot: FolderSnapshot): string[] {
  return [...snapshot.items].filter(([, item]) => item.kind === "other").map(([name]) => name);
}

function byDepth(a: string, b: string): number {
  const depth = a.split("/").length - b.split("/").length;
  return depth !== 0 ? depth : a < b ? -1 : a > b ? 1 : 0;
}
