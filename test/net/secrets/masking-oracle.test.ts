import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BlockedDestinations } from "../../../src/net/events.js";
import { parseNetGrants } from "../../../src/policy/net-grant.js";
import { resolveSecrets, type ResolvedSecret } from "../../../src/net/secrets/resolve-secrets.js";
import { SecretSwap } from "../../../src/net/secrets/secret-swap.js";
import { secretsFromRecord } from "../../../src/net/secrets/secret-grant.js";

/** What a masking stream lets through right after one chunk, before the next arrives. */
async function releasedAfter(swap: SecretSwap, chunk: string): Promise<number> {
  const stream = swap.maskStream();
  let released = 0;
  stream.on("data", (data: Buffer) => (released += data.length));
  stream.write(Buffer.from(chunk));
  await new Promise((resolve) => setImmediate(resolve));
  return released;
}

/**
 * Attacks found by an independent pass on the secrets layer: each one that
 * a sandbox could mount through a bound host that echoes its input.
 */
describe("attack: reading a secret back through the masking", () => {
  const value = "sk-REALSECRET-0123456789abcdef";
  const secret: ResolvedSecret = { name: "TOKEN", value, placeholder: "CORDON_SECRET_0123456789abcdef0123456789abcdef", hosts: ["api.test"] };
  const swap = new SecretSwap([secret], [secret], () => {});

  test("when echoed bytes come back does not depend on whether they start the secret (no prefix oracle)", async () => {
    // A guess that is a prefix of the real value, and one that is not, of the same length.
    const prefixGuess = await releasedAfter(swap, `|${"x".repeat(40)}|sk-REALSEC`);
    const otherGuess = await releasedAfter(swap, `|${"x".repeat(40)}|sk-REALSEX`);
    assert.equal(prefixGuess, otherGuess, "the masking released a different number of bytes for a prefix of the secret");
  });

  test("a secret outside printable ASCII is refused (headers and URLs carry latin1, bodies UTF-8: two spellings, one unmasked)", () => {
    const grants = secretsFromRecord({ TOKEN: { value: "pässwörd-Ünïcode-42", hosts: ["api.test"] } });
    assert.throws(() => resolveSecrets(grants, {}, parseNetGrants(["api.test"])), /outside printable ASCII/);
  });

  test("a flood of made-up blocked destinations does not grow cordon without bound", () => {
    const blocked = new BlockedDestinations();
    const lines: string[] = [];
    for (let i = 0; i < 5_000; i += 1) {
      const line = blocked.report({ type: "blocked", host: `n${i}-${"a".repeat(180)}.example`, port: 443, reason: "not granted", grantHint: `--allow-net=n${i}.example` } as never);
      if (line) lines.push(line);
    }
    assert.ok(blocked.destinations.length <= BlockedDestinations.MAX_DISTINCT, `${blocked.destinations.length} destinations kept`);
    assert.equal(lines.filter((l) => /more than .* distinct destinations/.test(l)).length, 1);
  });
});
