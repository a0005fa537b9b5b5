import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cordon, registryUnreachable } from "./real-npm.js";

const FIXTURES = path.resolve("test/install/fixtures");

const unreachable = registryUnreachable();
if (unreachable) process.stderr.write(`SKIPPING real-package install tests: ${unreachable}\n`);

function copyFixture(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cordon-${name}-`));
  fs.cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

describe("cordon ci with real packages that run code at install time", { skip: unreachable }, () => {
  let project: string;
  before(() => {
    project = copyFixture("real-packages");
    const manifest = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")) as Record<string, unknown>;
    manifest.allowScripts = Object.fromEntries(
      ["@swc/core", "bcrypt", "better-sqlite3", "bufferutil", "core-js", "cpu-features", "es5-ext", "esbuild", "protobufjs", "ssh2"].map((n) => [n, true]),
    );
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify(manifest, null, 2));
  });
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  test("approved scripts run sandboxed, and every native module loads and works", () => {
    const { status, out } = cordon(project, "ci");
    assert.equal(status, 0, out);
    assert.match(out, /10 packages want to run code at install time/);
    const check = spawnSync(process.execPath, ["-e", `
      const Database = require("better-sqlite3"); const db = new Database(":memory:");
      db.exec("create table t(x)"); db.prepare("insert into t values (?)").run(42);
      const bcrypt = require("bcrypt");
      const bu = require("bufferutil"); const b = Buffer.from("abcd"); bu.mask(b, Buffer.from([1, 2, 3, 4]), b, 0, 4);
      const cf = require("cpu-features")();
      console.log(JSON.stringify({
        sqlite: db.prepare("select x from t").get().x,
        bcrypt: bcrypt.compareSync("pw", bcrypt.hashSync("pw", 4)),
        bufferutil: b.toString("hex"),
        esbuild: require("esbuild").transformSync("let x: number = 1", { loader: "ts" }).code.trim(),
        swc: require("@swc/core").transformSync("const a: number = 1", { jsc: { parser: { syntax: "typescript" } } }).code.trim(),
        cpu: typeof cf.arch,
        ssh2: typeof require("ssh2").Client,
        protobufjs: typeof require("protobufjs").Root,
      }));`], { cwd: project, encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
    assert.deepEqual(JSON.parse(check.stdout), {
      sqlite: 42, bcrypt: true, bufferutil: "60606060", esbuild: "let x = 1;", swc: "var a = 1;", cpu: "string", ssh2: "function", protobufjs: "function",
    });
    // better-sqlite3 tried its prebuilt download first; the sandbox refused it and it built from source.
    const audit = fs.readFileSync(path.join(project, ".cordon/audit.jsonl"), "utf8");
    assert.match(audit, /"type":"net","package":"better-sqlite3@12\.4\.1","action":"blocked"/);
    // It fell back to building from source and succeeded: no advice to widen its sandbox.
    assert.match(out, /better-sqlite3@12\.4\.1 install tried [^\n]* \(not granted, blocked\) and succeeded without it/);
    assert.doesNotMatch(out, /cordon approve better-sqlite3 --allow-net/);
  });

  test("a rerun finds every script done and runs none again", () => {
    const { status, out } = cordon(project, "install");
    assert.equal(status, 0, out);
    assert.doesNotMatch(out, /\(sandboxed\)/);
  });
});

describe("puppeteer: its browser download is blocked, and cordon says how to grant or skip it", { skip: unreachable }, () => {
  let project: string;
  before(() => {
    project = copyFixture("puppeteer");
  });
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  test("blocked, explained, and nothing lands in the host's cache", () => {
    const hostCache = path.join(os.homedir(), ".cache", "puppeteer");
    const hadCache = fs.existsSync(hostCache);
    const { status, out } = cordon(project, "ci");
    assert.equal(status, 0, out);
    assert.match(out, /puppeteer@[\d.]+ postinstall tried to reach storage\.googleapis\.com:443.*\(blocked\)/);
    assert.match(out, /cordon approve puppeteer --allow-net=storage\.googleapis\.com/);
    assert.match(out, /cordon deny puppeteer/);
    assert.equal(fs.existsSync(hostCache), hadCache, "a browser cache appeared in the real home");
  });
});
