import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ConfigError } from "../errors.js";
import { hostTool } from "../host/tools.js";
import { SandboxNotFoundError } from "./errors.js";
import { checkName, NAME_RULE } from "./options.js";
import { isAlive, readProcStat } from "../engine/proc-stat.js";

const run = promisify(execFile);

/**
 * A named, read-only image of a whole sandbox: one overlay layer (a tree
 * mirroring the sandbox's root: usr/, etc/, opt/, home/sandbox/, ...) on top
 * of its parent snapshot's, if it was taken from a sandbox started from one.
 */
export interface SnapshotInfo {
  name: string;
  id: string;
  createdAt: Date;
  /** Bytes of file data in its own layer. */
  sizeBytes: number;
  /** The sandbox it was taken from. */
  fromSandbox: string | undefined;
  /** The volume it was taken from (Snapshot.create). */
  fromVolume: { id: string; slug: string } | undefined;
  /** The snapshot below it, whose layers it is stacked on. */
  parent: string | undefined;
}

/** A named folder that outlives sandboxes; mount it with `volumes: { "/data": name }`. */
export interface VolumeInfo {
  name: string;
  id: string;
  createdAt: Date;
  sizeBytes: number;
  /** As given to Volume.create (recorded, not enforced: a volume is a host folder). */
  capacityBytes: number | undefined;
  region: string | undefined;
}

/** A running sandbox, as its folder records it. */
export interface SandboxListing {
  id: string;
  createdAt: Date;
  labels: Record<string, string>;
  /** Owned by the sandbox service (Sandbox.connect reaches it); else by process ownerPid. */
  service: boolean;
  ownerPid: number;
}

/** The running sandboxes of a data folder. */
export function listSandboxRecords(dataDir: string): SandboxListing[] {
  return new SandboxStore(dataDir).listSandboxes();
}

/** The top-level folders a snapshot layer holds (the sandbox's writable root, see rootfs.ts). */
export const LAYER_DIRS = ["usr", "etc", "opt", "var", "srv", "mnt", "home"] as const;

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
      // A zombie owner has exited (its parent has not reaped it yet): its sandboxes are gone.
      if (!alive.has(owner)) alive.set(owner, isAlive(Number(match[1]), Number(match[2])));
      if (alive.get(owner)) continue;
      await removeTree(path.join(this.sandboxesDir, name));
      removed += 1;
    }
    return removed;
  }

  /** The sandboxes running now (their owner lives), as their folders record them. */
  listSandboxes(): SandboxListing[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.sandboxesDir);
    } catch {
      return [];
    }
    const out: SandboxListing[] = [];
    for (const name of names) {
      const match = /^(\d+)-(\d+)-[0-9a-f]+$/.exec(name);
      if (!match || !isAlive(Number(match[1]), Number(match[2]))) continue;
      try {
        const record = JSON.parse(fs.readFileSync(path.join(this.sandboxesDir, name, "sandbox.json"), "utf8")) as Record<string, unknown>;
        if (typeof record.id !== "string" || typeof record.createdAt !== "string") continue;
        const labels = typeof record.labels === "object" && record.labels !== null ? record.labels as Record<string, string> : {};
        out.push({ id: record.id, createdAt: new Date(record.createdAt), labels, service: record.service === true, ownerPid: Number(match[1]) });
      } catch { /* starting or ending: not listed */ }
    }
    return out.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  snapshotDir(name: string): string {
    return path.join(this.snapshotsDir, checkName("snapshot", name, "snapshot"));
  }

  /** A snapshot's folder name, given its name or id. */
  snapshotName(nameOrId: string): string {
    return this.#nameOf(this.snapshotsDir, nameOrId);
  }

  /** The layer folder of an existing snapshot (by name or id), or a not-found error that lists what exists. */
  requireSnapshot(nameOrId: string, input = "root"): string {
    const name = this.#nameOf(this.snapshotsDir, nameOrId);
    const dir = this.snapshotDir(name);
    // Snapshots made before the writable root held only the home folder.
    if (isRealDir(path.join(dir, "home")) && !fs.existsSync(path.join(dir, "layer"))) {
      fs.mkdirSync(path.join(dir, "layer", "home"), { recursive: true, mode: 0o755 });
      fs.renameSync(path.join(dir, "home"), path.join(dir, "layer", "home", "sandbox"));
    }
    if (!isRealDir(path.join(dir, "layer"))) {
      throw new SandboxNotFoundError(`${input}: there is no snapshot named "${nameOrId}".`, {
        input,
        hint: hintList("snapshots", this.listNames(this.snapshotsDir), "Take one with `await sandbox.snapshot(\"name\")`."),
      });
    }
    return path.join(dir, "layer");
  }

  /** A snapshot's layers, its own first, then its parent's, and so on down. */
  snapshotLayers(nameOrId: string, input = "root"): string[] {
    const layers: string[] = [];
    let name: string | undefined = nameOrId;
    while (name !== undefined) {
      // A chain longer than overlayfs' 500 lower layers is a loop or a mistake.
      if (layers.length >= 100) throw new ConfigError(`${input}: the snapshot "${nameOrId}" is stacked on more than 100 others.`, { input, hint: "Start a sandbox from it, and take a fresh snapshot from a volume (Snapshot.create) instead." });
      const layer = this.requireSnapshot(name, input);
      layers.push(layer);
      name = readMeta(path.dirname(layer)).parent;
    }
    return layers;
  }

  requireVolume(nameOrId: string, input: string): string {
    const name = this.#nameOf(this.volumesDir, nameOrId);
    const dir = path.join(this.volumesDir, checkName("volume", name, input), "data");
    if (!isRealDir(dir)) {
      throw new SandboxNotFoundError(`${input}: there is no volume named "${name}".`, {
        input,
        hint: hintList("volumes", this.listNames(this.volumesDir), "Create it first with `await Volume.create({ slug: \"name\" })`."),
      });
    }
    return dir;
  }

  createVolume(name: string, init: { capacityBytes?: number; region?: string } = {}): VolumeInfo {
    const dir = path.join(this.volumesDir, checkName("volume", name, "volume"));
    this.#refuseSharedSlug(name, "volume");
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
    const id = `vol-${randomBytes(6).toString("hex")}`;
    fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ id, createdAt: createdAt.toISOString(), capacityBytes: init.capacityBytes, region: init.region }));
    return { name, id, createdAt, sizeBytes: 0, capacityBytes: init.capacityBytes, region: init.region };
  }

  async listVolumes(): Promise<VolumeInfo[]> {
    return Promise.all(this.listNames(this.volumesDir).map(async (name) => {
      const dir = path.join(this.volumesDir, name);
      const meta = readMeta(dir);
      return { name, id: meta.id ?? name, createdAt: meta.createdAt, sizeBytes: await diskUsage(path.join(dir, "data")), capacityBytes: meta.capacityBytes, region: meta.region };
    }));
  }

  async listSnapshots(): Promise<SnapshotInfo[]> {
    return Promise.all(this.listNames(this.snapshotsDir).map(async (name) => {
      const dir = path.join(this.snapshotsDir, name);
      const meta = readMeta(dir);
      return {
        name, id: meta.id ?? name, createdAt: meta.createdAt, fromSandbox: meta.fromSandbox, fromVolume: meta.fromVolume, parent: meta.parent,
        sizeBytes: await diskUsage(path.join(dir, "layer")),
      };
    }));
  }

  async deleteVolume(nameOrId: string): Promise<void> {
    this.requireVolume(nameOrId, "volume");
    await removeTree(path.join(this.volumesDir, this.#nameOf(this.volumesDir, nameOrId)));
  }

  /** Refuses while another snapshot is stacked on this one: it would lose its lower layers. */
  async deleteSnapshot(nameOrId: string): Promise<void> {
    this.requireSnapshot(nameOrId, "snapshot");
    const name = this.#nameOf(this.snapshotsDir, nameOrId);
    const children = this.listNames(this.snapshotsDir).filter((other) => readMeta(path.join(this.snapshotsDir, other)).parent === name);
    if (children.length > 0) {
      throw new ConfigError(`snapshot: "${name}" cannot be deleted: ${children.join(", ")} ${children.length === 1 ? "is" : "are"} stacked on it.`, {
        input: "snapshot",
        hint: `Delete ${children.join(", ")} first.`,
      });
    }
    await removeTree(path.join(this.snapshotsDir, name));
  }

  /**
   * Publishes a finished layer folder (staged/layer) as snapshot `name`:
   * written under a temporary name and renamed, so a half-copied snapshot is
   * never visible. Every top-level folder exists in the layer, as overlayfs
   * needs of each lower folder.
   */
  publishSnapshot(name: string, staged: string, origin: { fromSandbox?: string; fromVolume?: { id: string; slug: string }; parent?: string }): SnapshotInfo {
    const dir = this.snapshotDir(name);
    this.#refuseSharedSlug(name, "snapshot");
    for (const top of LAYER_DIRS) fs.mkdirSync(path.join(staged, "layer", top), { recursive: true, mode: 0o755 });
    const createdAt = new Date();
    const id = `snp-${randomBytes(6).toString("hex")}`;
    fs.writeFileSync(path.join(staged, "meta.json"), JSON.stringify({ id, createdAt: createdAt.toISOString(), ...origin }));
    try {
      fs.renameSync(staged, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST" || code === "ENOTEMPTY") {
        throw new ConfigError(`snapshot: "${name}" already exists.`, { input: "snapshot", hint: `Pick another name, or delete it with \`cordon snapshot rm ${name}\`.` });
      }
      throw error;
    }
    return { name, id, createdAt, sizeBytes: 0, fromSandbox: origin.fromSandbox, fromVolume: origin.fromVolume, parent: origin.parent };
  }

  /** A name, or an id recorded in a meta.json, as the folder name. */
  #nameOf(kindDir: string, nameOrId: string): string {
    if (!/^(vol|snp)-[0-9a-f]{12}$/.test(nameOrId) || isRealDir(path.join(kindDir, nameOrId))) return nameOrId;
    return this.listNames(kindDir).find((name) => readMeta(path.join(kindDir, name)).id === nameOrId) ?? nameOrId;
  }

  /** Snapshots and volumes share one namespace, as in `@deno/sandbox`: `root` names either. */
  #refuseSharedSlug(name: string, kind: "snapshot" | "volume"): void {
    const other = kind === "snapshot" ? "volume" : "snapshot";
    if (isRealDir(path.join(kind === "snapshot" ? this.volumesDir : this.snapshotsDir, name))) {
      throw new ConfigError(`${kind}: "${name}" is already the name of a ${other}; snapshots and volumes share one set of names.`, {
        input: kind,
        hint: "Pick another name.",
      });
    }
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

interface Meta {
  id?: string;
  createdAt: Date;
  fromSandbox?: string;
  fromVolume?: { id: string; slug: string };
  parent?: string;
  capacityBytes?: number;
  region?: string;
}

/** A snapshot's or volume's meta.json; cordon wrote it, but a damaged one reads as empty. */
function readMeta(dir: string): Meta {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8")) as Omit<Meta, "createdAt"> & { createdAt?: string };
    const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
    return {
      id: text(meta.id),
      createdAt: new Date(meta.createdAt ?? 0),
      fromSandbox: text(meta.fromSandbox),
      fromVolume: meta.fromVolume && typeof meta.fromVolume.slug === "string" ? meta.fromVolume : undefined,
      parent: text(meta.parent) !== undefined && NAME_RULE.test(meta.parent as string) ? meta.parent : undefined,
      capacityBytes: typeof meta.capacityBytes === "number" ? meta.capacityBytes : undefined,
      region: text(meta.region),
    };
  } catch {
    return { createdAt: new Date(0) };
  }
}

async function diskUsage(dir: string): Promise<number> {
  try {
    const { stdout } = await run(hostTool("du"), ["-sbP", "--", dir]);
    return Number(stdout.split("\t")[0]) || 0;
  } catch {
    return 0;
  }
}

/** The kernel's start time of a process (clock ticks since boot), which tells a reused PID apart. */
export function processStartTime(pid: number): number | undefined {
  return readProcStat(pid)?.startTime;
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
    await run(hostTool("chmod"), ["-R", "u+rwx", "--", dir]).catch(() => undefined);
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Snapshot.create(volume): the volume's files become the new snapshot's
 * home folder (a volume as `root` is a sandbox's home). Copied with cp -a,
 * which never follows links; take it while no sandbox writes to the volume.
 */
export async function copyVolumeToLayer(store: SandboxStore, volume: string, slug: string): Promise<SnapshotInfo> {
  const source = store.requireVolume(volume, "volume");
  store.snapshotDir(slug);
  const info = (await store.listVolumes()).find((v) => v.name === volume || v.id === volume);
  const staged = store.stagingDir();
  try {
    const home = path.join(staged, "layer", "home", "sandbox");
    fs.mkdirSync(path.dirname(home), { recursive: true, mode: 0o755 });
    const ownership = process.getuid?.() === 0 ? [] : ["--no-preserve=ownership"];
    await run(hostTool("cp"), ["-a", "--reflink=auto", ...ownership, "--", source, home]);
    fs.chmodSync(home, 0o700);
    return store.publishSnapshot(slug, staged, { fromVolume: { id: info?.id ?? volume, slug: info?.name ?? volume } });
  } catch (error) {
    await removeTree(staged);
    throw error;
  }
}
