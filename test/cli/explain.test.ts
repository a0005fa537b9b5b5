import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

const CLI = path.resolve("dist/src/cli/main.js");

/**
 * `--explain` prints the plan a run executes: held against what a real run
 * of the same command line sees from inside (its variables, its mounts).
 */
describe("cordon run --explain is the plan a run executes", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-explain-"));
    fs.mkdirSync(path.join(dir, "out"));
    fs.mkdirSync(path.join(dir, ".git"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cordon = (args: string[]) => {
    const result = spawnSync(process.execPath, [CLI, ...args], {
      cwd: dir, encoding: "utf8", timeout: 60_000, env: { ...process.env, TOK: "secret-value-for-explain", GRANTED_VAR: "1" },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const grants = ["--allow-read=.", "--allow-write=./out", "--allow-env=GRANTED_VAR", "--allow-net=api.example.test", "--secret=TOK@api.example.test", "--env=SET_HERE=1"];

  test("the same variables, proxy and secrets included", () => {
    const explained = cordon(["run", "--explain", ...grants, "--", "true"]);
    assert.equal(explained.status, 0, explained.stderr);
    const names = /^environment: (.*)$/m.exec(explained.stdout)?.[1]?.split(" ") ?? [];
    const ran = cordon(["run", ...grants, "--", "node", "-e", "console.log(JSON.stringify(Object.keys(process.env).sort()))"]);
    assert.equal(ran.status, 0, ran.stderr);
    assert.deepEqual(names, JSON.parse(ran.stdout) as string[]);
    for (const expected of ["HTTPS_PROXY", "NODE_EXTRA_CA_CERTS", "TOK", "GRANTED_VAR", "SET_HERE"]) assert.ok(names.includes(expected), `${expected} missing from --explain`);
    assert.match(explained.stdout, /^secret: TOK .*api\.example\.test/m);
    assert.match(explained.stdout, /^network: through cordon's proxy at 127\.0\.0\.1:3128 to api\.example\.test/m);
  });

  test("the same mounts", () => {
    const explained = cordon(["run", "--explain", ...grants, "--", "true"]);
    const planned = new Set(explained.stdout.split("\n")
      .map((line) => /^ {2}(read-only|writable|private|generated) +(\S+)(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null && !(m[1] === "generated" && !m[3]?.includes("read-only")))
      .map((m) => m[2] as string));
    const ran = cordon(["run", ...grants, "--", "cat", "/proc/self/mountinfo"]);
    assert.equal(ran.status, 0, ran.stderr);
    // Field 5 is the mount point. bubblewrap's own root, and the device
    // nodes its --dev binds into the private /dev, are its, not the plan's.
    const devNodes = new Set(["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/console", "/dev/pts", "/dev/mqueue"]);
    const mounted = new Set(ran.stdout.trim().split("\n").map((line) => line.split(" ")[4] as string)
      .filter((p) => p !== "/" && !devNodes.has(p))
      .map((p) => p.replace(/\\040/g, " ")));
    assert.deepEqual([...planned].filter((p) => !mounted.has(p)), [], "planned but not mounted");
    assert.deepEqual([...mounted].filter((p) => !planned.has(p)), [], "mounted but not in --explain");
  });

  test("a secret whose variable is not set is refused by --explain too", () => {
    const result = spawnSync(process.execPath, [CLI, "run", "--explain", "--allow-net=api.example.test", "--secret=NOT_SET_ANYWHERE@api.example.test", "--", "true"], { cwd: dir, encoding: "utf8" });
    assert.equal(result.status, 125);
    assert.match(result.stderr, /NOT_SET_ANYWHERE/);
  });
});
