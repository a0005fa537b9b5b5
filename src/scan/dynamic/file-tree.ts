import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { HoneyFile } from "./honeytokens.js";

/** One entry of a folder as it was at a moment: kind and a content signature, links never followed. */
export interface TreeEntry {
  kind: "file" | "dir" | "link" | "other";
  /** For files: size and SHA-256 (size and mtime past HASH_LIMIT); for links: the target. */
  signature: string;
}

export interface TreeSnapshot {
  entries: Map<string, TreeEntry>;
  /** True when the walk stopped at MAX_ENTRIES: a diff is then not the whole story. */
  truncated: boolean;
}

export interface TreeChange {
  /** Relative to the snapshot's root, forward slashes. */
  path: string;
  change: "created" | "changed" | "deleted";
  kind: TreeEntry["kind"];
}

const MAX_ENTRIES = 20_000;
const HASH_LIMIT = 4 * 1024 ** 2;
/** Folders a package may fill while installing without it meaning anything (npm's and node-gyp's caches). */
const NOISE = [".npm/", ".cache/", ".node-gyp/", ".local/share/pnpm/", ".yarn/"];

/** Writes the planted files under `root` (a fresh folder cordon owns), creating their folders. */
export function writeHoneyFiles(root: string, files: readonly HoneyFile[]): void {
  for (const file of files) {
    const target = path.join(root, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    fs.writeFileSync(target, file.content, { mode: file.mode, flag: "wx" });
  }
}

/** Lists `root` without following links, bounded, with a signature per entry. */
export function snapshotTree(root: string): TreeSnapshot {
  const entries = new Map<string, TreeEntry>();
  let truncated = false;
  const stack = [""];
  while (stack.length > 0) {
    const relative = stack.pop() as string;
    let list: fs.Dirent[];
    try {
      list = fs.readdirSync(path.join(root, relative), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of list) {
      if (entries.size >= MAX_ENTRIES) {
        truncated = true;
        return { entries, truncated };
      }
      const rel = relative === "" ? entry.name : `${relative}/${entry.name}`;
      const full = path.join(root, rel);
      if (entry.isDirectory()) {
        entries.set(rel, { kind: "dir", signature: "" });
        stack.push(rel);
      } else if (entry.isSymbolicLink()) {
        entries.set(rel, { kind: "link", signature: safe(() => fs.readlinkSync(full)) ?? "" });
      } else if (entry.isFile()) {
        entries.set(rel, { kind: "file", signature: fileSignature(full) });
      } else {
        entries.set(rel, { kind: "other", signature: "" });
      }
    }
  }
  return { entries, truncated };
}

/** What changed between two snapshots of one folder, cache folders left out. */
export function diffTrees(before: TreeSnapshot, after: TreeSnapshot): TreeChange[] {
  const changes: TreeChange[] = [];
  for (const [rel, entry] of after.entries) {
    const old = before.entries.get(rel);
    if (!old) changes.push({ path: rel, change: "created", kind: entry.kind });
    else if (old.kind !== entry.kind || old.signature !== entry.signature) changes.push({ path: rel, change: "changed", kind: entry.kind });
  }
  for (const [rel, entry] of before.entries) {
    if (!after.entries.has(rel)) changes.push({ path: rel, change: "deleted", kind: entry.kind });
  }
  return changes.filter((c) => !NOISE.some((prefix) => `${c.path}/`.startsWith(prefix))).sort((a, b) => a.path.localeCompare(b.path));
}

function fileSignature(full: string): string {
  const info = safe(() => fs.lstatSync(full));
  if (!info) return "";
  if (info.size > HASH_LIMIT) return `${info.size}:${info.mtimeMs}:${info.mode}`;
  // O_NOFOLLOW: the entry was a file a moment ago; a link swapped in since is not read through.
  const content = safe(() => {
    const fd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      return fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
  return `${info.size}:${info.mode}:${content ? createHash("sha256").update(content).digest("hex") : "unreadable"}`;
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
