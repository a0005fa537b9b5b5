import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkInstallScripts } from "../src/install/check.js";
import { makeSyntheticTree } from "../test/install/synthetic-tree.js";
import { median, round, type Figure } from "./stats.js";

const FIXTURE = path.resolve("test/install/fixtures/real-packages");
const APPROVED = ["@swc/core", "bcrypt", "better-sqlite3", "bufferutil", "core-js", "cpu-features", "es5-ext", "esbuild", "protobufjs", "ssh2"];

function timed(file: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { cwd, stdio: "ignore" });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${file} ${args.join(" ")} exited ${code} in ${cwd}`))));
  });
}

function freshProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-bench-install-"));
  fs.cpSync(FIXTURE, dir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as Record<string, unknown>;
  manifest.allowScripts = Object.fromEntries(APPROVED.map((name) => [name, true]));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  return dir;
}

/**
 * `cordon ci` against `npm ci` with scripts on, on the real-package fixture
 * (ten packages with install-time code, three native builds), warm npm
 * cache, same run; and the inventory plus policy check alone on a synthetic
 * 1,000-package tree.
 */
export async function benchInstall(rounds = 1): Promise<Figure[]> {
  const cli = path.resolve("dist/src/cli/main.js");
  const warm = freshProject();
  await timed("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], warm); // fills the npm cache
  fs.rmSync(warm, { recursive: true, force: true });
  const npmTimes: number[] = [];
  const cordonTimes: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    for (const [times, file, args] of [[npmTimes, "npm", ["ci", "--no-audit", "--no-fund"]], [cordonTimes, process.execPath, [cli, "ci"]]] as const) {
      const dir = freshProject();
      try {
        times.push(await timed(file, [...args], dir));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  const tree = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-bench-tree-"));
  const inventoryTimes: number[] = [];
  try {
    await makeSyntheticTree(tree, 1000);
    await checkInstallScripts(tree);
    for (let i = 0; i < 5; i += 1) {
      const started = performance.now();
      await checkInstallScripts(tree);
      inventoryTimes.push(performance.now() - started);
    }
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
  return [
    { name: "install: npm ci, scripts on (baseline)", value: round(median(npmTimes) / 1000), unit: "s" },
    { name: "install: cordon ci, sandboxed scripts", value: round(median(cordonTimes) / 1000), unit: "s" },
    { name: "install: cordon ci / npm ci", value: round(median(cordonTimes) / median(npmTimes)), unit: "×", note: "goal ≤ 1.3×" },
    { name: "install: inventory + policy, 1,000 packages", value: round(median(inventoryTimes)), unit: "ms", note: "goal ≤ 1000 ms" },
  ];
}
