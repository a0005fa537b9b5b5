import fs from "node:fs";

/** A process of the sandbox, as the host sees it. `command` is sandbox text: hostile. */
export interface SandboxProcess {
  /** Its PID inside the sandbox's PID namespace. */
  pid: number;
  command: string;
}

/**
 * Bubblewrap's init is PID 1 of the sandbox and cordon's step runner PID 2
 * (bubblewrap starts the command as the init's only child). Neither is the
 * package's. Taken by position, not from anything the sandbox reports.
 */
const OURS = new Set([1, 2]);

/**
 * Lists the sandbox's processes from outside: every host process in the
 * same PID namespace as the sandbox's first process. The sandbox cannot hide
 * from or forge this list (it does not see the host's /proc).
 */
export class SandboxProcessWatch {
  readonly #namespace: string | undefined;
  readonly #seen = new Map<string, SandboxProcess>();

  constructor(hostPid: number) {
    this.#namespace = readLink(`/proc/${hostPid}/ns/pid`);
  }

  /** The package's processes alive now (zombies left out); each is also remembered as seen. */
  sample(): SandboxProcess[] {
    if (this.#namespace === undefined) return [];
    const alive: SandboxProcess[] = [];
    for (const name of safeList("/proc")) {
      if (!/^\d+$/.test(name) || readLink(`/proc/${name}/ns/pid`) !== this.#namespace) continue;
      const status = readText(`/proc/${name}/status`);
      const state = /^State:\s+(\S)/m.exec(status)?.[1];
      const nsPid = Number(/^NSpid:.*\s(\d+)\s*$/m.exec(status)?.[1] ?? NaN);
      if (!Number.isInteger(nsPid) || OURS.has(nsPid) || state === "Z" || state === "X") continue;
      const command = readText(`/proc/${name}/cmdline`).replace(/\0+$/, "").replace(/\0/g, " ").slice(0, 300);
      const process = { pid: nsPid, command: command || `[${/^Name:\s+(.*)$/m.exec(status)?.[1] ?? "?"}]` };
      alive.push(process);
      this.#seen.set(`${process.pid} ${process.command}`, process);
    }
    return alive;
  }

  /** Every process sampled so far, in the order first seen. */
  get seen(): SandboxProcess[] {
    return [...this.#seen.values()];
  }
}

function readLink(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
