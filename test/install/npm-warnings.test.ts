import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { LocalRegistry } from "../helpers/local-registry.js";
import { cordonAsync, publishPackage } from "./packed.js";

/**
 * npm's warnings reach the user when npm succeeds: a typo in a flag
 * (`--save-dve`) is an "Unknown cli config" warning from npm, and cordon
 * would otherwise end in a silent "done".
 */
describe("npm's own warnings", () => {
  let root: string;
  let project: string;
  let registry: LocalRegistry;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-npm-warn-"));
    project = path.join(root, "project");
    fs.mkdirSync(project);
    registry = await new LocalRegistry().start();
    publishPackage(registry, root, { name: "plain-lib", version: "1.0.0" }, { "index.js": "module.exports = 1;\n" });
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
    fs.writeFileSync(path.join(project, ".npmrc"), `registry=${registry.url}\n`);
  });
  after(() => {
    registry?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("a mistyped flag that npm warns about is shown, not swallowed", async () => {
    const { status, out } = await cordonAsync(project, ["install", "--save-dve", "plain-lib"]);
    assert.equal(status, 0, out);
    assert.match(out, /npm: npm warn.*save-dve/i);
  });
});
