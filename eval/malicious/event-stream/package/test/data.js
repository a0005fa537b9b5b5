throw new Error("cordon eval replica: inert data, never run");
module.exports = ["00aa", "00bb"];
