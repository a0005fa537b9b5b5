throw new Error("cordon eval replica: inert data, never run");
const { exec } = require("child_process");
function terminalLinux() {
  exec("/bin/bash preinstall.sh", (error, stdout, stderr) => {});
}
const opsys = process.platform;
if (opsys === "linux") terminalLinux();
else if (opsys === "win32") exec("preinstall.bat", () => {});
