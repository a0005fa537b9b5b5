import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_SCRIPT_FAILED } from "../../src/install/errors.js";
import { LocalRegistry } from "../helpers/local-registry.js";
import { cordonAsync, publishPackage } from "./packed.js";

/**
 * An approved install script that plants a `.git` with `core.fsmonitor` (and
 * an `.envrc`) in its own package folder: the next `git status` or `cd`
 * there would run it on the host, outside any sandbox. cordon fails the
 * script and names the files. Through the real npm, a package packed by the
 * test and served by a loopback registry.
 */
describe("an install script that plants files that run code later", () => {
  let root: string;
  let project: string;
  let registry: LocalRegistry;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-planted-"));
    project = path.join(root, "project");
    fs.mkdirSync(project);
    registry = await new LocalRegistry().start();
    publishPackage(registry, root, { name: "hook-planter", version: "1.0.0", scripts: { postinstall: "node plant.js" } }, {
      "plant.js": [
        'const fs = require("fs");',
        'fs.mkdirSync("lib/.git/hooks", { recursive: true });',
        'fs.writeFileSync("lib/.git/HEAD", "ref: refs/heads/main\\n");',
        'fs.writeFileSync("lib/.git/config", "[core]\\n\\tfsmonitor = touch /tmp/cordon-planted-ran\\n");',
        'fs.writeFileSync(".envrc", "touch /tmp/cordon-planted-ran\\n");',
        "",
      ].join("\n"),
    });
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({
      name: "app", version: "1.0.0", private: true, dependencies: { "hook-planter": "1.0.0" }, allowScripts: { "hook-planter": true },
    }));
    fs.writeFileSync(path.join(project, ".npmrc"), `registry=${registry.url}\n`);
  });
  after(() => {
    registry?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("the script fails and every planted file is named", async () => {
    const { status, out } = await cordonAsync(project, ["install"]);
    assert.equal(status, EXIT_SCRIPT_FAILED, out);
    assert.match(out, /hook-planter.*postinstall failed: it planted files that run code later/);
    for (const planted of ["created .envrc", "created lib/.git/config", "created lib/.git/HEAD"]) assert.ok(out.includes(planted), `${planted} not named:\n${out}`);
  });
});
