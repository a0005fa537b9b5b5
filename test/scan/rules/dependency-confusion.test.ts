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
});
