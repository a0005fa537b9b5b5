import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

const CLI = path.resolve("dist/src/cli/main.js");

/** A variable the policy grants by name reaches the script; tokens in cordon's own environment never do. */
describe("install scripts and the host environment", () => {
  let root: string;
  let project: string;
  const cordon = (env: NodeJS.ProcessEnv, ...args: string[]) => {
    const result = spawnSync(process.execPath, [CLI, ...args], { cwd: project, encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
    return { status: result.status, out: `${result.stdout}${result.stderr}` };
  };
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-envgrant-"));
    const src = path.join(root, "src");
    fs.mkdirSync(src);
    // Also tries to plant a gyp file in node-gyp's shared header cache, which every later build would read.
    const record = "const fs = require('fs'); let poisoned = 'no'; try { fs.writeFileSync(process.env.npm_config_devdir + '/cordon-poison.gypi', '{}'); poisoned = process.env.npm_config_devdir; } catch (e) {} fs.writeFileSync('seen.json', JSON.stringify({ flag: process.env.BUILD_FLAG ?? null, token: process.env.NPM_TOKEN ?? null, gh: process.env.GITHUB_TOKEN ?? null, poisoned })); require('net').connect(443, '1.1.1.1').on('error', () => {})";
    fs.writeFileSync(path.join(src, "package.json"), JSON.stringify({ name: "needs-flag", version: "1.0.0", scripts: { postinstall: `node -e "${record}"` } }));
    const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--json"], { cwd: src, encoding: "utf8" });
    const tarball = (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename;
    project = path.join(root, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies: { "needs-flag": `file:../${tarball}` } }));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test("a granted name passes, credentials do not, granting a credential name is refused, the node-gyp cache stays clean", () => {
    assert.equal(cordon({}, "install", "--skip-unknown").status, 0);
    const refused = cordon({}, "approve", "needs-flag", "--allow-env=NPM_TOKEN");
    assert.notEqual(refused.status, 0, refused.out);
    assert.match(refused.out, /NPM_TOKEN/);
    assert.equal(cordon({}, "approve", "needs-flag", "--allow-env=BUILD_FLAG").status, 0);
    const { status, out } = cordon({ BUILD_FLAG: "on", NPM_TOKEN: "npm_hostToken", GITHUB_TOKEN: "ghp_hostToken" }, "install");
    assert.equal(status, 0, out);
    const seen = JSON.parse(fs.readFileSync(path.join(project, "node_modules/needs-flag/seen.json"), "utf8")) as Record<string, string | null>;
    assert.deepEqual({ ...seen, poisoned: undefined }, { flag: "on", token: null, gh: null, poisoned: undefined });
    // The shared cache is read-only (or, absent, a private one): nothing lands in the host's.
    assert.ok(!fs.existsSync(path.join(os.homedir(), ".cache/node-gyp/cordon-poison.gypi")), "the shared node-gyp cache was written");
    assert.ok(seen.poisoned === "no" || !String(seen.poisoned).startsWith(os.homedir()), JSON.stringify(seen));
    // Its direct connection (around the proxy) failed, and is said and audited.
    assert.match(out, /tried 1 time\(s\) to reach the network directly/);
    assert.match(fs.readFileSync(path.join(project, ".cordon/audit.jsonl"), "utf8"), /"type":"net-bypass","package":"needs-flag@1\.0\.0","attempts":1/);
  });
});
