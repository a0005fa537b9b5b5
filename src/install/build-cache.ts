import { createHash, randomBytes } from "node:crypto";
import { constants, createReadStream, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PROTECTED_NAMES } from "../engine/persistence.js";
import { writeFileAtomic } from "./atomic-write.js";
import { isRecord, own, readBounded } from "./bounded-read.js";
import { BUILD_CACHE_FORMAT } from "./build-key.js";
import { folderChanges, otherItems, snapshotFolder, type FolderChanges, type FolderSnapshot } from "./folder-changes.js";

/** Whose build an entry holds: checked again when it is restored. */
export interface BuildOwner {
  readonly key: string;
  readonly name: string;
  readonly integrity: string;
}

interface Entry extends FolderChanges {
  readonly format: string;
  readonly key: string;
  readonly name: string;
  readonly integrity: string;
  /** The folder's shape (folder-changes.ts) when the scripts started: a restore starts from the same. */
  readonly shape: string;
  readonly files: readonly { path: string; mode: number; size: number; sha256: string }[];
}

export type RestoreResult =
  | { status: "restored"; files: number; bytes: number }
  | { status: "miss" }
  /** Refused before the folder was touched: the package is built as if there were no entry. */
  | { status: "refused"; reason: string }
  /** Failed after the folder was changed: the package must be extracted afresh. */
  | { status: "broken"; reason: string };

export type StoreResult = { status: "stored"; files: number; bytes: number } | { status: "not-stored"; reason: string };

/** A build too large to keep (a package that downloads a browser belongs in a write grant, not here). */
const MAX_ENTRY_BYTES = 1024 ** 3;
const MAX_ENTRY_ITEMS = 100_000;
const ENTRY_FILE_LIMIT = 64 * 1024 ** 2;
const STAGE_PREFIX = ".cordon-restore-";
const HEX64 = /^[0-9a-f]{64}$/;

/** $XDG_CACHE_HOME/cordon/builds, else ~/.cache/cordon/builds. */
export function defaultBuildCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
  return path.join(base, "cordon", "builds");
}

/**
 * What approved install scripts left in their package folders, kept after a
 * sandboxed build and restored instead of building again when every input
 * that decides the build is the same (build-key.ts). Content-addressed: an
 * entry (`entries/<key>-<start>.json`) lists what the scripts removed and created
 * from a folder that started as `<start>`;
 * file contents live once in `objects/<sha256>`. Nothing is ever evicted:
 * remove the folder to reclaim the space.
 *
 * An entry is data a sandboxed, untrusted build produced, so it is read as
 * hostile: it is found only by its own package's key and names that package;
 * it holds only folders, regular files and links that stay inside the
 * package folder, never a nested `node_modules` (another package's folder)
 * nor a file that makes code run later (.git, .envrc, …); it applies only to
 * a folder in the very state its build started from; every file is copied
 * first and checked against its hash before anything in the folder changes.
 *
 * What it does not protect against: someone who can write the cache folder
 * itself can forge an entry for a package (as with npm's own cache). No
 * install sandbox can: cordon turns the cache off for an install in which
 * any sandbox could read or write it.
 */
export class BuildCache {
  readonly dir: string;

  constructor(dir: string = defaultBuildCacheDir()) {
    this.dir = path.resolve(dir);
  }

  /**
   * Restores the entry for `owner` into `packageDir`. Entries are kept per
   * starting shape of the folder: a build applies only to a folder in the
   * state that build started from (a fresh extraction of the same tarball).
   */
  async restore(owner: BuildOwner, packageDir: string): Promise<RestoreResult> {
    const current = snapshotFolder(packageDir);
    if (current === undefined) return { status: "miss" };
    const bytes = await readBounded(this.#entryFile(owner.key, current.shape), ENTRY_FILE_LIMIT).catch(() => undefined);
    if (bytes === undefined) return { status: "miss" };
    const entry = parseEntry(bytes, owner, current.shape);
    if (typeof entry === "string") return { status: "refused", reason: entry };
    const misfit = checkAgainst(entry, current);
    if (misfit !== undefined) return { status: "refused", reason: misfit };
    const stage = await fs.mkdtemp(path.join(packageDir, STAGE_PREFIX));
    try {
      const staged = await this.#stage(entry, stage);
      if (typeof staged === "string") return { status: "refused", reason: staged };
      try {
        await apply(entry, packageDir, stage);
      } catch (error) {
        return { status: "broken", reason: (error as Error).message };
      }
      return { status: "restored", files: entry.files.length, bytes: staged };
    } finally {
      await fs.rm(stage, { recursive: true, force: true });
    }
  }

  /** Keeps what the scripts changed in `packageDir` since `before` was taken, under `owner.key`. */
  async store(owner: BuildOwner, packageDir: string, before: FolderSnapshot): Promise<StoreResult> {
    const after = snapshotFolder(packageDir);
    if (after === undefined) return { status: "not-stored", reason: "the package folder is too large to record" };
    const others = otherItems(after);
    if (others.length > 0) return { status: "not-stored", reason: `it left ${others[0]}, which is not a file, folder or link` };
    const changes = folderChanges(before, after);
    const problem = [...changes.removed, ...changes.dirs.map((d) => d.path), ...changes.files.map((f) => f.path), ...changes.links.map((l) => l.path)]
      .map(pathProblem).find((p) => p !== undefined) ?? changes.links.map(linkProblem).find((p) => p !== undefined);
    if (problem !== undefined) return { status: "not-stored", reason: problem };
    const total = changes.files.reduce((sum, f) => sum + f.size, 0);
    const items = changes.removed.length + changes.dirs.length + changes.files.length + changes.links.length;
    if (total > MAX_ENTRY_BYTES || items > MAX_ENTRY_ITEMS) return { status: "not-stored", reason: `its build is larger than the cache keeps (${items} items, ${total} bytes)` };
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const files: Entry["files"][number][] = [];
    for (const file of changes.files) {
      const stored = await this.#putObject(path.join(packageDir, file.path));
      files.push({ ...file, size: stored.size, sha256: stored.sha256 });
    }
    const entry: Entry = { format: BUILD_CACHE_FORMAT, key: owner.key, name: owner.name, integrity: owner.integrity, shape: before.shape, ...changes, files };
    const file = this.#entryFile(owner.key, before.shape);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, `${JSON.stringify(entry)}\n`);
    return { status: "stored", files: files.length, bytes: total };
  }

  /** Forgets the entries of a key after one could not be used, so the rebuild that follows replaces them. */
  async forget(key: string): Promise<void> {
    if (!HEX64.test(key)) return;
    const dir = path.join(this.dir, "entries", key.slice(0, 2));
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    await Promise.all(names.filter((name) => name.startsWith(`${key}-`)).map((name) => fs.rm(path.join(dir, name), { force: true })));
  }

  /** Copies every file of the entry into the stage and checks each copy's hash; returns the bytes copied, or why not. */
  async #stage(entry: Entry, stage: string): Promise<number | string> {
    let bytes = 0;
    for (const [i, file] of entry.files.entries()) {
      const object = this.#objectFile(file.sha256);
      const stat = await fs.lstat(object).catch(() => undefined);
      if (!stat?.isFile()) return `its copy of ${file.path} is missing`;
      const copy = path.join(stage, String(i));
      // A reflink where the filesystem has them (btrfs, XFS): no data copied.
      await fs.copyFile(object, copy, constants.COPYFILE_FICLONE);
      const got = await sha256OfFile(copy);
      if (got.sha256 !== file.sha256 || got.size !== file.size) return `its copy of ${file.path} does not match its hash (the cache was altered)`;
      bytes += got.size;
    }
    return bytes;
  }

  async #putObject(source: string): Promise<{ sha256: string; size: number }> {
    const temp = path.join(this.dir, "objects", `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
    await fs.mkdir(path.dirname(temp), { recursive: true, mode: 0o700 });
    try {
      await fs.copyFile(source, temp, constants.COPYFILE_FICLONE);
      // The hash is of the copy kept, whatever happens to the source.
      const got = await sha256OfFile(temp);
      const object = this.#objectFile(got.sha256);
      await fs.mkdir(path.dirname(object), { recursive: true, mode: 0o700 });
      await fs.rename(temp, object);
      return got;
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  #entryFile(key: string, shape: string): string {
    const shapeHex = createHash("sha256").update(shape).digest("hex").slice(0, 16);
    return path.join(this.dir, "entries", key.slice(0, 2), `${key}-${shapeHex}.json`);
  }

  #objectFile(sha256: string): string {
    return path.join(this.dir, "objects", sha256.slice(0, 2), sha256);
  }
}

function parseEntry(bytes: Buffer, owner: BuildOwner, shape: string): Entry | string {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString("utf8"));
  } catch {
    return "its entry is not valid JSON";
  }
  if (!isRecord(data) || own(data, "format") !== BUILD_CACHE_FORMAT) return "its entry is in an unknown format";
  // Found by this package's key, and naming this very package and tarball:
  // an entry copied under another package's key is refused.
  if (own(data, "key") !== owner.key || own(data, "name") !== owner.name || own(data, "integrity") !== owner.integrity) {
    return "its entry belongs to another package or tarball";
  }
  const removed = list(own(data, "removed"), (v): v is string => typeof v === "string");
  const dirs = list(own(data, "dirs"), (v): v is { path: string; mode: number } => isRecord(v) && isPath(v.path) && isMode(v.mode));
  const files = list(own(data, "files"), (v): v is Entry["files"][number] =>
    isRecord(v) && isPath(v.path) && isMode(v.mode) && Number.isSafeInteger(v.size) && (v.size as number) >= 0 && typeof v.sha256 === "string" && HEX64.test(v.sha256));
  const links = list(own(data, "links"), (v): v is { path: string; target: string } => isRecord(v) && isPath(v.path) && typeof v.target === "string");
  if (own(data, "shape") !== shape) return "its entry was made from another starting folder";
  if (!removed || !dirs || !files || !links) return "its entry is malformed";
  if (removed.length + dirs.length + files.length + links.length > MAX_ENTRY_ITEMS) return "its entry is larger than the cache keeps";
  const problem = [...removed, ...dirs.map((d) => d.path), ...files.map((f) => f.path), ...links.map((l) => l.path)]
    .map(pathProblem).find((p) => p !== undefined) ?? links.map(linkProblem).find((p) => p !== undefined);
  if (problem !== undefined) return problem;
  return { format: BUILD_CACHE_FORMAT, key: owner.key, name: owner.name, integrity: owner.integrity, shape, removed, dirs, files, links };
}

function list<T>(value: unknown, is: (v: unknown) => v is T): T[] | undefined {
  return Array.isArray(value) && value.every(is) ? value : undefined;
}

function isPath(value: unknown): value is string {
  return typeof value === "string";
}

function isMode(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0o777;
}

/**
 * A path an entry may name: relative, normalized, never into a nested
 * `node_modules` (another package's folder), never a file that runs code
 * later when someone opens the folder, never cordon's own stage.
 */
function pathProblem(relative: string): string | undefined {
  const segments = relative.split("/");
  if (relative.length > 4096 || relative.includes("\0") || segments.some((s) => s === "" || s === "." || s === "..")) {
    return `it names ${JSON.stringify(relative)}, which is not a path inside the package folder`;
  }
  if (segments.includes("node_modules")) return `it names ${JSON.stringify(relative)}, inside a nested node_modules (another package's folder)`;
  if (segments[0]!.startsWith(STAGE_PREFIX)) return `it names ${JSON.stringify(relative)}, cordon's own staging folder`;
  if (PROTECTED_NAMES.some((name) => relative === name || relative.endsWith(`/${name}`) || relative.startsWith(`${name}/`) || relative.includes(`/${name}/`))) {
    return `it names ${JSON.stringify(relative)}, a file that runs code later when the folder is opened`;
  }
  return undefined;
}

/** A link must point inside the package folder, by a relative path, and not into a nested node_modules. */
function linkProblem(link: { path: string; target: string }): string | undefined {
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(link.path), link.target));
  if (link.target === "" || link.target.includes("\0") || path.posix.isAbsolute(link.target) || resolved === ".." || resolved.startsWith("../") || resolved.split("/").includes("node_modules")) {
    return `it holds the link ${JSON.stringify(link.path)} -> ${JSON.stringify(link.target)}, which leads out of the package folder`;
  }
  return undefined;
}

/**
 * Plays the entry over the folder's current items (which have the entry's
 * starting shape) without touching anything: each removal names something
 * there, each new item's parent is a folder (never a link), nothing lands on
 * something of another type.
 */
function checkAgainst(entry: Entry, current: FolderSnapshot): string | undefined {
  const kinds = new Map([...current.items].map(([name, item]) => [name, item.kind as string]));
  for (const name of entry.removed) {
    if (!kinds.has(name)) return `it removes ${JSON.stringify(name)}, which the fresh package does not hold`;
    kinds.delete(name);
  }
  const parentIsDir = (name: string): boolean => !name.includes("/") || kinds.get(path.posix.dirname(name)) === "dir";
  for (const dir of entry.dirs) {
    if (!parentIsDir(dir.path) || (kinds.has(dir.path) && kinds.get(dir.path) !== "dir")) return `it cannot create the folder ${JSON.stringify(dir.path)} there`;
    kinds.set(dir.path, "dir");
  }
  for (const item of [...entry.files.map((f) => ({ path: f.path, kind: "file" })), ...entry.links.map((l) => ({ path: l.path, kind: "link" }))]) {
    const there = kinds.get(item.path);
    if (!parentIsDir(item.path) || (there !== undefined && (there !== "file" || item.kind !== "file"))) return `it cannot create ${JSON.stringify(item.path)} there`;
    kinds.set(item.path, item.kind);
  }
  return undefined;
}

/** Changes the folder: removals, folders, the checked copies moved into place, links. */
async function apply(entry: Entry, packageDir: string, stage: string): Promise<void> {
  const at = (relative: string): string => path.join(packageDir, ...relative.split("/"));
  for (const name of entry.removed) {
    const stat = await fs.lstat(at(name));
    // rmdir, never a recursive removal: a folder that still holds something (a nested node_modules) stays, and the restore fails.
    if (stat.isDirectory()) await fs.rmdir(at(name));
    else await fs.unlink(at(name));
  }
  for (const dir of entry.dirs) {
    await fs.mkdir(at(dir.path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
    await assertRealFolder(at(dir.path));
    await fs.chmod(at(dir.path), dir.mode);
  }
  for (const [i, file] of entry.files.entries()) {
    await assertRealFolder(path.dirname(at(file.path)));
    await fs.rename(path.join(stage, String(i)), at(file.path));
    await fs.chmod(at(file.path), file.mode);
  }
  for (const link of entry.links) {
    await assertRealFolder(path.dirname(at(link.path)));
    await fs.symlink(link.target, at(link.path));
  }
}

async function assertRealFolder(dir: string): Promise<void> {
  const stat = await fs.lstat(dir);
  if (!stat.isDirectory()) throw new Error(`${dir} is not a folder`);
}

async function sha256OfFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest("hex"), size };
}
