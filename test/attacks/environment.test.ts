import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, test } from "node:test";
import { makeHostFixture, PLANTED_TOKENS, rejectsWith, text, type HostFixture } from "../helpers/host-fixture.js";

describe("attack: reading the host environment", () => {
  let host: HostFixture;
  before(() => {
    host = makeHostFixture();
  });
  after(() => host.cleanup());

  test("read a token from the parent environment", async () => {
    const result = await host.sh("env; cat /proc/self/environ /proc/1/environ | tr '\\0' '\\n'");
    for (const value of Object.values(PLANTED_TOKENS)) assert.ok(!text(result).includes(value), `leaked ${value}`);
    const names = result.stdout.toString().split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split("=")[0]);
    assert.deepEqual(new Set(names), new Set(["PATH", "HOME", "LANG", "PWD"]));
  });

  test("read /proc/<host pid>/environ of the process that started the sandbox", async () => {
    const result = await host.sh(`cat /proc/${process.pid}/environ; cat /proc/${process.ppid}/environ; ls /proc | grep -c '^[0-9]'`);
    for (const value of Object.values(PLANTED_TOKENS)) assert.ok(!text(result).includes(value));
    // Only the sandbox's own few processes are visible.
    assert.ok(Number(result.stdout.toString().trim().split("\n").pop()) <= 4, text(result));
  });

  test("--allow-env passes exactly the named variables, and prefixes", async () => {
    const result = await host.sh("env", { allowEnv: ["NPM_TOKEN", "AWS_*"] });
    assert.match(result.stdout.toString(), /^NPM_TOKEN=npm_envToken77c1$/m);
    assert.match(result.stdout.toString(), /^AWS_SECRET_ACCESS_KEY=/m);
    assert.doesNotMatch(result.stdout.toString(), /GITHUB_TOKEN/);
  });

  test("a variable passed to the sandbox never shows in the host's process list", async () => {
    // Any local user can read /proc/<pid>/cmdline: bubblewrap's options
    // (variables included) travel through a pipe, not its command line.
    const value = `cmdline-canary-${process.pid}`;
    const running = host.sh("sleep 2", { env: [`CANARY=${value}`], allowEnv: ["NPM_TOKEN"] });
    await new Promise((resolve) => setTimeout(resolve, 700));
    const seen: string[] = [];
    for (const pid of fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
      try {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        if (cmdline.includes(value) || cmdline.includes(PLANTED_TOKENS.NPM_TOKEN)) seen.push(cmdline.replace(/\0/g, " "));
      } catch { /* exited */ }
    }
    await running;
    assert.deepEqual(seen, []);
  });

  test("--env sets a value inside without reading the host", async () => {
    const result = await host.sh('echo "mode=$MODE"', { env: ["MODE=ci"] });
    assert.equal(result.stdout.toString(), "mode=ci\n");
  });

  test("bad environment grants are refused with the fix", async () => {
    await rejectsWith(host.sh("true", { allowEnv: ["*"] }), /never passes the whole environment/);
    await rejectsWith(host.sh("true", { env: ["NOVALUE"] }), /NAME=VALUE/);
  });
});
