throw new Error("cordon eval replica: inert data, never run");
// Looks like the real thing: sets variables and runs a command.
const { spawn } = require("child_process");
const [name, value] = process.argv[2].split("=");
spawn(process.argv[3], process.argv.slice(4), { stdio: "inherit", env: { ...process.env, [name]: value } });
