import { ruleTable } from "../helpers.js";

ruleTable("detached-spawn", {
  fail: [
    { name: "detached with stdio ignore at install", code: "const { spawn } = require('child_process'); spawn('node', ['p.js'], { detached: true, stdio: 'ignore' }).unref();", installTime: true, atLeast: "high" },
    { name: "nohup in exec", code: "require('child_process').exec('nohup node payload.js > /dev/null 2>&1 &');", atLeast: "medium" },
  ],
  pass: [
    { name: "plain spawn with inherited stdio", code: "const { spawn } = require('child_process'); spawn('git', ['status'], { stdio: 'inherit' });" },
    { name: "detached is false", code: "const cp = require('child_process'); cp.spawn('tsc', ['-w'], { detached: false });" },
  ],
});
