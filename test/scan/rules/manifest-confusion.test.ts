import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifest, ofRule, scanFiles } from "../helpers.js";

describe("rule manifest-confusion", () => {
  it("flags an install script the registry manifest does not have", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { preinstall: "node x.js" } }), "x.js": "" }, { registry: { scripts: {} } });
    assert.equal(ofRule(report.findings, "manifest-confusion", "high").length, 1);
  });
  it("flags install scripts when the lockfile says there are none", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { install: "node x.js" } }), "x.js": "" }, { registry: { hasInstallScript: false } });
    assert.equal(ofRule(report.findings, "manifest-confusion", "high").length, 1);
  });
  it("is quiet when they agree", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { install: "node x.js", test: "tap" } }), "x.js": "" }, { registry: { scripts: { install: "node x.js" }, hasInstallScript: true } });
    assert.deepEqual(ofRule(report.findings, "manifest-confusion"), []);
  });
});
