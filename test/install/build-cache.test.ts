import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { beforeEach, describe, test } from "node:test";
import { BuildCache, type BuildOwner } from "../../src/install/build-cache.js";
import { snapshotFolder } from "../../src/install/folder-changes.js";
import { tempDir } from "./fixture.js";

/**
 * The build cache on its own, with a package folder and a "build" made by
 * hand: what a restore gives back, and every way an altered or forged
 * entry must be refused before the package folder changes.
 */
const OWNER: BuildOwner = { key: "a".repeat(64), name: "native-thing", integrity: "sha512-AAAA" };

/** A package as npm extracts it. */
function extract(dir: string): void {
  fs.mkdirSync(path.join(dir, "src"), { recursive: true });
  fs.mkdirSync(path.join(dir, "lib"));
  fs.mkdirSync(path.join(dir, "node_modules/dep"), { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), '{"name":"native-thing","version":"1.0.0"}');
  fs.writeFileSync(path.join(dir, "src/thing.c"), "int main() { return 0; }\n");
  fs.writeFileSync(path.join(dir, "lib/index.js"), "module.exports = 1;\n");
  fs.writeFileSync(path.join(dir, "prebuilt-other-os.bin"), "x".repeat(100));
  fs.writeFileSync(path.join(dir, "node_modules/dep/index.js"), "// another package\n");
}

/** What its install script does. */
function build(dir: string): void {
  fs.mkdirSync(path.join(dir, "build/Release"), { recursive: true });
  fs.writeFileSync(path.join(dir, "build/Release/thing.node"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]));
  fs.chmodSync(path.join(dir, "build/Release/thing.node"), 0o755);
  fs.mkdirSync(path.join(dir, "build/empty"));
  fs.symlinkSync("Release/thing.node", path.join(dir, "build/current.node"));
  fs.writeFileSync(path.join(dir, "lib/index.js"), "module.exports = require('../build/Release/thing.node');\n");
  fs.rmSync(path.join(dir, "prebuilt-other-os.bin"));
}

/** Every path with its type, mode and content or target: what two folders must share after a restore. */
function describeTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (relative: string): void => {
    for (const name of fs.readdirSync(path.join(dir, relative)).sort()) {
      const item = relative ? `${relative}/${name}` : name;
      const stat = fs.lstatSync(path.join(dir, item));
      if (stat.isSymbolicLink()) out.push(`${item} -> ${fs.readlinkSync(path.join(dir, item))}`);
      else if (stat.isDirectory()) {
        out.push(`${item}/ ${(stat.mode & 0o777).toString(8)}`);
        walk(item);
      } else out.push(`${item} ${(stat.mode & 0o777).toString(8)} ${fs.readFileSync(path.join(dir, item)).toString("hex")}`);
    }
  };
  walk("");
  return out;
}

function entryFiles(cache: BuildCache): string[] {
  const root = path.join(cache.dir, "entries");
  return fs.readdirSync(root).flatMap((d) => fs.readdirSync(path.join(root, d)).map((f) => path.join(root, d, f)));
}

function editEntry(cache: BuildCache, edit: (entry: Record<string, any>) => void): void {
  const [file] = entryFiles(cache);
  const entry = JSON.parse(fs.readFileSync(file!, "utf8")) as Record<string, any>;
  edit(entry);
  fs.writeFileSync(file!, JSON.stringify(entry));
}

describe("build cache", () => {
  let root: string;
  let cache: BuildCache;
  let built: string;
  let fresh: string;

  beforeEach(async () => {
    root = await tempDir("cordon-build-cache-");
    cache = new BuildCache(path.join(root, "cache"));
    built = path.join(root, "built");
    extract(built);
    const before = snapshotFolder(built)!;
    build(built);
    const stored = await cache.store(OWNER, built, before);
    assert.equal(stored.status, "stored");
    fresh = path.join(root, `fresh-${Math.random().toString(36).slice(2)}`);
    extract(fresh);
  });

  test("a restore gives the fresh folder what the build left: files, modes, folders, links, removals; nested node_modules untouched", async () => {
    const result = await cache.restore(OWNER, fresh);
    assert.deepEqual(result, { status: "restored", files: 2, bytes: 7 + Buffer.byteLength("module.exports = require('../build/Release/thing.node');\n") });
    assert.deepEqual(describeTree(fresh), describeTree(built));
  });

  test("a restore into a folder that is not as npm extracts it is a miss, and changes nothing", async () => {
    fs.writeFileSync(path.join(fresh, "extra.txt"), "left behind");
    const before = describeTree(fresh);
    assert.deepEqual(await cache.restore(OWNER, fresh), { status: "miss" });
    assert.deepEqual(describeTree(fresh), before);
  });

  test("a cached file altered after the build is refused before anything changes", async () => {
    const objects = path.join(cache.dir, "objects");
    for (const d of fs.readdirSync(objects).filter((d) => !d.startsWith("."))) {
      for (const f of fs.readdirSync(path.join(objects, d))) fs.writeFileSync(path.join(objects, d, f), "tampered");
    }
    const before = describeTree(fresh);
    const result = await cache.restore(OWNER, fresh);
    assert.equal(result.status, "refused");
    assert.match((result as { reason: string }).reason, /does not match its hash/);
    assert.deepEqual(describeTree(fresh), before);
  });

  test("an entry filed under another package's key is refused", async () => {
    const other: BuildOwner = { ...OWNER, key: "b".repeat(64), name: "victim" };
    const [file] = entryFiles(cache);
    const target = file!.replace(/[/]aa[/]a{64}-/, `/bb/${"b".repeat(64)}-`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(file!, target);
    const result = await cache.restore(other, fresh);
    assert.deepEqual(result, { status: "refused", reason: "its entry belongs to another package or tarball" });
  });

  const forgeries: [string, (entry: Record<string, any>) => void, RegExp][] = [
    ["a file written through ../ out of the package folder", (e) => (e.files[0].path = "../escaped.node"), /not a path inside the package folder/],
    ["a file written into a nested node_modules (another package's folder)", (e) => (e.files[0].path = "node_modules/dep/index.js"), /nested node_modules/],
    ["a link that leads out of the package folder", (e) => (e.links[0].target = "/etc/passwd"), /leads out of the package folder/],
    ["a link that climbs out with ../", (e) => (e.links[0].target = "../../../../.ssh/id_rsa"), /leads out of the package folder/],
    ["a git hook planted in the package folder", (e) => e.dirs.push({ path: ".git", mode: 0o755 }, { path: ".git/hooks", mode: 0o755 }), /runs code later/],
    ["an .envrc planted in a subfolder", (e) => (e.files[0].path = "build/.envrc"), /runs code later/],
    ["a removal outside the package folder", (e) => e.removed.push("../../etc"), /not a path inside the package folder/],
    ["the removal of a file the fresh package does not hold", (e) => e.removed.push("nope.txt"), /the fresh package does not hold/],
    ["a file placed under a file, as if it were a folder", (e) => (e.files[0].path = "package.json/x"), /cannot create/],
    ["a mode with setuid", (e) => (e.files[0].mode = 0o4755), /malformed/],
  ];
  for (const [what, forge, reason] of forgeries) {
    test(`a forged entry is refused before anything changes: ${what}`, async () => {
      editEntry(cache, forge);
      const before = describeTree(fresh);
      const result = await cache.restore(OWNER, fresh);
      assert.equal(result.status, "refused", JSON.stringify(result));
      assert.match((result as { reason: string }).reason, reason);
      assert.deepEqual(describeTree(fresh), before);
      assert.equal(fs.existsSync(path.join(root, "escaped.node")), false);
    });
  }

  test("a build that leaves a link out of its folder is not kept", async () => {
    const dir = path.join(root, "linky");
    extract(dir);
    const before = snapshotFolder(dir)!;
    fs.symlinkSync("/usr/bin/python3", path.join(dir, "python3"));
    const result = await cache.store({ ...OWNER, key: "c".repeat(64) }, dir, before);
    assert.equal(result.status, "not-stored");
    assert.match((result as { reason: string }).reason, /leads out of the package folder/);
  });
});

/**
 * Through the CLI and the real npm (a local tarball, no registry): no
 * sandbox may reach the folder builds are restored from.
 */
describe("build cache through cordon install", () => {
  const CLI = path.resolve("dist/src/cli/main.js");
  let root: string;
  let project: string;
  let cacheHome: string;

  beforeEach(async () => {
    root = await tempDir("cordon-build-cache-cli-");
    cacheHome = path.join(root, "cache");
    fs.mkdirSync(path.join(cacheHome, "cordon", "builds"), { recursive: true });
    const src = path.join(root, "src");
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, "package.json"), JSON.stringify({ name: "writes-output", version: "1.0.0", scripts: { postinstall: "echo built > out.txt" } }));
    const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--json"], { cwd: src, encoding: "utf8" });
    project = path.join(root, "project");
    fs.mkdirSync(project);
    const tarball = (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename;
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies: { "writes-output": `file:../${tarball}` }, allowScripts: { [`file:../${tarball}`]: true } }));
  });

  const install = (...args: string[]): { status: number | null; out: string } => {
    const result = spawnSync(process.execPath, [CLI, "install", ...args], { cwd: project, encoding: "utf8", timeout: 120_000, env: { ...process.env, XDG_CACHE_HOME: cacheHome } });
    return { status: result.status, out: `${result.stdout}${result.stderr}` };
  };

  test("a build is kept, and restored into a fresh tree without a sandbox", () => {
    const first = install();
    assert.equal(first.status, 0, first.out);
    assert.match(first.out, /writes-output@1\.0\.0 postinstall \(sandboxed\)/);
    fs.rmSync(path.join(project, "node_modules"), { recursive: true });
    const second = install();
    assert.equal(second.status, 0, second.out);
    assert.doesNotMatch(second.out, /\(sandboxed\)/);
    assert.match(second.out, /writes-output@1\.0\.0 restored from the build cache \(1 files/);
    assert.equal(fs.readFileSync(path.join(project, "node_modules/writes-output/out.txt"), "utf8"), "built\n");
  });

  test("a package granted a write that reaches the cache folder turns the cache off for the install, and it is said", () => {
    fs.mkdirSync(path.join(project, ".cordon"));
    fs.writeFileSync(path.join(project, ".cordon", "policy.json"), JSON.stringify({ packages: { "writes-output": { write: [cacheHome] } } }));
    const { status, out } = install();
    assert.equal(status, 0, out);
    assert.match(out, /build cache off: writes-output@1\.0\.0 may reach .*, which holds the build cache/);
    assert.deepEqual(fs.readdirSync(path.join(cacheHome, "cordon", "builds")), [], "something was stored where a sandbox could write");
    const audit = fs.readFileSync(path.join(project, ".cordon", "audit.jsonl"), "utf8");
    assert.match(audit, /"type":"build-cache-off"/);
  });
});
