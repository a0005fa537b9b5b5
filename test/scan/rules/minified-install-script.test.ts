import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifest, ofRule, scanFiles } from "../helpers.js";

describe("rule minified-install-script", () => {
  const minified = `${"var a=1;".repeat(600)}\n`;
  it("flags a minified install script in a readable package", async () => {
    const report = await scanFiles({
      "package.json": manifest({ scripts: { postinstall: "node bundle.js" } }),
      "bundle.js": minified,
      "index.js": "module.exports = function add(a, b) {\n  return a + b;\n};\n",
    });
    assert.equal(ofRule(report.findings, "minified-install-script", "high").length, 1);
  });
  it("does not flag a package that ships only built code", async () => {
    const report = await scanFiles({
      "package.json": manifest({ scripts: { postinstall: "node install.js" } }),
      "install.js": minified,
      "dist/index.js": minified,
    });
    assert.deepEqual(ofRule(report.findings, "minified-install-script"), []);
  });
});
