import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkInstallScripts } from "../src/install/check.js";
import { makeSyntheticTree } from "../test/install/synthetic-tree.js";
import { median, round, type Figure } from "./stats.js";

const FIXTURE = path.resolve("test/install/fixtures/real-packages");
const APPROVED = ["@swc/core", "bcrypt", "better-sqlite3", "bufferutil", "core-js", "cpu-features", "es5-ext", "esbuild", "protobufjs", "ssh2"];

function timed(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { cwd, stdio: "ignore", env });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${file} ${args.join(" ")} exited ${code} in ${cwd}`))));
  });
}

/**
 * The everyday reinstall: one project whose approved builds are in the build
 * cache (its own cache folder, filled by a first `cordon ci`), then, in turns,
 * `rm -rf node_modules && npm ci --ignore-scripts` (the floor: npm alone,
 * no script run) and `rm -rf node_modules && cordon ci` (npm, inventory,
 * policy, scan verdicts, restores).
 */
async function benchCachedReinstall(cli: string, rounds: number): Promise<Figure[]> {
  const dir = freshProject();
  const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-bench-cache-"));
  const env = { ...process.env, XDG_CACHE_HOME: cacheHome };
  const floor: number[] = [];
  const cordon: number[] = [];
  try {
    await timed(process.execPath, [cli, "ci"], dir, env); // builds once, fills the build cache
    for (let i = 0; i < rounds; i += 1) {
      for (const [times, file, args] of [[floor, "npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"]], [cordon, process.execPath, [cli, "ci"]]] as const) {
        fs.rmSync(path.join(dir, "node_modules"), { recursive: true, force: true });
        times.push(await timed(file, [...args], dir, env));
      }
    }
    const audit = fs.readFileSync(path.join(dir, ".cordon/audit.jsonl"), "utf8");
    const restored = audit.split("\n").filter((line) => line.includes('"action":"restored"')).length;
    if (restored < rounds) throw new Error(`bench: cordon ci restored ${restored} builds in ${rounds} rounds; the build cache was not used`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(cacheHome, { recursive: true, force: true });
  }
  return [
    { name: "install: npm ci --ignore-scripts, fresh tree (floor)", value: round(median(floor) / 1000), unit: "s" },
    { name: "install: cordon ci, fresh tree, builds cached", value: round(median(cordon) / 1000), unit: "s" },
    { name: "install: cached cordon ci / floor", value: round(median(cordon) / median(floor)), unit: "×", note: `goal ≤ 1.3×, median of ${rounds}` },
  ];
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
 * cache, same run, cordon's build cache off; `rm -rf node_modules && cordon
 * ci` with the build cache filled against its floor, `npm ci
 * --ignore-scripts` on the same tree; and the inventory plus policy check
 * alone on a synthetic 1,000-package tree.
 */
export async function benchInstall(rounds = 1, cachedRounds = 5): Promise<Figure[]> {
  const cli = path.resolve("dist/src/cli/main.js");
  const warm = freshProject();
  await timed("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], warm); // fills the npm cache
  fs.rmSync(warm, { recursive: true, force: true });
  const npmTimes: number[] = [];
  const cordonTimes: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    for (const [times, file, args] of [[npmTimes, "npm", ["ci", "--no-audit", "--no-fund"]], [cordonTimes, process.execPath, [cli, "ci", "--no-build-cache"]]] as const) {
      const dir = freshProject();
      try {
        times.push(await timed(file, [...args], dir));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  const cached = await benchCachedReinstall(cli, cachedRounds);

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
    ...cached,
    { name: "install: inventory + policy, 1,000 packages", value: round(median(inventoryTimes)), unit: "ms", note: "goal ≤ 1000 ms" },
  ];
}
