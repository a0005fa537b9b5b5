import fs from "node:fs";

/** The fields of /proc/PID/stat cordon uses. */
export interface ProcStat {
  /** R, S, D, Z, X, T, ... */
  state: string;
  parentPid: number;
  /** Clock ticks after boot: with the pid, a process's identity (pids are reused, this pair is not). */
  startTime: number;
}

/**
 * Reads /proc/PID/stat, or undefined when the process is gone. The command
 * name (field 2) may hold spaces and parentheses, so fields are counted from
 * the last ")".
 */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); field N is fields[N - 3].
  return { state: fields[0] ?? "", parentPid: Number(fields[1]), startTime: Number(fields[19]) };
}

/** True while `pid` is the same process (same start time) and has not exited. */
export function isAlive(pid: number, startTime: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== "Z" && stat.state !== "X";
}
