import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after } from "node:test";
import { spawnSync } from "node:child_process";

/** A data folder for sandboxes, snapshots and volumes, removed after the file's tests. */
export function tempDataDir(prefix = "cordon-sdk-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** bubblewrap can make the namespaces the sandbox needs on this machine. */
export function canSandbox(): boolean {
  const probe = spawnSync("bwrap", ["--unshare-user", "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "--", "/bin/true"], { stdio: "ignore" });
  return probe.status === 0;
}

export const sandboxSkip = canSandbox() ? false : "SKIPPED: bubblewrap cannot create user, PID and network namespaces here";

export function text(bytes: Uint8Array | null): string {
  return bytes === null ? "" : Buffer.from(bytes).toString("utf8");
}

export async function readAll(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!stream) return "";
  let out = "";
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) out += Buffer.from(chunk).toString();
  return out;
}

/** A process exists and is not a zombie (an unreaped zombie runs nothing). */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}
