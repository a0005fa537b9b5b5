import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import { cordon, cordonInterrupted, projectWith, registryUnreachable, TEST_CACHE_HOME } from "./real-npm.js";

/**
 * A real native build (cpu-features: `node-gyp rebuild`, no prebuilt
 * binary, a few seconds) across reruns, fresh trees and interruptions. A
 * script may be skipped only while its outputs are in the tree being
 * installed, or restored into it from the build cache; whatever was
 * interrupted, the same command again gives a complete, working tree.
 */
const unreachable = registryUnreachable();
if (unreachable) process.stderr.write(`SKIPPING real-package rerun tests: ${unreachable}\n`);

const BUILDING = "node_modules/cpu-features/build/node_gyp_bins/python3";
const SANDBOXED = /cpu-features@0\.0\.10 install \(sandboxed\)/;
const RESTORED = /cpu-features@0\.0\.10 restored from the build cache/;
const BUILDS = path.join(TEST_CACHE_HOME, "cordon", "builds");

/** The last build-cache record of the audit log. */
function lastCacheRecord(dir: string): { action: string; reason?: string } | undefined {
  const lines = fs.readFileSync(path.join(dir, ".cordon/audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; action: string });
  return lines.filter((r) => r.type === "build-cache").pop();
}

/** Where the cache keeps cpu-features' compiled module. */
function cachedModule(): string {
  const entries = path.join(BUILDS, "entries");
  for (const d of fs.readdirSync(entries)) {
    for (const f of fs.readdirSync(path.join(entries, d))) {
      const entry = JSON.parse(fs.readFileSync(path.join(entries, d, f), "utf8")) as { name: string; files: { path: string; sha256: string }[] };
      const node = entry.name === "cpu-features" ? entry.files.find((file) => file.path === "build/Release/cpufeatures.node") : undefined;
      if (node) return path.join(BUILDS, "objects", node.sha256.slice(0, 2), node.sha256);
    }
  }
  throw new Error("no cached build of cpu-features");
}

/** The module loads and answers: its build output is in this tree. */
function assertBuilt(dir: string, out: string): void {
  const check = spawnSync(process.execPath, ["-e", "console.log(typeof require('cpu-features')().arch)"], { cwd: dir, encoding: "utf8" });
  assert.equal(check.status, 0, `cpu-features does not load after:\n${out}\n${check.stderr}`);
  assert.equal(check.stdout.trim(), "string");
}

describe("a native build across reruns and fresh trees", { skip: unreachable }, () => {
  let project: string;
  before(() => {
    project = projectWith({ dependencies: { "cpu-features": "0.0.10" }, allowScripts: { "cpu-features": true } });
  });

  test("the first install builds it", () => {
    const { status, out } = cordon(project, "install");
    assert.equal(status, 0, out);
    assert.match(out, SANDBOXED);
    assertBuilt(project, out);
  });

  test("a rerun on the same tree runs nothing again", () => {
    const { status, out } = cordon(project, "install");
    assert.equal(status, 0, out);
    assert.doesNotMatch(out, /\(sandboxed\)/);
    assert.match(out, /already built in this node_modules, outputs in place: cpu-features@0\.0\.10/);
    assertBuilt(project, out);
  });

  test("a second cordon ci (a fresh extraction) restores the build from the cache: no sandbox runs, the module works", () => {
    const { status, out } = cordon(project, "ci");
    assert.equal(status, 0, out);
    assert.doesNotMatch(out, /\(sandboxed\)/);
    assert.match(out, RESTORED);
    assert.equal(lastCacheRecord(project)?.action, "restored");
    assertBuilt(project, out);
  });

  test("a restored package is recorded as done in node_modules: the next install runs and restores nothing", () => {
    const { status, out } = cordon(project, "install");
    assert.equal(status, 0, out);
    assert.doesNotMatch(out, /\(sandboxed\)|restored from the build cache/);
    assert.match(out, /already built in this node_modules, outputs in place: cpu-features@0\.0\.10/);
  });

  test("rm -rf node_modules, then cordon install: restored from the cache", () => {
    fs.rmSync(path.join(project, "node_modules"), { recursive: true });
    const { status, out } = cordon(project, "install");
    assert.equal(status, 0, out);
    assert.doesNotMatch(out, /\(sandboxed\)/);
    assert.match(out, RESTORED);
    assertBuilt(project, out);
  });

  test("a tampered cache entry is refused and the package built again", () => {
    const cached = cachedModule();
    const bytes = fs.readFileSync(cached);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    fs.writeFileSync(cached, bytes);
    fs.rmSync(path.join(project, "node_modules"), { recursive: true });
    const { status, out } = cordon(project, "ci");
    assert.equal(status, 0, out);
    assert.match(out, /cpu-features@0\.0\.10: its build cache entry was refused \(its copy of build\/Release\/cpufeatures\.node does not match its hash/);
    assert.match(out, SANDBOXED);
    assertBuilt(project, out);
    // The rebuild replaced the entry: the next fresh tree restores again.
    fs.rmSync(path.join(project, "node_modules"), { recursive: true });
    const again = cordon(project, "ci");
    assert.equal(again.status, 0, again.out);
    assert.match(again.out, RESTORED);
    assertBuilt(project, again.out);
  });

  test("cordon ci --no-build-cache builds again", () => {
    const { status, out } = cordon(project, "ci", "--no-build-cache");
    assert.equal(status, 0, out);
    assert.match(out, SANDBOXED);
    assertBuilt(project, out);
  });

  test("its build output deleted by hand: built again (the folder is no longer as npm extracts it)", () => {
    fs.rmSync(path.join(project, "node_modules/cpu-features/build"), { recursive: true });
    const { status, out } = cordon(project, "install");
    assert.equal(status, 0, out);
    assert.match(out, SANDBOXED);
    assertBuilt(project, out);
  });

  // The key holds the exact environment the script gets, and npm's puts the
  // project's path in it (INIT_CWD, PATH): a clone elsewhere builds once.
  test("a fresh clone in another folder with .cordon/ committed: built", () => {
    const clone = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-clone-"));
    try {
      for (const entry of ["package.json", "package-lock.json", ".cordon"]) fs.cpSync(path.join(project, entry), path.join(clone, entry), { recursive: true });
      const { status, out } = cordon(clone, "install");
      assert.equal(status, 0, out);
      assert.match(out, SANDBOXED);
      assertBuilt(clone, out);
    } finally {
      fs.rmSync(clone, { recursive: true, force: true });
    }
  });
});

describe("interrupted during a native build, the same command again finishes the job", { skip: unreachable }, () => {
  let project: string;
  before(() => {
    project = projectWith({ dependencies: { "cpu-features": "0.0.10" }, allowScripts: { "cpu-features": true } });
    const first = cordon(project, "install");
    assert.equal(first.status, 0, first.out);
  });

  for (const [signal, command] of [["SIGINT", "install"], ["SIGKILL", "install"], ["SIGKILL", "ci"]] as const) {
    test(`${signal === "SIGINT" ? "Ctrl-C" : "kill -9"} while node-gyp builds, then cordon ${command} again`, async () => {
      // Start from a project that was never installed and nothing cached, so the build runs.
      for (const entry of [path.join(project, "node_modules"), path.join(project, ".cordon"), BUILDS]) fs.rmSync(entry, { recursive: true, force: true });
      const cut = await cordonInterrupted(project, [command], BUILDING, signal);
      assert.ok(cut.sent, `the build finished before it could be interrupted:\n${cut.out}`);
      if (signal === "SIGINT") {
        assert.equal(cut.status, 130, cut.out);
        assert.match(cut.out, new RegExp(`Run cordon ${command} again to finish`));
      }
      const rerun = cordon(project, command);
      assert.equal(rerun.status, 0, rerun.out);
      // Built, not restored: a cut-off build leaves nothing in the cache.
      assert.match(rerun.out, SANDBOXED);
      assertBuilt(project, rerun.out);
      assert.equal(fs.existsSync(path.join(project, BUILDING)), false, "node-gyp's half-finished output is still there");
    });
  }
});
