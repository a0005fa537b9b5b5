import fs from "node:fs";
import { isAlive } from "../engine/proc-stat.js";
import { processStartTime } from "./store.js";

/**
 * A lock file naming its owner (PID and kernel start time, so a reused PID
 * is told apart, and a zombie counts as gone). Returns true when this process took it; a dead owner's
 * lock is removed, and the caller tries again.
 */
export function takeLock(lock: string): boolean {
  const me = `${process.pid} ${processStartTime(process.pid) ?? 0}`;
  try {
    fs.writeFileSync(lock, me, { flag: "wx", mode: 0o600 });
    return true;
  } catch {
    let owner = "";
    try {
      owner = fs.readFileSync(lock, "utf8");
    } catch { /* removed meanwhile */ }
    const [pid, start] = owner.split(" ");
    // An owner that exited (a zombie not yet reaped counts as exited) holds nothing.
    if (pid && isAlive(Number(pid), Number(start))) return false;
    fs.rmSync(lock, { force: true });
    return false;
  }
}
