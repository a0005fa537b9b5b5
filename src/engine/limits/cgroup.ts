import fs from "node:fs";
import path from "node:path";
import { readProcStat } from "../proc-stat.js";

/**
 * Where this process may create child cgroups with memory and pids
 * controllers. cgroup v2 needs a delegated subtree (systemd gives users one
 * under user@UID.service); cgroup v1 needs write access to the controllers'
 * hierarchies, which in practice means root.
 */
export type CgroupLayout =
  | { version: 2; parent: string }
  | { version: 1; memoryParent: string; pidsParent: string };

export interface CgroupProbe {
  layout: CgroupLayout | undefined;
  /** Why cgroups cannot be used, when they cannot. */
  reason: string;
}

function ownCgroupPaths(): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of fs.readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, controllers, cgPath] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || cgPath === undefined) continue;
    for (const controller of controllers === "" ? [""] : controllers.split(",")) paths.set(controller, cgPath);
  }
  return paths;
}

function writableDir(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

export function probeCgroups(): CgroupProbe {
  let own: Map<string, string>;
  try {
    own = ownCgroupPaths();
  } catch {
    return { layout: undefined, reason: "/proc/self/cgroup is not readable" };
  }
  const reasons: string[] = [];
  const v2Path = own.get("");
  for (const mount of ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]) {
    if (v2Path === undefined || !fs.existsSync(path.join(mount, "cgroup.controllers"))) continue;
    const parent = path.join(mount, v2Path);
    let enabled: string[] = [];
    try {
      enabled = fs.readFileSync(path.join(parent, "cgroup.subtree_control"), "utf8").trim().split(/\s+/);
    } catch { /* not delegated */ }
    if (!enabled.includes("memory") || !enabled.includes("pids")) {
      reasons.push(`cgroup v2 at ${parent} does not delegate the memory and pids controllers to children`);
    } else if (!writableDir(parent)) {
      reasons.push(`cgroup v2 at ${parent} is not writable by this user`);
    } else {
      return { layout: { version: 2, parent }, reason: "" };
    }
  }
  const memory = own.get("memory");
  const pids = own.get("pids");
  if (memory !== undefined && pids !== undefined) {
    const memoryParent = path.join("/sys/fs/cgroup/memory", memory);
    const pidsParent = path.join("/sys/fs/cgroup/pids", pids);
    if (writableDir(memoryParent) && writableDir(pidsParent)) {
      return { layout: { version: 1, memoryParent, pidsParent }, reason: "" };
    }
    reasons.push("cgroup v1 memory and pids hierarchies are not writable by this user");
  }
  return { layout: undefined, reason: reasons.join("; ") || "no cgroup hierarchy with memory and pids controllers" };
}

/**
 * One sandbox's cgroup(s). The sandbox's first process is moved in before it
 * runs the command (bubblewrap waits on --block-fd), so every process the
 * command starts is counted and bounded from its first instruction.
 */
export class SandboxCgroup {
  readonly #dirs: string[];
  readonly #layout: CgroupLayout;

  private constructor(layout: CgroupLayout, dirs: string[]) {
    this.#layout = layout;
    this.#dirs = dirs;
  }

  static create(layout: CgroupLayout, name: string, limits: { memoryBytes?: number; pids?: number }): SandboxCgroup {
    sweepOrphans(layout);
    // Named after the owning cordon process, so a later run can tell an
    // orphan (its owner was killed, e.g. kill -9) from a live sibling.
    const leaf = `cordon-${process.pid}-${name}`;
    if (layout.version === 2) {
      const dir = path.join(layout.parent, leaf);
      fs.mkdirSync(dir);
      const cgroup = new SandboxCgroup(layout, [dir]);
      if (limits.memoryBytes !== undefined) {
        fs.writeFileSync(path.join(dir, "memory.max"), String(limits.memoryBytes));
        writeIfPresent(path.join(dir, "memory.swap.max"), "0");
      }
      if (limits.pids !== undefined) fs.writeFileSync(path.join(dir, "pids.max"), String(limits.pids));
      return cgroup;
    }
    const memoryDir = path.join(layout.memoryParent, leaf);
    const pidsDir = path.join(layout.pidsParent, leaf);
    fs.mkdirSync(memoryDir);
    fs.mkdirSync(pidsDir);
    const cgroup = new SandboxCgroup(layout, [memoryDir, pidsDir]);
    if (limits.memoryBytes !== undefined) {
      fs.writeFileSync(path.join(memoryDir, "memory.limit_in_bytes"), String(limits.memoryBytes));
      // Without this, the sandbox could go past its limit into swap.
      writeIfPresent(path.join(memoryDir, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
    }
    if (limits.pids !== undefined) fs.writeFileSync(path.join(pidsDir, "pids.max"), String(limits.pids));
    return cgroup;
  }

  /** The cgroup.procs files a process writes its PID into to enter this cgroup. */
  get procsFiles(): string[] {
    return this.#dirs.map((dir) => path.join(dir, "cgroup.procs"));
  }

  /** True when the kernel's OOM killer killed a process of this sandbox. */
  memoryKilled(): boolean {
    const dir = this.#dirs[0];
    if (dir === undefined) return false;
    const file = this.#layout.version === 2 ? "memory.events" : "memory.oom_control";
    try {
      const match = /^oom_kill (\d+)$/m.exec(fs.readFileSync(path.join(dir, file), "utf8"));
      return match !== null && Number(match[1]) > 0;
    } catch {
      return false;
    }
  }

  /** Kills every process still in the cgroup (belt and braces: the PID namespace should already be gone). */
  killAll(): void {
    for (const dir of this.#dirs) {
      if (this.#layout.version === 2 && writeIfPresent(path.join(dir, "cgroup.kill"), "1")) continue;
      for (const pid of readPids(dir)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch { /* already gone */ }
      }
    }
  }

  /** Removes the cgroup; retries briefly while the kernel finishes reaping. */
  async dispose(): Promise<void> {
    for (const dir of this.#dirs) {
      // The last processes leave the cgroup a moment after the sandbox's
      // exit is reported; retry quickly at first, for up to about a second.
      for (let attempt = 0; attempt < 20; attempt += 1) {
        try {
          fs.rmdirSync(dir);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") break;
          if (attempt === 2) this.killAll();
          await new Promise((resolve) => setTimeout(resolve, Math.min(100, 2 ** attempt)));
        }
      }
    }
  }
}

function readPids(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function writeIfPresent(file: string, value: string): boolean {
  try {
    fs.writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes empty sandbox cgroups whose cordon process is gone: a cordon killed
 * outright cannot remove its own, and the next run starts clean. Live
 * owners' cgroups are never touched; a non-empty one is left alone.
 */
function sweepOrphans(layout: CgroupLayout): void {
  const parents = layout.version === 2 ? [layout.parent] : [layout.memoryParent, layout.pidsParent];
  for (const parent of parents) {
    let names: string[];
    try {
      names = fs.readdirSync(parent).filter((entry) => entry.startsWith("cordon-"));
    } catch {
      continue;
    }
    for (const entry of names) {
      const owner = Number(/^cordon-(\d+)-/.exec(entry)?.[1]);
      if (!Number.isInteger(owner) || owner === process.pid || isAlive(owner)) continue;
      try {
        fs.rmdirSync(path.join(parent, entry));
      } catch { /* still has processes, or already gone */ }
    }
  }
}

/** A process that exited but was not yet reaped (a zombie) counts as gone. */
function isAlive(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== "Z" && state !== "X";
}
