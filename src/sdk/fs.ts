import { fileURLToPath } from "node:url";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import type { ChildProcess } from "./child-process.js";
import { SANDBOX_HOME } from "../engine/plan.js";
import { fsErrorFrom } from "./fs-errors.js";
import { globToRegExp, globBase } from "./glob.js";
import { FsFile, type OpenOptions } from "./fs-file.js";
import { hostTool } from "../host/tools.js";

export interface FileInfo {
  isFile: boolean; isDirectory: boolean; isSymlink: boolean;
  size: number; mtime: Date; atime: Date; birthtime: Date; ctime: Date;
  dev: number; ino: number; mode: number; nlink: number; uid: number; gid: number; rdev: number;
  blksize: number; blocks: number;
  isBlockDevice: boolean; isCharDevice: boolean; isFifo: boolean; isSocket: boolean;
}
export interface DirEntry { name: string; isFile: boolean; isDirectory: boolean; isSymlink: boolean }
export interface WalkEntry extends DirEntry { path: string }
export interface WriteFileOptions { append?: boolean; create?: boolean; createNew?: boolean; mode?: number; signal?: AbortSignal }
export interface ReadFileOptions { signal?: AbortSignal }
export interface MkdirOptions { recursive?: boolean; mode?: number }
export interface RemoveOptions { recursive?: boolean }
export interface WalkOptions {
  maxDepth?: number; includeFiles?: boolean; includeDirs?: boolean; includeSymlinks?: boolean;
  followSymlinks?: boolean; exts?: string[]; match?: RegExp[]; skip?: RegExp[];
}
export interface ExpandGlobOptions { root?: string; exclude?: string[]; includeDirs?: boolean; caseInsensitive?: boolean; followSymlinks?: boolean }
export interface TempOptions { dir?: string; prefix?: string; suffix?: string }

export type Spawner = (command: string, options: {
  args: string[]; env?: Record<string, string>; stdin: "piped" | "null"; stdout: "piped"; stderr: "piped";
}) => Promise<ChildProcess>;

export interface ToolResult { code: number; stdout: Uint8Array; stderr: string }

const STAT_FORMAT = "%f %s %.9X %.9Y %.9Z %.9W %d %i %h %u %g %t %T %B %b %o";

/**
 * `sandbox.fs`, the Deno-style file API. Every operation runs inside the
 * sandbox as a small coreutils command started by the agent, so it sees
 * exactly what the sandbox's processes see, with their permissions, and a
 * symlink planted inside (say to /home/you/.ssh) resolves inside the
 * sandbox's own root: the host's files are never opened on its behalf.
 * The one operation that writes on the host, download(), creates only
 * regular files and folders there and never follows or creates links.
 */
export class SandboxFs {
  readonly #spawn: Spawner;

  /** @internal */
  constructor(spawn: Spawner) {
    this.#spawn = spawn;
  }

  /** @internal Runs one tool inside; stdin from `input` when given. */
  async tool(command: string, args: string[], input?: Uint8Array | ReadableStream<Uint8Array>): Promise<ToolResult> {
    const child = await this.#spawn(command, { args, env: { LC_ALL: "C" }, stdin: input ? "piped" : "null", stdout: "piped", stderr: "piped" });
    const feeding = input && child.stdin ? feed(child.stdin, input) : Promise.resolve();
    const [output] = await Promise.all([child.output(), feeding.catch(() => undefined)]);
    return { code: output.status.code, stdout: output.stdout ?? new Uint8Array(), stderr: output.stderrText ?? "" };
  }

  async #must(operation: string, target: string, command: string, args: string[], input?: Uint8Array | ReadableStream<Uint8Array>): Promise<ToolResult> {
    const result = await this.tool(command, args, input);
    if (result.code !== 0) throw fsErrorFrom(operation, target, result.stderr);
    return result;
  }

  async #script(operation: string, target: string, script: string, args: string[], input?: Uint8Array | ReadableStream<Uint8Array>): Promise<ToolResult> {
    return this.#must(operation, target, "/bin/sh", ["-c", script, "sh", ...args], input);
  }

  async readFile(file: string | URL, options: ReadFileOptions = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted();
    const target = inside(file);
    return (await this.#must("readFile", target, "cat", ["--", target])).stdout;
  }

  async readTextFile(file: string | URL, options: ReadFileOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.readFile(file, options));
  }

  async writeFile(file: string | URL, data: Uint8Array | ReadableStream<Uint8Array>, options: WriteFileOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const target = inside(file);
    const create = options.create ?? true;
    const lines = [
      options.createNew ? "set -C" : "",
      !create ? '[ -e "$1" ] || { echo "$1: No such file or directory" >&2; exit 1; }' : "",
      options.append ? 'cat >> "$1"' : 'cat > "$1"',
      options.mode !== undefined ? `chmod ${modeText(options.mode)} -- "$1"` : "",
    ].filter(Boolean);
    await this.#script("writeFile", target, lines.join(" && "), [target], data);
  }

  async writeTextFile(file: string | URL, data: string | ReadableStream<string>, options: WriteFileOptions = {}): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data.pipeThrough(new TextEncoderStream());
    await this.writeFile(file, bytes, options);
  }

  async *readDir(dir: string | URL): AsyncIterable<DirEntry> {
    const target = inside(dir);
    const { stdout } = await this.#script("readDir", target, '[ -d "$1" ] || { [ -e "$1" ] && echo "$1: Not a directory" >&2 || echo "$1: No such file or directory" >&2; exit 1; }; find "$1" -mindepth 1 -maxdepth 1 -printf "%y %f\\0"', [target]);
    for (const record of splitNul(stdout)) {
      const kind = record[0];
      yield { name: record.slice(2), isFile: kind === "f", isDirectory: kind === "d", isSymlink: kind === "l" };
    }
  }

  async remove(file: string | URL, options: RemoveOptions = {}): Promise<void> {
    const target = inside(file);
    await this.#must("remove", target, "rm", [options.recursive ? "-r" : "-d", "--", target]);
  }

  async mkdir(dir: string | URL, options: MkdirOptions = {}): Promise<void> {
    const target = inside(dir);
    const args = [...(options.recursive ? ["-p"] : []), ...(options.mode !== undefined ? ["-m", modeText(options.mode)] : []), "--", target];
    await this.#must("mkdir", target, "mkdir", args);
  }

  async rename(oldPath: string | URL, newPath: string | URL): Promise<void> {
    const from = inside(oldPath);
    await this.#must("rename", from, "mv", ["-T", "--", from, inside(newPath)]);
  }

  async stat(file: string | URL): Promise<FileInfo> {
    const target = inside(file);
    return parseStat((await this.#must("stat", target, "stat", ["-L", "-c", STAT_FORMAT, "--", target])).stdout);
  }

  async lstat(file: string | URL): Promise<FileInfo> {
    const target = inside(file);
    return parseStat((await this.#must("lstat", target, "stat", ["-c", STAT_FORMAT, "--", target])).stdout);
  }

  async chmod(file: string | URL, mode: number): Promise<void> {
    const target = inside(file);
    await this.#must("chmod", target, "chmod", [modeText(mode), "--", target]);
  }

  async chown(file: string | URL, uid: number | null, gid: number | null): Promise<void> {
    const target = inside(file);
    const owner = `${uid ?? ""}${gid === null ? "" : `:${gid}`}`;
    if (owner === "") return;
    await this.#must("chown", target, "chown", [owner, "--", target]);
  }

  async copyFile(fromPath: string | URL, toPath: string | URL): Promise<void> {
    const from = inside(fromPath);
    await this.#must("copyFile", from, "cp", ["-T", "--", from, inside(toPath)]);
  }

  async symlink(target: string | URL, linkPath: string | URL, _options?: { type?: "file" | "dir" | "junction" }): Promise<void> {
    const link = inside(linkPath);
    await this.#must("symlink", link, "ln", ["-s", "-T", "--", String(target instanceof URL ? target.pathname : target), link]);
  }

  async link(target: string | URL, linkPath: string | URL): Promise<void> {
    const link = inside(linkPath);
    await this.#must("link", link, "ln", ["-T", "--", inside(target), link]);
  }

  async readLink(file: string | URL): Promise<string> {
    const target = inside(file);
    const result = await this.tool("readlink", ["--", target]);
    if (result.code !== 0) {
      const exists = await this.tool("test", ["-e", target, "-o", "-L", target]);
      throw fsErrorFrom("readLink", target, exists.code === 0 ? "Invalid argument" : "No such file or directory");
    }
    return chomp(result.stdout);
  }

  async realPath(file: string | URL): Promise<string> {
    const target = inside(file);
    return chomp((await this.#must("realPath", target, "realpath", ["-e", "--", target])).stdout);
  }

  async truncate(file: string | URL, length = 0): Promise<void> {
    const target = inside(file);
    await this.#script("truncate", target, '[ -e "$1" ] || { echo "$1: No such file or directory" >&2; exit 1; }; truncate -s "$2" -- "$1"', [target, String(Math.max(0, Math.floor(length)))]);
  }

  async umask(_mask?: number): Promise<number> {
    return 0o022;
  }

  async utime(file: string | URL, atime: number | Date, mtime: number | Date): Promise<void> {
    const target = inside(file);
    const seconds = (t: number | Date): string => `@${t instanceof Date ? t.getTime() / 1000 : t}`;
    await this.#script("utime", target, 'touch -a -d "$2" -- "$1" && touch -m -d "$3" -- "$1"', [target, seconds(atime), seconds(mtime)]);
  }

  async makeTempDir(options: TempOptions = {}): Promise<string> {
    return this.#makeTemp(true, options);
  }

  async makeTempFile(options: TempOptions = {}): Promise<string> {
    return this.#makeTemp(false, options);
  }

  async #makeTemp(directory: boolean, options: TempOptions): Promise<string> {
    const dir = options.dir === undefined ? "/tmp" : inside(options.dir);
    const template = `${options.prefix ?? ""}XXXXXXXXXX`;
    if (template.includes("/") || (options.suffix ?? "").includes("/")) throw fsErrorFrom("makeTemp", dir, "Invalid argument");
    const args = [...(directory ? ["-d"] : []), `--tmpdir=${dir}`, `--suffix=${options.suffix ?? ""}`, "--", template];
    return chomp((await this.#must("makeTemp", dir, "mktemp", args)).stdout);
  }

  async open(file: string | URL, options: OpenOptions = { read: true }): Promise<FsFile> {
    const target = inside(file);
    const lines = [
      options.createNew ? 'set -C; : > "$1"' : "",
      options.create && !options.createNew ? '[ -e "$1" ] || : > "$1"' : "",
      options.truncate ? ': > "$1"' : "",
      '[ -f "$1" ] || { [ -e "$1" ] && echo "$1: Is a directory" >&2 || echo "$1: No such file or directory" >&2; exit 1; }',
      options.mode !== undefined && (options.create || options.createNew) ? `chmod ${modeText(options.mode)} -- "$1"` : "",
    ].filter(Boolean);
    await this.#script("open", target, lines.join(" && "), [target]);
    return new FsFile(this, target, options);
  }

  async create(file: string | URL): Promise<FsFile> {
    return this.open(file, { read: true, write: true, create: true, truncate: true });
  }

  async *walk(root: string, options: WalkOptions = {}): AsyncIterableIterator<WalkEntry> {
    const target = inside(root);
    const depth = options.maxDepth === undefined || options.maxDepth === Infinity ? [] : ["-maxdepth", String(Math.max(0, options.maxDepth))];
    const follow = options.followSymlinks ? ["-L"] : [];
    const { stdout } = await this.#must("walk", target, "find", [...follow, target, ...depth, "-printf", "%y %p\\0"]);
    for (const record of splitNul(stdout)) {
      const kind = record[0];
      const entryPath = record.slice(2);
      const entry: WalkEntry = { path: entryPath, name: path.posix.basename(entryPath), isFile: kind === "f", isDirectory: kind === "d", isSymlink: kind === "l" };
      if (entry.isFile && options.includeFiles === false) continue;
      if (entry.isDirectory && options.includeDirs === false) continue;
      if (entry.isSymlink && options.includeSymlinks === false) continue;
      if (options.exts && !entry.isDirectory && !options.exts.some((ext) => entryPath.endsWith(ext.startsWith(".") ? ext : `.${ext}`))) continue;
      if (options.match && !options.match.some((re) => re.test(entryPath))) continue;
      if (options.skip?.some((re) => re.test(entryPath))) continue;
      yield entry;
    }
  }

  async *expandGlob(glob: string, options: ExpandGlobOptions = {}): AsyncIterableIterator<WalkEntry> {
    const root = inside(options.root ?? SANDBOX_HOME);
    const absolute = glob.startsWith("/") ? glob : path.posix.join(root, glob);
    const pattern = globToRegExp(absolute, options.caseInsensitive ?? false);
    const excludes = (options.exclude ?? []).map((e) => globToRegExp(e.startsWith("/") ? e : path.posix.join(root, e), options.caseInsensitive ?? false));
    const base = globBase(absolute);
    try {
      for await (const entry of this.walk(base, { followSymlinks: options.followSymlinks ?? false })) {
        if (!pattern.test(entry.path) || excludes.some((re) => re.test(entry.path))) continue;
        if (entry.isDirectory && options.includeDirs === false) continue;
        yield entry;
      }
    } catch (error) {
      if ((error as { errno?: string }).errno !== "ENOENT") throw error;
    }
  }

  /** Copies a host file or folder into the sandbox (folders through tar, unpacked inside). */
  async upload(localPath: string | URL, sandboxPath: string | URL): Promise<void> {
    const local = localPath instanceof URL ? fileURLToPath(localPath) : path.resolve(localPath);
    const target = inside(sandboxPath);
    const stat = await fs.promises.stat(local);
    if (stat.isDirectory()) {
      const { spawn } = await import("node:child_process");
      const tar = spawn(hostTool("tar", "tar"), ["-c", "-C", local, "."], { stdio: ["ignore", "pipe", "ignore"] });
      const stream = Readable.toWeb(tar.stdout) as ReadableStream<Uint8Array>;
      await this.#script("upload", target, 'mkdir -p -- "$1" && tar -x --no-same-owner --no-same-permissions -C "$1"', [target], stream);
      return;
    }
    await this.writeFile(target, Readable.toWeb(fs.createReadStream(local)) as ReadableStream<Uint8Array>);
  }

  /**
   * Copies a sandbox file or folder to the host. Only regular files and
   * folders are created; symlinks, devices and FIFOs inside are skipped, so
   * nothing the sandbox planted can redirect a write on the host.
   */
  async download(sandboxPath: string | URL, localPath: string | URL): Promise<void> {
    const source = inside(sandboxPath);
    const local = localPath instanceof URL ? fileURLToPath(localPath) : path.resolve(localPath);
    const info = await this.lstat(source);
    if (info.isFile) {
      await writeHostFile(local, await this.readFile(source));
      return;
    }
    if (!info.isDirectory) return;
    await fs.promises.mkdir(local, { recursive: true });
    for await (const entry of this.readDir(source)) {
      if (entry.name === "." || entry.name === ".." || entry.name.includes("/")) continue;
      if (entry.isDirectory || entry.isFile) await this.download(path.posix.join(source, entry.name), path.join(local, entry.name));
    }
  }
}

/** A sandbox path: absolute, or relative to /home/sandbox. */
export function inside(file: string | URL): string {
  const text = file instanceof URL ? file.pathname : String(file);
  if (text === "" || text.includes("\0")) throw new TypeError(`"${text}" is not a path.`);
  return path.posix.resolve(SANDBOX_HOME, text);
}

async function writeHostFile(local: string, data: Uint8Array): Promise<void> {
  // Replace rather than write through: if `local` is a symlink, the link is replaced, not its target.
  const temp = `${local}.cordon-${process.pid}-${Date.now()}`;
  await fs.promises.writeFile(temp, data, { flag: "wx", mode: 0o644 });
  await fs.promises.rename(temp, local);
}

async function feed(stdin: WritableStream<Uint8Array>, input: Uint8Array | ReadableStream<Uint8Array>): Promise<void> {
  if (input instanceof Uint8Array) {
    const writer = stdin.getWriter();
    await writer.write(input);
    await writer.close();
  } else {
    await input.pipeTo(stdin);
  }
}

function parseStat(stdout: Uint8Array): FileInfo {
  const f = new TextDecoder().decode(stdout).trim().split(" ");
  const num = (i: number): number => Number(f[i]);
  const date = (i: number): Date => new Date(Math.round(num(i) * 1000));
  const rawMode = parseInt(f[0] ?? "0", 16);
  const type = rawMode & 0o170000;
  return {
    isFile: type === 0o100000, isDirectory: type === 0o040000, isSymlink: type === 0o120000,
    size: num(1), atime: date(2), mtime: date(3), ctime: date(4), birthtime: date(5),
    dev: num(6), ino: num(7), mode: rawMode, nlink: num(8), uid: num(9), gid: num(10),
    rdev: parseInt(f[11] ?? "0", 16) * 256 + parseInt(f[12] ?? "0", 16),
    blksize: num(15), blocks: Math.ceil((num(14) * num(13)) / 512),
    isBlockDevice: type === 0o060000, isCharDevice: type === 0o020000, isFifo: type === 0o010000, isSocket: type === 0o140000,
  };
}

function modeText(mode: number): string {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new TypeError(`${mode} is not a file mode (0 to 0o7777).`);
  return mode.toString(8);
}

function splitNul(bytes: Uint8Array): string[] {
  return Buffer.from(bytes).toString("utf8").split("\0").filter((r) => r.length > 2);
}

function chomp(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("utf8").replace(/\n$/, "");
}
