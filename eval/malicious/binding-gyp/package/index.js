throw new Error("cordon eval replica: inert data, never run");
module.exports = require("./build/Release/hash.node");
