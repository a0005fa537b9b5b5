import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_INSTALL_REFUSED } from "../../src/install/errors.js";
import { LocalRegistry } from "../helpers/local-registry.js";
import { cordonAsync, publishPackage } from "./packed.js";

/** From a workspace package's folder, every policy command works on the workspace root, as install does. */
describe("policy commands from a workspace folder", () => {
  let root: string;
  let mono: string;
  let api: string;
  let registry: LocalRegistry;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-ws-"));
    registry = await new LocalRegistry().start();
    publishPackage(registry, root, { name: "ws-build", version: "1.0.0", scripts: { postinstall: "node build.js" } }, {
      "build.js": 'require("fs").writeFileSync(require("path").join(__dirname, "built.txt"), "ok");\n',
    });
    mono = path.join(root, "mono");
    api = path.join(mono, "packages", "api");
    fs.mkdirSync(api, { recursive: true });
    fs.writeFileSync(path.join(mono, "package.json"), JSON.stringify({ name: "mono", version: "1.0.0", private: true, workspaces: ["packages/*"] }));
    fs.writeFileSync(path.join(api, "package.json"), JSON.stringify({ name: "api", version: "1.0.0", dependencies: { "ws-build": "1.0.0" } }));
    fs.writeFileSync(path.join(mono, ".npmrc"), `registry=${registry.url}\n`);
  });
  after(() => {
    registry?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("install --skip-unknown lists the skipped scripts; approve, deny, policy ls and audit find the workspace root; their user errors exit 2", async () => {
    const install = await cordonAsync(api, ["install", "--skip-unknown"]);
    assert.equal(install.status, 0, install.out);
    assert.match(install.out, /install scripts did not run \(skipped, not in the policy\); the tree may not work/);
    assert.match(install.out, /^\s+ws-build@1\.0\.0\s+postinstall: node build\.js$/m);
    assert.doesNotMatch(install.out, /✔ done/);
    const approve = await cordonAsync(api, ["approve", "ws-build"]);
    assert.equal(approve.status, 0, approve.out);
    const manifest = JSON.parse(fs.readFileSync(path.join(mono, "package.json"), "utf8")) as { allowScripts?: Record<string, boolean> };
    assert.deepEqual(Object.values(manifest.allowScripts ?? {}), [true], "the root's package.json holds the decision");
    assert.ok(!fs.existsSync(path.join(api, ".cordon", "policy.json")));
    const listing = await cordonAsync(api, ["policy", "ls"]);
    assert.equal(listing.status, 0, listing.out);
    assert.match(listing.out, /ws-build@1\.0\.0\s+approved\s+pinned/);
    const audit = await cordonAsync(api, ["audit"]);
    assert.match(audit.out, /policy\s+approve ws-build/);
    const deny = await cordonAsync(api, ["deny", "ws-build"]);
    assert.equal(deny.status, 0, deny.out);
    assert.match((await cordonAsync(api, ["policy", "ls"])).out, /ws-build@1\.0\.0\s+denied/);
    const wrong = await cordonAsync(api, ["approve", "no-such-package"]);
    assert.equal(wrong.status, EXIT_INSTALL_REFUSED, wrong.out);
  });
});
