import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { INSTALL_STATE_FILE, InstallState } from "../../src/install/install-state.js";
import { tempDir } from "./fixture.js";

/** The record of finished install scripts, on a real folder tree (no npm: the rerun tests drive npm). */
async function treeWith(...packages: string[]): Promise<string> {
  const dir = await tempDir("cordon-state-");
  for (const location of packages) {
    fs.mkdirSync(path.join(dir, location), { recursive: true });
    fs.writeFileSync(path.join(dir, location, "package.json"), "{}");
  }
  return dir;
}

test("cut off between a package's two scripts: the next run sets its folder aside, even though one finished", async () => {
  const dir = await treeWith("node_modules/two-step");
  const state = InstallState.open(dir);
  await state.markRunning("node_modules/two-step", "tarball code");
  await state.markFinished("node_modules/two-step", "tarball code", "preinstall", false);
  // (killed here, before install ran)
  const rerun = InstallState.open(dir);
  assert.equal(rerun.finishedEvents("node_modules/two-step", "tarball code").size, 0);
  assert.deepEqual(await rerun.discardUnfinished(), ["node_modules/two-step"]);
  assert.equal(fs.existsSync(path.join(dir, "node_modules/two-step")), false);
});

test("done only while the folder holds what the scripts left", async () => {
  const dir = await treeWith("node_modules/@scope/built");
  const state = InstallState.open(dir);
  await state.markRunning("node_modules/@scope/built", "t c");
  await state.markFinished("node_modules/@scope/built", "t c", "install", true);
  assert.deepEqual([...InstallState.open(dir).finishedEvents("node_modules/@scope/built", "t c")], ["install"]);
  assert.equal(InstallState.open(dir).finishedEvents("node_modules/@scope/built", "another tarball").size, 0);
  fs.writeFileSync(path.join(dir, "node_modules/@scope/built/build.node"), "");
  assert.equal(InstallState.open(dir).finishedEvents("node_modules/@scope/built", "t c").size, 0);
  assert.deepEqual(await InstallState.open(dir).discardUnfinished(), [], "a finished package is never removed");
});

test("a record naming a folder outside node_modules, or reached through a link, never removes it", async () => {
  const dir = await treeWith("src", "node_modules/real", "outside/node_modules/victim");
  fs.symlinkSync(path.join(dir, "outside/node_modules"), path.join(dir, "node_modules/linked"));
  const packages = Object.fromEntries(["../outside/node_modules/victim", "src", "node_modules/linked/victim", "node_modules/real/../../src"].map((l) => [l, { built: "x", events: [] }]));
  fs.writeFileSync(path.join(dir, INSTALL_STATE_FILE), JSON.stringify({ v: 2, packages }));
  assert.deepEqual(await InstallState.open(dir).discardUnfinished(), []);
  for (const kept of ["src", "outside/node_modules/victim", "node_modules/real"]) assert.ok(fs.existsSync(path.join(dir, kept)), kept);
});
