import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ConfigError } from "../errors.js";
import { SandboxNotFoundError } from "./errors.js";
import { checkName } from "./options.js";

const run = promisify(execFile);

/** A named, read-only image of a sandbox's home folder. */
export interface SnapshotInfo {
  name: string;
  createdAt: Date;
  /** Bytes of file data in the image. */
  sizeBytes: number;
  /** The sandbox it was taken from. */
  fromSandbox: string | undefined;
}

/** A named folder that outlives sandboxes; mount it with `volumes: { "/data": name }`. */
export interface VolumeInfo {
  name: string;
  createdAt: Date;
  sizeBytes: number;
}

/** Where sandboxes, snapshots and volumes live on the host. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CORDON_DATA_DIR) return path.resolve(env.CORDON_DATA_DIR);
  if (env.XDG_DATA_HOME) return path.join(path.resolve(env.XDG_DATA_HOME), "cordon");
  return path.join(os.homedir(), ".local", "share", "cordon");
}

/**
 * The SDK's on-disk state: one folder per live sandbox (named after the
 * process that owns it, so a dead owner's leftovers are recognised and
 * removed), plus snapshots and volumes. Every name used as a path component
 * has passed checkName(), so none can climb out with "..".
 */
export class SandboxStore {
  readonly root: string;

  constructor(root: string = defaultDataDir()) {
    this.root = root;
  }

  get sandboxesDir(): string { return path.join(this.root, "sandboxes"); }
  get snapshotsDir(): string { return path.join(this.root, "snapshots"); }
  get volumesDir(): string { return path.join(this.root, "volumes"); }

  /** Creates the folder of a new sandbox owned by this process. */
  createSandboxDir(id: string): string {
    fs.mkdirSync(this.sandboxesDir, { recursive: true, mode: 0o700 });
    const dir = path.join(this.sandboxesDir, `${process.pid}-${processStartTime(process.pid) ?? 0}-${id}`);
    fs.mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  /**
   * Removes the folders of sandboxes whose owning process is gone (killed
   * with kill -9, or crashed): bubblewrap's --die-with-parent already ended
   * their processes; this removes what they left on disk.
   */
  async removeStaleSandboxes(): Promise<number> {
    let names: string[];
    try {
      names = fs.readdirSync(this.sandboxesDir);
    } catch {
      return 0;
    }
    const alive = new Map<string, boolean>();
    let removed = 0;
    for (const name of names) {
      const match = /^(\d+)-(\d+)-[0-9a-f]+$/.exec(name);
      if (!match) continue;
      const owner = `${match[1]}-${match[2]}`;
      if (!alive.has(owner)) alive.set(owner, String(processStartTime(Number(match[1])) ?? "") === match[2]);
      if (alive.get(owner)) continue;
      await removeTree(path.join(this.sandboxesDir, name));
      removed += 1;
    }
    return removed;
  }

  snapshotDir(name: string): string {
    return path.join(this.snapshotsDir, checkName("snapshot", name, "snapshot"));
  }

  /** The image folder of an existing snapshot, or a not-found error that lists what exists. */
  requireSnapshot(name: string, input = "root"): string {
    const dir = this.snapshotDir(name);
    if (!isRealDir(path.join(dir, "home"))) {
      throw new SandboxNotFoundError(`${input}: there is no snapshot named "${name}".`, {
        input,
        hint: hintList("snapshots", this.listNames(this.snapshotsDir), "Take one with `await sandbox.snapshot(\"name\")`."),
      });
    }
    return path.join(dir, "home");
  }

  requireVolume(name: string, input: string): string {
    const dir = path.join(this.volumesDir, checkName("volume", name, input), "data");
    if (!isRealDir(dir)) {
      throw new SandboxNotFoundError(`${input}: there is no volume named "${name}".`, {
        input,
        hint: hintList("volumes", this.listNames(this.volumesDir), "Create it first with `await Volume.create({ slug: \"name\" })`."),
      });
    }
    return dir;
  }

  createVolume(name: string): VolumeInfo {
    const dir = path.join(this.volumesDir, checkName("volume", name, "volume"));
    fs.mkdirSync(this.volumesDir, { recursive: true, mode: 0o700 });
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new ConfigError(`volume: "${name}" already exists.`, { input: "volume", hint: "Use it as is, or delete it first with `cordon volume rm " + name + "`." });
      }
      throw error;
    }
    fs.mkdirSync(path.join(dir, "data"), { mode: 0o755 });
    const createdAt = new Date();
    fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ createdAt: createdAt.toISOString() }));
    return { name, createdAt, sizeBytes: 0 };
  }

  async listVolumes(): Promise<VolumeInfo[]> {
    return Promise.all(this.listNames(this.volumesDir).map(async (name) => {
      const dir = path.join(this.volumesDir, name);
      return { name, createdAt: readMeta(dir).createdAt, sizeBytes: await diskUsage(path.join(dir, "data")) };
    }));
  }

  async listSnapshots(): Promise<SnapshotInfo[]> {
    return Promise.all(this.listNames(this.snapshotsDir).map(async (name) => {
      const dir = path.join(this.snapshotsDir, name);
      const meta = readMeta(dir);
      return { name, createdAt: meta.createdAt, fromSandbox: meta.fromSandbox, sizeBytes: await diskUsage(path.join(dir, "home")) };
    }));
  }

  async deleteVolume(name: string): Promise<void> {
    this.requireVolume(name, "volume");
    await removeTree(path.join(this.volumesDir, name));
  }

  async deleteSnapshot(name: string): Promise<void> {
    this.requireSnapshot(name, "snapshot");
    await removeTree(path.join(this.snapshotsDir, name));
  }

  /**
   * Publishes a finished image folder as snapshot `name`: written under a
   * temporary name and renamed, so a half-copied snapshot is never visible.
   */
  publishSnapshot(name: string, staged: string, fromSandbox: string): SnapshotInfo {
    const dir = this.snapshotDir(name);
    const createdAt = new Date();
    fs.writeFileSync(path.join(staged, "meta.json"), JSON.stringify({ createdAt: createdAt.toISOString(), fromSandbox }));
    try {
      fs.renameSync(staged, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST" || code === "ENOTEMPTY") {
        throw new ConfigError(`snapshot: "${name}" already exists.`, { input: "snapshot", hint: `Pick another name, or delete it with \`cordon snapshot rm ${name}\`.` });
      }
      throw error;
    }
    return { name, createdAt, sizeBytes: 0, fromSandbox };
  }

  stagingDir(): string {
    fs.mkdirSync(this.snapshotsDir, { recursive: true, mode: 0o700 });
    const dir = path.join(this.snapshotsDir, `.staging-${randomBytes(6).toString("hex")}`);
    fs.mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  private listNames(dir: string): string[] {
    try {
      return fs.readdirSync(dir).filter((name) => !name.startsWith(".")).sort();
    } catch {
      return [];
    }
  }
}

function hintList(kind: string, names: string[], otherwise: string): string {
  return names.length > 0 ? `Existing ${kind}: ${names.join(", ")}.` : `There are no ${kind} yet. ${otherwise}`;
}

function isRealDir(dir: string): boolean {
  try {
    return fs.lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function readMeta(dir: string): { createdAt: Date; fromSandbox: string | undefined } {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8")) as { createdAt?: string; fromSandbox?: string };
    return { createdAt: new Date(meta.createdAt ?? 0), fromSandbox: meta.fromSandbox };
  } catch {
    return { createdAt: new Date(0), fromSandbox: undefined };
  }
}

async function diskUsage(dir: string): Promise<number> {
  try {
    const { stdout } = await run("du", ["-sbP", "--", dir]);
    return Number(stdout.split("\t")[0]) || 0;
  } catch {
    return 0;
  }
}

/** The kernel's start time of a process (clock ticks since boot), which tells a reused PID apart. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/**
 * Removes a folder written by a sandbox. fs.rm never follows symlinks; an
 * overlay's work folder is left mode 000 by the kernel, so permissions are
 * opened first (chmod -R does not follow symlinks either).
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    await fs.promises.rm(dir, { recursive: true, force: true });
  } catch {
    await run("chmod", ["-R", "u+rwx", "--", dir]).catch(() => undefined);
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
