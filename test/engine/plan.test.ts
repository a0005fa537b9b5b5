import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { readHostFacts } from "../../src/engine/host-facts.js";
import { planSandbox, SANDBOX_HOME, type Mount } from "../../src/engine/plan.js";
import { parsePermissions, type PermissionsInput } from "../../src/policy/permissions.js";

/** A deterministic pseudo-random generator, so property failures reproduce. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("the plan", () => {
  let root: string;
  let folders: string[];
  before(() => {
    // Not under /tmp: the sandbox has a private /tmp, which would blur "absent" and "private".
    root = fs.mkdtempSync(path.join(fs.existsSync("/var/tmp") ? "/var/tmp" : os.tmpdir(), "cordon-plan-"));
    folders = ["a", "a/b", "a/b/c", "d", "d/.git/hooks", "e"].map((f) => path.join(root, "project", f));
    for (const f of folders) fs.mkdirSync(f, { recursive: true });
    fs.writeFileSync(path.join(root, "project/d/.git/config"), "");
    fs.mkdirSync(path.join(root, "home"));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const plan = (input: PermissionsInput) => {
    const host = { ...readHostFacts({ HOME: path.join(root, "home"), SECRET: "x", LANG: "C" }, path.join(root, "project")) };
    const permissions = parsePermissions(input, { baseDir: host.cwd, homeDir: host.homeDir });
    return planSandbox({ command: "true", args: [], permissions, host });
  };
  /** What a path looks like in the final view: the last mount covering it decides. */
  const access = (mounts: readonly Mount[], target: string): "rw" | "ro" | "private" | "none" => {
    let result: "rw" | "ro" | "private" | "none" = "none";
    for (const m of mounts) {
      if (m.kind === "symlink" || m.kind === "file" || m.kind === "remount-ro") continue;
      if (target === m.target || target.startsWith(m.target + "/")) {
        result = m.kind === "bind" ? "rw" : m.kind === "ro-bind" ? "ro" : "private";
      }
    }
    return result;
  };

  test("default deny: no host path is writable and the home folder is absent", () => {
    const { mounts, env } = plan({});
    assert.ok(!mounts.some((m) => m.kind === "bind"));
    assert.equal(access(mounts, path.join(root, "home")), "none");
    assert.equal(access(mounts, path.join(root, "project")), "none");
    assert.equal(access(mounts, SANDBOX_HOME), "private");
    assert.ok(!env.has("SECRET"));
  });

  test("property: every writable host path lies inside a write grant, and protected paths stay read-only", () => {
    const random = rng(42);
    for (let round = 0; round < 200; round += 1) {
      const pick = (): string[] => folders.filter(() => random() < 0.3);
      const input = { allowRead: pick(), allowWrite: pick() };
      const { mounts } = plan(input);
      for (const folder of folders) {
        const seen = access(mounts, folder);
        const writeGranted = input.allowWrite.some((w) => folder === w || folder.startsWith(w + "/"));
        const readGranted = input.allowRead.some((r) => folder === r || folder.startsWith(r + "/"));
        // Protected unless the hooks folder itself was granted for writing.
        const isProtected = folder.includes("/.git/hooks") && !input.allowWrite.some((w) => w.includes("/.git/hooks"));
        if (seen === "rw") assert.ok(writeGranted && !isProtected, `${folder} writable with ${JSON.stringify(input)}`);
        if (writeGranted && !isProtected) assert.equal(seen, "rw", `${folder} should be writable`);
        if (!writeGranted && !readGranted) assert.ok(seen === "none" || seen === "private", `${folder} visible without a grant`);
        if (isProtected && writeGranted) assert.equal(seen, "ro", `${folder} protected path writable`);
      }
    }
  });

  test("the root and /dev are remounted read-only last", () => {
    const { mounts } = plan({ allowWrite: [folders[0]!] });
    assert.deepEqual(mounts.slice(-2), [{ kind: "remount-ro", target: "/dev" }, { kind: "remount-ro", target: "/" }]);
  });

  test("the command must be visible inside", () => {
    assert.throws(() => planSandboxFor("no-such-command-here"), /command not found inside the sandbox/);
    assert.throws(() => planSandboxFor(path.join(root, "project/a/tool")), /not visible inside the sandbox/);
  });
  const planSandboxFor = (command: string) => {
    const host = readHostFacts({ HOME: path.join(root, "home") }, path.join(root, "project"));
    return planSandbox({ command, args: [], permissions: parsePermissions({}, { baseDir: host.cwd, homeDir: host.homeDir }), host });
  };
});
