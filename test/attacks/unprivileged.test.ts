import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { makeHostFixture, PLANTED_TOKENS, type HostFixture } from "../helpers/host-fixture.js";

/**
 * The same core attacks, with cordon run by an ordinary user: no root, no
 * cgroups, only user namespaces. As root, the suite switches to a normal
 * user with runuser (CORDON_TEST_USER, default "nobody"); run by a normal
 * user, the whole suite already takes this path.
 */
const isRoot = process.getuid?.() === 0;
const testUser = process.env.CORDON_TEST_USER ?? "nobody";
const lookup = spawnSync("id", ["-u", testUser], { encoding: "utf8" });
const skip = !isRoot
  ? "the suite already runs as an ordinary user"
  : lookup.status !== 0
    ? `no user "${testUser}" to switch to (set CORDON_TEST_USER)`
    : !fs.existsSync("/usr/sbin/runuser") && !fs.existsSync("/sbin/runuser")
      ? "runuser is missing"
      : false;

describe("the unprivileged path", { skip }, () => {
  let host: HostFixture;
  let cli: string;
  let copy: string;
  before(() => {
    const uid = Number(lookup.stdout.trim());
    const gid = Number(spawnSync("id", ["-g", testUser], { encoding: "utf8" }).stdout.trim());
    host = makeHostFixture({ uid, gid });
    // A copy of the built CLI the test user can read wherever the checkout lives.
    copy = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-cli-"));
    fs.cpSync(path.resolve("dist/src"), path.join(copy, "src"), { recursive: true });
    fs.writeFileSync(path.join(copy, "package.json"), '{ "type": "module" }\n');
    spawnSync("chmod", ["-R", "a+rX", copy]);
    cli = path.join(copy, "src/cli/main.js");
  });
  after(() => {
    host?.cleanup();
    if (copy) fs.rmSync(copy, { recursive: true, force: true });
  });

  const cordon = (args: string[]): { status: number | null; out: string } => {
    const env = Object.entries(host.env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    const result = spawnSync("runuser", ["-u", testUser, "--", "env", "-i", ...env, process.execPath, cli, ...args], {
      cwd: host.project,
      encoding: "utf8",
      timeout: 30_000,
    });
    return { status: result.status, out: result.stdout + result.stderr };
  };

  test("runs as the ordinary user, with no capabilities", () => {
    const { status, out } = cordon(["run", "--", "sh", "-c", "id -u; grep CapEff /proc/self/status"]);
    assert.equal(status, 0, out);
    assert.match(out, /^CapEff:\s+0+$/m);
    assert.doesNotMatch(out, /^0$/m);
  });

  test("planted credentials and environment tokens stay out of reach", () => {
    const { out } = cordon(["run", "--allow-read=.", "--", "sh", "-c", `cat ${host.home}/.ssh/id_rsa ~/.npmrc; env`]);
    assert.doesNotMatch(out, /planted/);
    for (const value of Object.values(PLANTED_TOKENS)) assert.ok(!out.includes(value));
  });

  test("writes outside the grant fail and the host is unchanged", () => {
    const baseline = host.snapshot();
    const { out } = cordon([
      "run", "--allow-write=./out", "--",
      "sh", "-c", `echo x > out/../package.json; echo x >> ${host.home}/.bashrc; echo x > .git/hooks/pre-commit; echo ok > out/ok`,
    ]);
    const now = host.snapshot();
    now.delete("project/out/ok");
    assert.deepEqual(now, baseline, out);
    assert.ok(fs.existsSync(path.join(host.project, "out/ok")));
  });

  test("denied syscalls, user namespaces and the network stay closed", () => {
    const script = "unshare -r true && echo ESCAPED; cat /proc/net/dev | tail -n +3 | cut -d: -f1; " +
      "python3 -c 'import ctypes; l=ctypes.CDLL(None, use_errno=True); print(\"bpf\", l.syscall(321,0,0,0), ctypes.get_errno())'";
    const { out } = cordon(["run", "--", "sh", "-c", script]);
    assert.doesNotMatch(out, /ESCAPED/);
    assert.deepEqual(out.split("\n").map((l) => l.trim()).filter((l) => /^[a-z0-9]+$/.test(l)), ["lo"]);
    if (process.arch === "x64") assert.match(out, /^bpf -1 1$/m);
  });

  test("limits fall back to rlimits and say so", () => {
    const { out } = cordon(["run", "--pids=8", "--timeout=10s", "--", "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done; wait"]);
    assert.match(out, /Cannot fork|Resource temporarily unavailable/);
    assert.match(out, /--pids is weaker here: RLIMIT_NPROC/);
  });

  test("a timeout still kills the whole tree", () => {
    const started = Date.now();
    const { status } = cordon(["run", "--timeout=1s", "--", "sh", "-c", "(setsid sleep 30 &); sleep 30"]);
    assert.equal(status, 124);
    assert.ok(Date.now() - started < 10_000);
  });
});
