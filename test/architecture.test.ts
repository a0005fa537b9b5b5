import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";

/**
 * The boundaries STYLE.md draws, checked on the import graph: processes are
 * spawned only where that is the module's job, TLS lives in the network
 * layer, and policy code is pure (no filesystem, no environment).
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
const imports = (text: string, module: string): boolean =>
  new RegExp(`(from|require\\()\\s*["']${module.replace("/", "\\/")}["']|import\\s*\\(\\s*["']${module}["']`).test(text) ||
  new RegExp(`import\\s+\\w+\\s*=\\s*require\\(\\s*["']${module}["']`).test(text);

test("node:child_process only where processes are spawned", () => {
  const allowed = [/^engine\//, /^install\/npm-client\.ts$/, /^net\/netns-attach\.ts$/, /^scan\/spec\.ts$/, /^sdk\//];
  const offenders = files.filter((f) => imports(f.text, "node:child_process") && !allowed.some((rule) => rule.test(f.file)));
  assert.deepEqual(offenders.map((f) => f.file), []);
});

test("TLS only in the network layer", () => {
  const offenders = files.filter((f) => (imports(f.text, "node:tls") || imports(f.text, "node:https")) && !f.file.startsWith("net/"));
  assert.deepEqual(offenders.map((f) => f.file), []);
});

test("policy code is pure: no filesystem, no process environment, no processes", () => {
  const offenders = files.filter((f) => f.file.startsWith("policy/") && (imports(f.text, "node:fs") || imports(f.text, "node:child_process") || /process\.env/.test(f.text)));
  assert.deepEqual(offenders.map((f) => f.file), []);
});

test("the library emits; only the CLI exits the process", () => {
  const offenders = files.filter((f) => !f.file.startsWith("cli/") && /process\.exit\(/.test(f.text) && !f.file.startsWith("net/inside/") && !f.file.includes("/helpers/") && !f.file.includes("/worker/"));
  assert.deepEqual(offenders.map((f) => f.file), []);
});

test("the engine and the network layer do not import each other; src/sandbox composes them", () => {
  const crossing = files.filter((f) =>
    (f.file.startsWith("engine/") && /from\s+["'](\.\.\/)+net\/|import\(\s*["'](\.\.\/)+net\//.test(f.text)) ||
    (f.file.startsWith("net/") && /from\s+["'](\.\.\/)+engine\/|import\(\s*["'](\.\.\/)+engine\//.test(f.text)));
  assert.deepEqual(crossing.map((f) => f.file), []);
});
