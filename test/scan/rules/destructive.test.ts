import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifest, ofRule, ruleTable, scanFiles } from "../helpers.js";

ruleTable("destructive", {
  fail: [
    { name: "rm -rf of the home folder from code", code: "require('child_process').execSync('rm -rf ~/*');", atLeast: "high" },
    { name: "rm -rf / at install time", code: "require('child_process').exec('sudo rm -rf --no-preserve-root /');", installTime: true, atLeast: "critical" },
    { name: "fs.rmSync of os.homedir()", code: "const fs = require('fs'); const os = require('os'); fs.rmSync(os.homedir(), { recursive: true, force: true });", atLeast: "high" },
    { name: "shutdown in a batch file", shellScript: true, code: "@echo off\r\nshutdown /s /t 0\r\n", atLeast: "high" },
    { name: "fork bomb in a shell script", shellScript: true, code: ":(){ :|:& };:\n", atLeast: "high" },
    { name: "a shell script writing into /etc at install time", shellScript: true, installTime: true, code: "echo '* * * * * root sh /tmp/x' >> /etc/crontab\n", atLeast: "critical" },
  ],
  pass: [
    { name: "a clean step", code: "require('child_process').execSync('rm -rf ./dist build/*');" },
    { name: "rimraf of a build folder", code: "const rimraf = require('rimraf'); rimraf.sync('build'); const os = require('os');" },
    { name: "removing the tool's own cache in the home folder", code: "const fs = require('fs'); const os = require('os'); const path = require('path'); fs.rmSync(path.join(os.homedir(), '.cache', 'tool'), { recursive: true });" },
    { name: "a message that mentions shutdown", code: "const { exec } = require('child_process'); console.log('server shutdown complete'); exec('git status');" },
    { name: "a shell script writing into its own folder", shellScript: true, code: "echo ok > ./etc/out.txt\nrm -rf ./tmp\n" },
  ],
});

describe("rule destructive (package.json scripts)", () => {
  it("flags sudo rm -rf /* in any script, even test", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { test: "sudo rm -rf /*" } }) });
    assert.equal(ofRule(report.findings, "destructive", "critical").length, 1);
    assert.equal(report.verdict, "malicious");
  });
  it("flags shutdown in preinstall", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { preinstall: "say hello; shutdown -s now" } }) });
    assert.equal(report.verdict, "malicious");
  });
  it("flags a postinstall writing into /etc", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { postinstall: "echo x > '/etc/cron.d/job'" } }) });
    assert.equal(report.verdict, "malicious");
  });
  it("does not flag clean scripts", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { clean: "rm -rf dist coverage", prepublishOnly: "rm -rf lib && tsc" } }) });
    assert.deepEqual(ofRule(report.findings, "destructive"), []);
  });
});
