import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInstallScripts } from "../../src/install/check.js";
import { tempDir } from "./fixture.js";
import { makeSyntheticTree } from "./synthetic-tree.js";

test("inventory and policy check of a 1,000-package tree takes well under a second", async () => {
  const dir = await tempDir();
  const { scripted } = await makeSyntheticTree(dir, 1000);
  await checkInstallScripts(dir); // warm the page cache, as a second `cordon install` would be
  const started = performance.now();
  const check = await checkInstallScripts(dir);
  const elapsed = performance.now() - started;
  console.log(`# inventory + policy check, 1,000 packages: ${elapsed.toFixed(0)} ms`);
  assert.equal(check.inventory.packageCount, 1000);
  assert.equal(check.decisions.length, scripted);
  assert.ok(check.decisions.every((d) => d.kind === "unknown"));
  assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms`);
});
