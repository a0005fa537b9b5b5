import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isOneEditAway, typosquatTarget } from "../../../src/scan/rules/typosquat.js";
import { manifest, ofRule, scanFiles } from "../helpers.js";

describe("rule typosquat", () => {
  it("recognizes one-edit neighbours of popular names", () => {
    assert.equal(typosquatTarget("lodahs"), "lodash");
    assert.equal(typosquatTarget("crossenv"), "cross-env");
    assert.equal(typosquatTarget("expresss"), "express");
  });
  it("trusts popular names and skips short and scoped ones", () => {
    assert.equal(typosquatTarget("lodash"), undefined);
    assert.equal(typosquatTarget("chalk"), undefined);
    assert.equal(typosquatTarget("ms2"), undefined);
    assert.equal(typosquatTarget("@acme/lodash"), undefined);
    assert.equal(typosquatTarget("completely-unrelated-name"), undefined);
    assert.equal(typosquatTarget("bcrypt"), undefined, "popular outside the top 3,000 targets: one edit from crypt, and real");
  });
  it("counts swaps as one edit", () => {
    assert.ok(isOneEditAway("axois", "axios"));
    assert.ok(!isOneEditAway("react", "react"));
  });
  it("weighs a typosquat with install scripts high", async () => {
    const report = await scanFiles({ "package.json": manifest({ name: "crossenv", scripts: { postinstall: "node setup.js" } }), "setup.js": "" });
    assert.equal(ofRule(report.findings, "typosquat", "high").length, 1);
  });
});
