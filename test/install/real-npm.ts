import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Tests with the real npm, against the registry this machine is configured with, and real packages. */
export const CLI = path.resolve("dist/src/cli/main.js");

/** Why the real-package tests cannot run here (the configured registry does not answer), or false. */
export function registryUnreachable(): string | false {
  const registry = spawnSync("npm", ["config", "get", "registry"], { encoding: "utf8" }).stdout.trim();
  const ping = spawnSync("npm", ["view", "esbuild@0.25.9", "version"], { encoding: "utf8", timeout: 60_000 });
  if (ping.status !== 0) return `the configured registry (${registry || "unknown"}) is not reachable from this host: ${ping.stderr.split("\n")[0]}`;
  return false;
}

/**
 * The user cache folder every cordon run here gets ($XDG_CACHE_HOME): what a
 * test builds never lands in, nor comes from, the real build cache.
 */
export const TEST_CACHE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-test-cache-"));
process.once("exit", () => fs.rmSync(TEST_CACHE_HOME, { recursive: true, force: true }));
const testEnv = { ...process.env, XDG_CACHE_HOME: TEST_CACHE_HOME };

export interface CordonResult {
  status: number | null;
  out: string;
}

export function cordon(cwd: string, ...args: string[]): CordonResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", timeout: 900_000, env: testEnv });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

/**
 * Runs cordon in its own process group and, as soon as `file` (relative to
 * `cwd`) exists, sends `signal`: SIGINT to the whole group, as a terminal's
 * Ctrl-C does; SIGKILL to cordon alone, as `kill -9` does.
 */
export async function cordonInterrupted(cwd: string, args: readonly string[], file: string, signal: "SIGINT" | "SIGKILL"): Promise<CordonResult & { sent: boolean }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], env: testEnv });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let sent = false;
  let done = false;
  void exited.then(() => (done = true));
  while (!done && !sent) {
    if (fs.lstatSync(path.join(cwd, file), { throwIfNoEntry: false })) {
      if (signal === "SIGINT") process.kill(-child.pid!, "SIGINT");
      else child.kill("SIGKILL");
      sent = true;
    } else {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return { status: await exited, out, sent };
}

/** A temporary project with this package.json; removed when the test process exits. */
export function projectWith(manifest: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-real-"));
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ name: "cordon-real-test", version: "1.0.0", private: true, ...manifest }, null, 2)}\n`);
  return dir;
}
