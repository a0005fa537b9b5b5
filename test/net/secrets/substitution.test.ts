import assert from "node:assert/strict";
import { test } from "node:test";
import { ReplacingStream, replaceInBuffer, type Replacement } from "../../../src/net/secrets/substitution.js";
import { parseSecretFlag, secretsFromRecord } from "../../../src/net/secrets/secret-grant.js";

function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

async function throughStream(chunks: Buffer[], replacements: Replacement[]): Promise<Buffer> {
  const stream = new ReplacingStream(replacements);
  const out: Buffer[] = [];
  stream.on("data", (c: Buffer) => out.push(c));
  const finished = new Promise((resolve) => stream.on("end", resolve));
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await finished;
  return Buffer.concat(out);
}

const placeholder = "CORDON_SECRET_3f9a0c1d7e5b2a46";
const replacements: Replacement[] = [
  { from: Buffer.from(placeholder), to: Buffer.from("sk-real-value-that-is-longer-than-the-placeholder") },
  { from: Buffer.from("CORDON_SECRET_aaaaaaaaaaaaaaaa"), to: Buffer.from("x") },
];

test("property: any chunking of a stream gives the same output as replacing it whole", async () => {
  const random = rng(7);
  const alphabet = ["a", "C", "CORDON_", "CORDON_SECRET_", placeholder, "CORDON_SECRET_aaaaaaaaaaaaaaaa", "\n", "CORDON_SECRET_3f9a"];
  for (let round = 0; round < 300; round += 1) {
    const text = Array.from({ length: 1 + Math.floor(random() * 30) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    const whole = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let at = 0; at < whole.length; ) {
      const size = 1 + Math.floor(random() * 12);
      chunks.push(whole.subarray(at, at + size));
      at += size;
    }
    const expected = replaceInBuffer(whole, replacements).output;
    assert.equal((await throughStream(chunks, replacements)).toString(), expected.toString(), JSON.stringify(text));
  }
});

test("a placeholder split across two chunks is still replaced", async () => {
  const out = await throughStream([Buffer.from(`{"key":"${placeholder.slice(0, 10)}`), Buffer.from(`${placeholder.slice(10)}"}`)], replacements);
  assert.equal(out.toString(), '{"key":"sk-real-value-that-is-longer-than-the-placeholder"}');
});

test("encoded placeholders are not touched (and so stay useless)", () => {
  const b64 = Buffer.from(placeholder).toString("base64");
  const hex = Buffer.from(placeholder).toString("hex");
  assert.equal(replaceInBuffer(Buffer.from(`${b64} ${hex}`), replacements).count, 0);
});

test("--secret forms and errors", () => {
  assert.deepEqual(parseSecretFlag("GH_TOKEN@api.github.com,Uploads.GitHub.com"), {
    name: "GH_TOKEN", source: { kind: "env", variable: "GH_TOKEN" }, hosts: ["api.github.com", "uploads.github.com"],
  });
  assert.deepEqual(parseSecretFlag("KEY=@/run/keys/k.txt@api.example.com"), {
    name: "KEY", source: { kind: "file", path: "/run/keys/k.txt" }, hosts: ["api.example.com"],
  });
  for (const [bad, rule] of [["KEY", /NAME@hosts/], ["KEY@", /NAME@hosts/], ["KEY@*.example.com", /wildcard/], ["1KEY@a.com", /not a variable name/], ["KEY@a.com,,b.com", /empty host/]] as const) {
    assert.throws(() => parseSecretFlag(bad), rule, bad);
  }
  assert.throws(() => secretsFromRecord({ K: { value: "", hosts: ["a.com"] } }), /value is missing or empty/);
});

test("the sandbox CA signs only for its secrets' hosts, and says so in a critical name constraint", async () => {
  const { SandboxCertificateAuthority } = await import("../../../src/net/tls/certificate-authority.js");
  const x509 = await import("@peculiar/x509");
  const ca = await SandboxCertificateAuthority.create(["api.example.com"]);
  await assert.rejects(ca.contextFor("evil.example.com"), /does not sign for evil\.example\.com/);
  const parsed = new x509.X509Certificate(ca.certificatePem);
  const constraint = parsed.getExtension("2.5.29.30");
  assert.ok(constraint, "no name constraints extension");
  assert.equal(constraint.critical, true);
  assert.ok(Buffer.from(constraint.value).includes(Buffer.from("api.example.com")));
  assert.ok(parsed.getExtension(x509.BasicConstraintsExtension)?.ca);
  assert.equal(parsed.publicKey.algorithm.name, "ECDSA");
});
