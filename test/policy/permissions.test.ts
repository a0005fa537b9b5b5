import assert from "node:assert/strict";
import { test } from "node:test";
import { envGrantAllows, parsePermissions } from "../../src/policy/permissions.js";

const context = { baseDir: "/work/project", homeDir: "/home/alice" };

test("paths are anchored at the base folder and ~, and write implies read", () => {
  const p = parsePermissions({ allowRead: ["., ./src", "~/data"], allowWrite: ["./out,."] }, context);
  assert.deepEqual(p.write, ["/work/project/out", "/work/project"]);
  assert.deepEqual(p.read, ["/work/project/src", "/home/alice/data"]);
});

test("empty list entries are refused with the form to use", () => {
  assert.throws(() => parsePermissions({ allowRead: ["a,,b"] }, context), (e: Error & { hint?: string }) => {
    assert.match(e.message, /--allow-read: a path is empty/);
    assert.match(e.hint ?? "", /--allow-read=\.\/data/);
    return true;
  });
});

test("environment grants: names and prefixes only", () => {
  const p = parsePermissions({ allowEnv: ["LANG,TZ", "AWS_*"] }, context);
  assert.ok(envGrantAllows(p.env, "TZ"));
  assert.ok(envGrantAllows(p.env, "AWS_REGION"));
  assert.ok(!envGrantAllows(p.env, "AWS"));
  assert.ok(!envGrantAllows(p.env, "GITHUB_TOKEN"));
  for (const bad of ["*", "1ABC", "A-B", ""]) assert.throws(() => parsePermissions({ allowEnv: [bad] }, context), /--allow-env/);
});

test("--env values, as NAME=VALUE strings or a record", () => {
  assert.deepEqual([...parsePermissions({ env: ["MODE=ci", "EMPTY=", "EQ=a=b"] }, context).setEnv], [["MODE", "ci"], ["EMPTY", ""], ["EQ", "a=b"]]);
  assert.deepEqual([...parsePermissions({ env: { A: "1" } }, context).setEnv], [["A", "1"]]);
  assert.throws(() => parsePermissions({ env: ["=x"] }, context), /NAME=VALUE/);
  assert.throws(() => parsePermissions({ env: { "BAD NAME": "x" } }, context), /not a valid variable name/);
});

test("limits are parsed once into numbers", () => {
  const p = parsePermissions({ timeout: "10s", memory: "512M", pids: "64", disk: "1G", output: "10M" }, context);
  assert.deepEqual(p.limits, { timeoutMs: 10_000, memoryBytes: 512 * 1024 ** 2, pids: 64, diskBytes: 1024 ** 3, outputBytes: 10 * 1024 ** 2 });
  assert.throws(() => parsePermissions({ memory: "2 bananas" }, context), /--memory: "2 bananas" is not a size/);
});
