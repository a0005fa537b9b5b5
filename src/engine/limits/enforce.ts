import fs from "node:fs";
import type { Limits } from "../../policy/permissions.js";
import { probeCgroups, type CgroupLayout } from "./cgroup.js";

export type LimitName = "timeout" | "memory" | "pids" | "disk" | "output";

/** How one limit is really enforced on this machine; part of every result. */
export interface LimitEnforcement {
  limit: LimitName;
  value: number;
  mechanism: "cgroup-v2" | "cgroup-v1" | "rlimit" | "tmpfs" | "timer" | "pipe";
  /** "sandbox": one budget for every process together; "per-process": the weaker fallback. */
  scope: "sandbox" | "per-process" | "per-mount";
  note?: string;
}

export interface LimitStrategy {
  cgroup: CgroupLayout | undefined;
  rlimits: { nproc?: number; dataBytes?: number } | undefined;
  enforcement: LimitEnforcement[];
}

/**
 * Chooses how to enforce memory and process limits: a cgroup when one is
 * writable (one budget for the whole sandbox, OOM kills are reported), else
 * kernel rlimits (RLIMIT_DATA per process; RLIMIT_NPROC per user). The
 * choice is reported, never hidden: see LimitEnforcement.note.
 */
export function chooseLimitStrategy(
  limits: Limits & { diskBytes: number; memoryBytes: number; pids: number },
  capturingOutput: boolean,
  runningAsRoot: boolean,
): LimitStrategy {
  const enforcement: LimitEnforcement[] = [
    { limit: "disk", value: limits.diskBytes, mechanism: "tmpfs", scope: "per-mount", note: "each of $HOME, /tmp and /dev/shm" },
  ];
  if (limits.timeoutMs !== undefined) enforcement.push({ limit: "timeout", value: limits.timeoutMs, mechanism: "timer", scope: "sandbox" });
  if (limits.outputBytes !== undefined && capturingOutput) {
    enforcement.push({ limit: "output", value: limits.outputBytes, mechanism: "pipe", scope: "sandbox" });
  }
  const probe = probeCgroups();
  if (probe.layout) {
    const mechanism = probe.layout.version === 2 ? "cgroup-v2" : "cgroup-v1";
    enforcement.push({ limit: "memory", value: limits.memoryBytes, mechanism, scope: "sandbox" });
    enforcement.push({ limit: "pids", value: limits.pids, mechanism, scope: "sandbox" });
    return { cgroup: probe.layout, rlimits: undefined, enforcement };
  }
  // RLIMIT_NPROC counts every task of the user, cordon's own threads
  // included, so the sandbox gets the requested number on top of those.
  // (Root is exempt from RLIMIT_NPROC, so there is nothing to count for it.)
  const rlimits = runningAsRoot
    ? { dataBytes: limits.memoryBytes }
    : { dataBytes: limits.memoryBytes, nproc: limits.pids + countUserTasks(process.getuid?.() ?? -1) };
  enforcement.push({
    limit: "memory", value: limits.memoryBytes, mechanism: "rlimit", scope: "per-process",
    note: `RLIMIT_DATA for each process, because ${probe.reason}; memfd, SysV and shared anonymous memory are refused, but other shared mappings, stacks and kernel buffers are not counted: not a bound for the sandbox`,
  });
  enforcement.push({
    limit: "pids", value: limits.pids, mechanism: "rlimit", scope: "per-process",
    note: runningAsRoot
      ? `not enforced: the kernel exempts root from RLIMIT_NPROC and ${probe.reason}`
      : `RLIMIT_NPROC, set to this user's current task count plus ${limits.pids}, because ${probe.reason}`,
  });
  return { cgroup: undefined, rlimits, enforcement };
}

/** Tasks (threads included) that user `uid` runs now, as RLIMIT_NPROC counts them. */
function countUserTasks(uid: number): number {
  let count = 0;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, "utf8");
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid) count += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    } catch { /* the process ended while we looked */ }
  }
  return count;
}
