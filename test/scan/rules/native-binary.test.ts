import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifest, ofRule, scanFiles } from "../helpers.js";

describe("rule native-binary", () => {
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);
  it("lists a bundled ELF binary as info, and an install script running it as medium", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { postinstall: "./bin/helper" } }), "bin/helper": elf });
    assert.equal(ofRule(report.findings, "native-binary", "info").length, 2);
    assert.equal(ofRule(report.findings, "native-binary", "medium").length, 1);
  });
  it("does not take a JavaScript file that starts with MZ for a binary", async () => {
    const report = await scanFiles({ "package.json": manifest({}), "index.js": "MZ = 1; module.exports = MZ;" });
    assert.deepEqual(ofRule(report.findings, "native-binary"), []);
  });
  const pe = (() => {
    const bytes = Buffer.alloc(0x100);
    bytes.write("MZ", 0, "latin1");
    bytes.writeUInt32LE(0x80, 0x3c);
    bytes.write("PE\0\0", 0x80, "latin1");
    return bytes;
  })();
  it("flags install-time code starting a bundled Windows program as critical (a dropper)", async () => {
    const report = await scanFiles({ "package.json": manifest({ main: "lib.js", scripts: { postinstall: "node ." } }), "lib.js": "throw 0; require('child_process').exec('lib.exe');", "lib.exe": pe });
    assert.equal(ofRule(report.findings, "native-binary", "critical").length, 1, JSON.stringify(report.findings));
    assert.equal(report.verdict, "malicious");
  });
  it("flags an install command starting a bundled ELF as high", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { postinstall: "./bin/helper --setup" } }), "bin/helper": elf });
    assert.equal(ofRule(report.findings, "native-binary", "high").length, 1);
  });
  it("does not count a native addon an install script loads", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { install: "node check.js" } }), "check.js": "require('./build/Release/addon.node');", "build/Release/addon.node": elf });
    assert.deepEqual(ofRule(report.findings, "native-binary", "medium"), []);
  });
  it("lists a bundled program started at run time as medium only", async () => {
    const report = await scanFiles({ "package.json": manifest({}), "notify.js": "const { execFile } = require('child_process'); execFile(require('path').join(__dirname, 'vendor', 'toast.exe'), ['-m', msg]);", "vendor/toast.exe": pe });
    assert.equal(ofRule(report.findings, "native-binary", "medium").length, 1);
    assert.equal(report.verdict, "ok");
  });
});
