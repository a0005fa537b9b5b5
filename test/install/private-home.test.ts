import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { homeWritesAdvice } from "../../src/install/install.js";
import type { ScriptedPackage } from "../../src/install/inventory.js";
import type { LifecycleScript } from "../../src/install/lifecycle-script.js";
import { takeHomeReport } from "../../src/install/private-home.js";
import { LocalRegistry } from "../helpers/local-registry.js";
import { CLI } from "./real-npm.js";

/**
 * An install script that writes into its home (as puppeteer does with
 * ~/.cache/puppeteer) writes into the sandbox's private home, which goes with
 * the sandbox. cordon says so, with the grant that keeps it; with that grant
 * the file lands in the user's folder. Through the real npm, with a package
 * packed by the test; HOME is a temporary folder, never the real one.
 */
describe("files an install script writes into its home", () => {
  let root: string;
  let home: string;
  let project: string;
  let registry: LocalRegistry;

  const cordon = (...args: string[]): Promise<{ status: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: project, env: { ...process.env, HOME: home }, timeout: 120_000 });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d));
      child.stderr.on("data", (d: Buffer) => (out += d));
      child.on("close", (status) => resolve({ status, out }));
    });

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-home-writes-"));
    home = path.join(root, "home");
    project = path.join(root, "project");
    fs.mkdirSync(home);
    fs.mkdirSync(project);
    registry = await new LocalRegistry().start();
    const dir = path.join(root, "src");
    fs.mkdirSync(dir);
    const manifest = { name: "home-writer", version: "1.0.0", scripts: { postinstall: "node install.js" } };
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest));
    fs.writeFileSync(path.join(dir, "install.js"), [
      'const fs = require("fs"), path = require("path"), os = require("os");',
      'const cache = path.join(os.homedir(), ".cache", "home-writer");',
      "fs.mkdirSync(cache, { recursive: true });",
      'fs.writeFileSync(path.join(cache, "blob"), Buffer.alloc(2 * 1024 * 1024, 1));',
      "",
    ].join("\n"));
    const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--json"], { cwd: dir, encoding: "utf8" });
    assert.equal(packed.status, 0, packed.stderr);
    registry.publish(path.join(root, (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename), manifest);
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({
      name: "app", version: "1.0.0", private: true, dependencies: { "home-writer": "1.0.0" }, allowScripts: { "home-writer": true },
    }));
    fs.writeFileSync(path.join(project, ".npmrc"), `registry=${registry.url}\n`);
  });
  after(() => {
    registry?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("what it wrote there is reported as discarded, with the grant that keeps it", async () => {
    const { status, out } = await cordon("install");
    assert.equal(status, 0, out);
    assert.match(out, /home-writer@1\.0\.0 postinstall wrote 2\.0 MB to ~\/\.cache\/home-writer in its private home, discarded with its sandbox/);
    assert.match(out, /mkdir -p ~\/\.cache\/home-writer && cordon approve home-writer --allow-write=~\/\.cache\/home-writer/);
    assert.equal(fs.existsSync(path.join(home, ".cache/home-writer")), false);
  });

  test("with that grant (node_modules as it was), the script runs again, the file lands in the user's folder and nothing is reported", async () => {
    fs.mkdirSync(path.join(home, ".cache/home-writer"), { recursive: true });
    const approve = await cordon("approve", "home-writer", "--allow-write=~/.cache/home-writer");
    assert.equal(approve.status, 0, approve.out);
    // node_modules left as it is: the changed grant makes the finished build stale, so the script runs again.
    const { status, out } = await cordon("install");
    assert.equal(status, 0, out);
    assert.doesNotMatch(out, /already built/);
    assert.match(out, /home-writer@1\.0\.0 postinstall \(sandboxed\)/);
    assert.doesNotMatch(out, /discarded/);
    assert.equal(fs.statSync(path.join(home, ".cache/home-writer/blob")).size, 2 * 1024 * 1024);
  });
});

test("a home folder named like a shell command is reported, never put in a command to copy; lines outside the home are ignored", () => {
  const marker = "cordon-home-0123456789abcdef";
  const stderr = [
    "gyp info ok",
    `${marker} 2048\t/home/sandbox/.cache/x;rm -rf ~`,
    `${marker} 4096\t/home/sandbox/.cache/tool`,
    `${marker} 999999\t/etc/passwd`,
    `${marker} 8\t/home/sandbox/.cache/tool/deeper`,
    "done",
  ].join("\n");
  const report = takeHomeReport(stderr, marker);
  assert.equal(report.stderr, "gyp info ok\ndone");
  assert.deepEqual(report.writes.map((w) => w.path), ["~/.cache/tool", "~/.cache/x;rm -rf ~"]);
  const pkg = { identity: { name: "tool", version: "1.0.0" } } as unknown as ScriptedPackage;
  const lines = homeWritesAdvice({ package: pkg, script: { event: "postinstall" } as LifecycleScript, discardedHomeWrites: report.writes });
  assert.match(lines[0]!, /cordon approve tool --allow-write=~\/\.cache\/tool$/);
  assert.match(lines[1]!, /wrote 2\.0 MB to ~\/\.cache\/x;rm -rf ~ in its private home, discarded with its sandbox\.$/);
});
