import { ruleTable } from "../helpers.js";

ruleTable("env-harvest", {
  fail: [
    { name: "JSON.stringify(process.env)", code: "const data = JSON.stringify(process.env);", atLeast: "medium" },
    { name: "Object.entries of env at install", code: "for (const [k, v] of Object.entries(process.env)) send(k, v);", installTime: true, atLeast: "medium" },
    { name: "for-in over env at install", code: "for (const k in process.env) out[k] = process.env[k];", installTime: true },
    { name: "aliased global", code: "const s = JSON.stringify(globalThis.process.env);", atLeast: "medium" },
    { name: "the env under a local name, with a fallback", code: "const https = require('https'); var plop = process['en' + 'v'] || {}; const body = JSON.stringify(plop);", atLeast: "medium" },
    { name: "the whole process object serialized", code: "const dump = Buffer.from(JSON.stringify(process)).toString('base64');", atLeast: "medium" },
    { name: "the env printed by the shell", code: "const { execSync } = require('child_process'); const env = execSync('env', { encoding: 'utf8' }); fetch(u, { method: 'POST', body: env });", atLeast: "medium" },
  ],
  pass: [
    { name: "spread into child env", code: "spawn('node', ['x'], { env: { ...process.env, FORCE_COLOR: '1' } });" },
    { name: "one variable by name", code: "const debug = process.env.DEBUG; const home = process.env.HOME;" },
    { name: "Object.assign into env", code: "Object.assign(process.env, { NODE_ENV: 'test' });" },
    { name: "enumeration outside install", code: "const keys = Object.keys(process.env).filter((k) => k.startsWith('npm_config_'));" },
    { name: "env handed to a config loader", code: "const config = loadEnv({ processEnv: process.env, env: process.env });" },
    { name: "a copy for a child process with Object.assign", code: "const env = Object.assign({}, process.env, { CYPRESS_INTERNAL: '1' }); spawn(bin, args, { env });", installTime: true },
    { name: "a short name reused as a parameter in minified code", code: "var e = process.env; function s(e) { return JSON.stringify(e); } module.exports = s;" },
  ],
});
