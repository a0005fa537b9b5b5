import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { LocalRegistry } from "../helpers/local-registry.js";
import { CLI, TEST_CACHE_HOME } from "./real-npm.js";

/** Packs a package made of `files` (plus its package.json) and publishes it on the loopback registry. */
export function publishPackage(registry: LocalRegistry, root: string, manifest: { name: string; version: string } & Record<string, unknown>, files: Record<string, string>): void {
  const dir = path.join(root, "src", `${manifest.name}-${manifest.version}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--json"], { cwd: dir, encoding: "utf8" });
  assert.equal(packed.status, 0, packed.stderr);
  registry.publish(path.join(root, (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename), manifest);
}

/** Runs cordon asynchronously (the registry answering npm lives in the test's own process). */
export function cordonAsync(cwd: string, args: readonly string[], input?: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, timeout: 180_000, env: { ...process.env, XDG_CACHE_HOME: TEST_CACHE_HOME }, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    if (input !== undefined) child.stdin!.end(input);
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.on("close", (status) => resolve({ status, out }));
  });
}
