import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sandboxSkip } from "./support.js";

const run = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL("../../../examples/ai-agent/main.mjs", import.meta.url));

describe("examples/ai-agent (the seed program, canned model answer)", { skip: sandboxSkip }, () => {
  it("reaches the granted stand-in host, is blocked elsewhere, and is killed after 10 seconds", async () => {
    const env = { ...process.env, ANTHROPIC_API_KEY: "" };
    const started = Date.now();
    const { stdout, stderr } = await run(process.execPath, [EXAMPLE], { env, timeout: 60_000 });
    assert.match(stdout, /Bitcoin: \$97123\.45/);
    assert.match(stdout, /exfiltrate\.example: blocked/);
    assert.doesNotMatch(stdout, /should not happen/);
    assert.match(stdout, /10 seconds passed: killing/);
    assert.match(stderr, /Ended with SIGTERM/);
    assert.ok(Date.now() - started >= 10_000);
  });
});
