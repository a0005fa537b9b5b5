import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";

/**
 * The boundaries lint cannot say. The import boundaries (processes spawned
 * only where that is the module's job, TLS only in the network layer, the
 * engine and the network layer apart, policy importing no filesystem) are
 * lint rules: .oxlintrc.json, `npm run lint`.
 */
const SRC = path.resolve("src");

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.(c|m)?ts$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

const files = sources(SRC).map((file) => ({ file: path.relative(SRC, file), text: fs.readFileSync(file, "utf8") }));
test("policy code is pure: no process environment", () => {
  const offenders = files.filter((f) => f.file.startsWith("policy/") && /process\.env/.test(f.text));
  assert.deepEqual(offenders.map((f) => f.file), []);
});

test("the library emits; only the CLI exits the process", () => {
  const offenders = files.filter((f) => !f.file.startsWith("cli/") && /process\.exit\(/.test(f.text) && !f.file.startsWith("net/inside/") && !f.file.includes("/helpers/") && !f.file.includes("/worker/"));
  assert.deepEqual(offenders.map((f) => f.file), []);
});
