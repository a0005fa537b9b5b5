import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import { cordon, cordonInterrupted, projectWith, registryUnreachable } from "./real-npm.js";

/**
 * A real native build (cpu-features: `node-gyp rebuild`, no prebuilt
 * binary, a few seconds) across reruns, fresh trees and interruptions. A
 * script may be skipped only while its outputs are in the tree being
 * installed; whatever was interrupted, the same command again gives a
 * complete, working tree.
 */
const unreachable = registryUnreachable();
if (unreachable) process.stderr.write(`SKIPPING real-package rerun tests: ${unreachable}\n`);

const BUILDING = "node_modules/cpu-features/build/node_gyp_bins/python3";
const SANDBOXED = /cpu-features@0\.0\.10 install \(sandboxed\)/;

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

  test("a second cordon ci builds again: npm ci extracted a fresh copy", () => {
    const { status, out } = cordon(project, "ci");
    assert.equal(status, 0, out);
    assert.match(out, SANDBOXED);
    assertBuilt(project, out);
  });

  test("rm -rf node_modules, then cordon install: built again", () => {
    fs.rmSync(path.join(project, "node_modules"), { recursive: true });
    const { status, out } = cordon(project, "install");
    assert.equal(status, 0, out);
    assert.match(out, SANDBOXED);
    assertBuilt(project, out);
  });

  test("its build output deleted by hand: built again", () => {
    fs.rmSync(path.join(project, "node_modules/cpu-features/build"), { recursive: true });
    const { status, out } = cordon(project, "install");
    assert.equal(status, 0, out);
    assert.match(out, SANDBOXED);
    assertBuilt(project, out);
  });

  test("a fresh clone with .cordon/ committed: built", () => {
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
      // Start from a project that was never installed, so the build runs.
      for (const entry of ["node_modules", ".cordon"]) fs.rmSync(path.join(project, entry), { recursive: true, force: true });
      const cut = await cordonInterrupted(project, [command], BUILDING, signal);
      assert.ok(cut.sent, `the build finished before it could be interrupted:\n${cut.out}`);
      if (signal === "SIGINT") {
        assert.equal(cut.status, 130, cut.out);
        assert.match(cut.out, new RegExp(`Run cordon ${command} again to finish`));
      }
      const rerun = cordon(project, command);
      assert.equal(rerun.status, 0, rerun.out);
      assert.match(rerun.out, SANDBOXED);
      assertBuilt(project, rerun.out);
      assert.equal(fs.existsSync(path.join(project, BUILDING)), false, "node-gyp's half-finished output is still there");
    });
  }
});
