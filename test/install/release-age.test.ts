import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_INSTALL_REFUSED } from "../../src/install/errors.js";
import { parseLockfile } from "../../src/install/lockfile.js";
import { heldBack, lockedReleases, olderPick, parseReleaseAge, releaseAgeGate } from "../../src/install/release-age.js";
import { LocalRegistry } from "../helpers/local-registry.js";

const CLI = path.resolve("dist/src/cli/main.js");
const DAY = 86_400_000;

describe("release age: reading the gate and choosing versions", () => {
  test("ages are read with a unit or as a bare number of days (npm's form); 0 is off; an unknown unit or nothing is refused", () => {
    assert.equal(parseReleaseAge("3d", "--min-release-age"), 3 * DAY);
    assert.equal(parseReleaseAge("12h", "x"), 12 * 3_600_000);
    assert.equal(parseReleaseAge("2w", "x"), 14 * DAY);
    assert.equal(parseReleaseAge("0", "x"), 0);
    assert.equal(parseReleaseAge("3", "--min-release-age"), 3 * DAY, "a bare number is days, as npm 11's --min-release-age");
    assert.throws(() => parseReleaseAge("", "--min-release-age"), /--min-release-age: "" is not an age/);
    assert.throws(() => parseReleaseAge("3y", "x"), /not an age/);
  });

  test("the older pick fits every dependent's range and was published before the cutoff; a held-back version is newer and younger", () => {
    const lock = parseLockfile(JSON.stringify({
      lockfileVersion: 3,
      packages: {
        "": { dependencies: { lib: "^1.0.0", mid: "1.0.0" } },
        "node_modules/lib": { version: "1.3.0", integrity: "sha512-x" },
        "node_modules/mid": { version: "1.0.0", dependencies: { lib: "~1.2.0 || ^1.3.0" } },
      },
    }), "package-lock.json");
    const release = lockedReleases(lock).find((r) => r.name === "lib")!;
    assert.deepEqual([...release.ranges].sort(), ["^1.0.0", "~1.2.0 || ^1.3.0"]);
    const now = new Date("2026-01-31T00:00:00Z");
    const ago = (days: number): string => new Date(now.getTime() - days * DAY).toISOString();
    const times = { versions: ["1.1.0", "1.2.5", "1.3.0", "2.0.0"], time: { "1.1.0": ago(40), "1.2.5": ago(20), "1.3.0": ago(1), "2.0.0": ago(30) } };
    const gate = releaseAgeGate(3 * DAY, "--min-release-age=3d", now);
    assert.equal(olderPick(release, times, gate)?.version, "1.2.5");
    assert.equal(heldBack({ ...release, version: "1.2.5" }, times, gate)?.version, "1.3.0");
    assert.equal(heldBack({ ...release, version: "1.3.0" }, times, gate), undefined);
  });
});

/**
 * Through the real npm, against a registry this test serves with publish
 * times it controls: cool-lib 1.0.0 (30 days old), 1.1.0 (10 days), 1.2.0
 * (1 day); cool-mid 1.0.0 (20 days) depends on cool-lib ^1.0.0.
 */
describe("release age through npm and a registry with known publish times", () => {
  let root: string;
  let registry: LocalRegistry;
  let cacheHome: string;

  const cordon = (project: string, ...args: string[]): Promise<{ status: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: project, timeout: 120_000, env: { ...process.env, XDG_CACHE_HOME: cacheHome } });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d));
      child.stderr.on("data", (d: Buffer) => (out += d));
      child.on("close", (status) => resolve({ status, out }));
    });
  const project = (dependencies: Record<string, string>, extra: Record<string, unknown> = {}): string => {
    const dir = fs.mkdtempSync(path.join(root, "project-"));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies, ...extra }, null, 2));
    fs.writeFileSync(path.join(dir, ".npmrc"), `registry=${registry.url}\n`);
    return dir;
  };
  /** A lockfile made by plain npm, which takes the newest version: cool-lib 1.2.0. */
  const lockedByNpm = async (dir: string): Promise<void> => {
    const result = await new Promise<number | null>((resolve) => {
      spawn("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir, stdio: "ignore" }).on("close", resolve);
    });
    assert.equal(result, 0);
    assert.equal(installed(dir, "cool-lib"), "1.2.0");
  };
  const installed = (dir: string, name: string): string | undefined => {
    const file = path.join(dir, "node_modules", name, "package.json");
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version : undefined;
  };
  const lockedVersion = (dir: string, name: string): unknown =>
    (JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> }).packages[`node_modules/${name}`]?.version;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-release-age-"));
    cacheHome = path.join(root, "cache");
    registry = await new LocalRegistry().start();
    const now = Date.now();
    for (const [name, version, days, dependencies] of [
      ["cool-lib", "1.0.0", 30, {}], ["cool-lib", "1.1.0", 10, {}], ["cool-lib", "1.2.0", 1, {}], ["cool-mid", "1.0.0", 20, { "cool-lib": "^1.0.0" }],
    ] as const) {
      const dir = path.join(root, "src", `${name}-${version}`);
      fs.mkdirSync(dir, { recursive: true });
      const manifest = { name, version, dependencies };
      fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest));
      const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--json"], { cwd: dir, encoding: "utf8" });
      assert.equal(packed.status, 0, packed.stderr);
      registry.publish(path.join(root, (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename), manifest, new Date(now - days * DAY));
    }
  });
  after(() => {
    registry?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("a new dependency resolves to the newest version old enough, and the held-back one is explained", async () => {
    const dir = project({ "cool-lib": "^1.0.0" });
    const { status, out } = await cordon(dir, "install", "--min-release-age=3d");
    assert.equal(status, 0, out);
    assert.equal(installed(dir, "cool-lib"), "1.1.0");
    assert.match(out, /cool-lib: held back at 1\.1\.0, published 10 days ago; 1\.2\.0 is only 1 day old/);
  });

  test("cordon ci refuses a locked version younger than the gate, naming it, its age and the older version, before npm runs", async () => {
    const dir = project({ "cool-mid": "1.0.0" });
    await lockedByNpm(dir);
    fs.rmSync(path.join(dir, "node_modules"), { recursive: true });
    const { status, out } = await cordon(dir, "ci", "--min-release-age=3");
    assert.equal(status, EXIT_INSTALL_REFUSED, out);
    assert.match(out, /cool-lib@1\.2\.0 was published 1 day ago \([^)]+\); the newest older version that fits is 1\.1\.0, published 10 days ago/);
    assert.match(out, /younger than 3 days \(--min-release-age=3\); no install script ran/);
    assert.match(out, /cordon install cool-lib@1\.1\.0/, "the concrete command");
    const bare = await cordon(dir, "ci", "--min-release-age");
    assert.equal(bare.status, EXIT_INSTALL_REFUSED, bare.out);
    assert.match(bare.out, /--min-release-age needs a value/);
    assert.equal(fs.existsSync(path.join(dir, "node_modules")), false, "npm ran");
  });

  test("cordon install moves a too-young locked transitive dependency to an older version", async () => {
    const dir = project({ "cool-mid": "1.0.0" });
    await lockedByNpm(dir);
    const { status, out } = await cordon(dir, "install", "--min-release-age=3d");
    assert.equal(status, 0, out);
    assert.match(out, /so npm resolves it again among older versions:\n\s+cool-lib@1\.2\.0 was published 1 day ago/);
    assert.equal(installed(dir, "cool-lib"), "1.1.0");
    assert.equal(lockedVersion(dir, "cool-lib"), "1.1.0");
  });

  test("the policy's minReleaseAge gates like the flag; --min-release-age=0 turns it off for one run", async () => {
    const dir = project({ "cool-mid": "1.0.0" });
    fs.mkdirSync(path.join(dir, ".cordon"));
    fs.writeFileSync(path.join(dir, ".cordon", "policy.json"), JSON.stringify({ minReleaseAge: "3d" }));
    await lockedByNpm(dir);
    const gated = await cordon(dir, "ci");
    assert.equal(gated.status, EXIT_INSTALL_REFUSED, gated.out);
    assert.match(gated.out, /cool-lib@1\.2\.0 was published 1 day ago/);
    assert.match(gated.out, /younger than 3 days \(minReleaseAge "3d" in \.cordon\/policy\.json\)/);
    const off = await cordon(dir, "ci", "--min-release-age=0");
    assert.equal(off.status, 0, off.out);
    assert.equal(installed(dir, "cool-lib"), "1.2.0");
  });

  test("asking for a version younger than the gate by name fails in npm, and the message says why", async () => {
    const dir = project({});
    const { status, out } = await cordon(dir, "install", "cool-lib@1.2.0", "--min-release-age=3d");
    assert.equal(status, 1, out);
    assert.match(out, /No matching version found for cool-lib@1\.2\.0 with a date before/);
    assert.match(out, /The release-age gate \(--min-release-age=3d\) had npm consider only versions published before/);
  });
});
