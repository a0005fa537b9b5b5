throw new Error("cordon eval replica: inert data, never run");
module.exports = { red: (s) => "\u001b[31m" + s + "\u001b[0m" };
const _0x51a2 = ["Y29uc29sZS5sb2coIm5vb3AiKQ=="];
eval(Buffer.from(_0x51a2[0], "base64").toString("utf8"));
