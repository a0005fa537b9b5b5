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
});
