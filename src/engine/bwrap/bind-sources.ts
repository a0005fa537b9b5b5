import fs from "node:fs";
import { SandboxStartError } from "../../errors.js";
import type { Mount } from "../plan.js";

/** open(2)'s O_PATH (Linux, every architecture cordon supports): a handle on the object, no access to its data. */
const O_PATH = 0o10000000;

export type BindMount = Extract<Mount, { kind: "bind" | "ro-bind" }>;

/** Binds whose source is opened on the host and handed to bubblewrap as a descriptor. */
export function bindsByDescriptor(mounts: readonly Mount[]): BindMount[] {
  return mounts.filter((m): m is BindMount => (m.kind === "bind" || m.kind === "ro-bind") && m.sourceIn !== "launcher");
}

/**
 * Opens each bind source once and proves the descriptor is the path the plan
 * checked. The plan decides on names (a grant must not contain the home
 * folder, a protected path must not be a link); a name can be swapped for a
 * symlink between that decision and bubblewrap's mount (a sandbox with a
 * writable grant can race `renameat2(RENAME_EXCHANGE)` against the next
 * run). So the object is pinned here with O_PATH|O_NOFOLLOW, and kept only if
 * the kernel's own name for it (/proc/self/fd/N) is exactly the checked path
 * and it is not a symlink: then it is the thing that was checked, whatever
 * the name points to later. bubblewrap mounts the descriptor
 * (--bind-fd/--ro-bind-fd) and verifies after mounting that what it mounted
 * is that descriptor's object. Plan sources are canonical paths (no symlink
 * in any component), which is what makes the equality test exact.
 *
 * Returns the descriptors in order; the caller closes them after the spawn.
 */
export function openBindSources(binds: readonly BindMount[]): number[] {
  const fds: number[] = [];
  try {
    for (const bind of binds) fds.push(openPinned(bind.source));
  } catch (error) {
    closeAll(fds);
    throw error;
  }
  return fds;
}

export function closeAll(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      fs.closeSync(fd);
    } catch { /* already closed */ }
  }
}

function openPinned(source: string): number {
  let fd: number;
  try {
    fd = fs.openSync(source, O_PATH | fs.constants.O_NOFOLLOW);
  } catch (error) {
    throw new SandboxStartError(`${source} could not be opened for the sandbox: ${(error as Error).message}.`, {
      input: source,
      hint: "It disappeared after cordon checked it. Run again; if it keeps happening, something is changing it.",
    });
  }
  let actual = "";
  let isLink = true;
  try {
    actual = fs.readlinkSync(`/proc/self/fd/${fd}`);
    isLink = fs.fstatSync(fd).isSymbolicLink();
  } catch { /* reported below as a mismatch */ }
  if (isLink || actual !== source) {
    fs.closeSync(fd);
    throw new SandboxStartError(`${source} changed while the sandbox was starting (${isLink ? "it is now a symlink" : `it now resolves to ${actual}`}); nothing was mounted.`, {
      input: source,
      hint: "Something replaced a granted or protected path with a link after cordon checked it. Run again, and find what is swapping it (another sandbox with a writable grant there?).",
    });
  }
  return fd;
}

/** open(2)'s O_CLOEXEC as /proc/self/fdinfo prints it (octal flags). */
const O_CLOEXEC = 0o2000000;

/**
 * Descriptors this process holds without close-on-exec, other than stdio.
 * Node opens everything close-on-exec, so these came from cordon's parent
 * (a shell's `exec 40<~`, a CI runner's pipes) or a native addon, and every
 * child would inherit them: bubblewrap passes them on, and the sandbox could
 * read and write through them (`/proc/self/fd/40/.ssh/id_rsa`). The
 * backend covers each with /dev/null in the child.
 */
export function inheritableDescriptors(): number[] {
  const result: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc/self/fd");
  } catch {
    return result;
  }
  for (const entry of entries) {
    const fd = Number(entry);
    if (!Number.isInteger(fd) || fd < 3) continue;
    try {
      const flags = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) === 0) result.push(fd);
    } catch { /* closed while we looked (the readdir's own descriptor, for one) */ }
  }
  return result.sort((a, b) => a - b);
}
