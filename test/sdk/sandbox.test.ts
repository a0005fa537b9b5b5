import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../../src/errors.js";
import { Sandbox, SandboxCommandError, SandboxNotFoundError, SandboxTimeoutError } from "../../src/sdk/index.js";
import { isRunning, readAll, sandboxSkip, tempDataDir } from "./support.js";

describe("Sandbox: create, spawn, sh, env, close", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();

  it("runs processes that share one filesystem and report pid, streams and status", async () => {
    await using sandbox = await Sandbox.create({ dataDir, env: { GREETING: "hello" }, labels: { purpose: "test" } });
    assert.match(sandbox.id, /^sbx-[0-9a-f]{12}$/);
    assert.deepEqual(sandbox.labels, { purpose: "test" });
    const child = await sandbox.spawn("sh", { args: ["-c", 'echo "$GREETING $1" > shared.txt; cat; echo err >&2', "sh", "arg"], stdin: "piped", stdout: "piped", stderr: "piped" });
    assert.ok(child.pid > 1);
    const writer = child.stdin!.getWriter();
    await writer.write(new TextEncoder().encode("from stdin"));
    await writer.close();
    const [out, err, status] = await Promise.all([readAll(child.stdout), readAll(child.stderr), child.status]);
    assert.equal(out, "from stdin");
    assert.equal(err, "err\n");
    assert.deepEqual(status, { success: true, code: 0, signal: null, oom: false });
    // A second process sees the first one's file.
    assert.equal(await sandbox.sh`cat shared.txt`.text(), "hello arg\n");
  });

  it("output() collects stdout and stderr text; null streams stay null", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const child = await sandbox.spawn("sh", { args: ["-c", "echo out; echo err >&2; exit 3"], stdout: "piped", stderr: "piped" });
    assert.equal(child.stdin, null);
    const output = await child.output();
    assert.equal(output.stdoutText, "out\n");
    assert.equal(output.stderrText, "err\n");
    assert.equal(output.status.code, 3);
    assert.equal(output.status.success, false);
    const quiet = await sandbox.spawn("echo", { args: ["x"], stdout: "null", stderr: "null" });
    assert.equal(quiet.stdout, null);
    assert.equal((await quiet.output()).stdoutText, null);
  });

  it("endless output is bounded: output() keeps 64 MiB and kills the writer", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const flood = await sandbox.spawn("cat", { args: ["/dev/zero"], stdout: "piped" });
    const output = await flood.output();
    assert.equal(output.stdout!.length, 64 * 1024 ** 2);
    assert.equal(output.status.signal, "SIGKILL");
  });

  it("kill(signal) reaches the process, and an AbortSignal sends SIGTERM", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const sleeper = await sandbox.spawn("sleep", { args: ["30"] });
    await sleeper.kill("SIGKILL");
    assert.deepEqual(await sleeper.status, { success: false, code: 137, signal: "SIGKILL", oom: false });
    const interrupted = await sandbox.spawn("sleep", { args: ["30"] });
    await interrupted.kill("SIGINT");
    assert.equal((await interrupted.status).signal, "SIGINT", "SIGINT is not ignored although the agent starts processes in the background");
    const aborted = await sandbox.sh`sleep 30`.signal(AbortSignal.timeout(200)).noThrow();
    assert.equal(aborted.status.code, 143);
  });

  it("spawn honours cwd, env and clearEnv; sandbox.env applies to later processes", async () => {
    await using sandbox = await Sandbox.create({ dataDir, env: { BASE: "1" } });
    await sandbox.fs.mkdir("work");
    assert.equal(await sandbox.sh`pwd`.cwd("work").text(), "/home/sandbox/work\n");
    assert.equal(await sandbox.sh`echo "$BASE-$EXTRA"`.env("EXTRA", "2").text(), "1-2\n");
    const cleared = await (await sandbox.spawn("/usr/bin/env", { clearEnv: true, env: { ONLY: "this" }, stdout: "piped" })).output();
    assert.equal(cleared.stdoutText, "ONLY=this\n");
    await sandbox.env.set("LATER", "yes");
    assert.equal(await sandbox.env.get("LATER"), "yes");
    assert.equal((await sandbox.env.toObject()).HOME, "/home/sandbox");
    assert.equal(await sandbox.sh`echo $LATER`.text(), "yes\n");
    await sandbox.env.delete("LATER");
    assert.equal(await sandbox.sh`echo "[$LATER]"`.text(), "[]\n");
  });

  it("sh: builders are immutable, values are one word each, json() parses, failures throw SandboxCommandError", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const base = sandbox.sh`printf '%s|' ${"a b"} ${["c d", "$(id)"]} ${"it's"}`;
    const withCwd = base.cwd("/tmp");
    assert.notEqual(base, withCwd);
    assert.equal(await base.text(), "a b|c d|$(id)|it's|");
    assert.deepEqual(await sandbox.sh`echo ${JSON.stringify({ k: [1, 2] })}`.json(), { k: [1, 2] });
    const result = await sandbox.sh`echo hi`.stdout("piped");
    assert.equal(result.stdoutText, "hi\n");
    assert.equal(result.status.success, true);
    await assert.rejects(sandbox.sh`echo nope >&2; exit 7`.text(), (error: unknown) => {
      assert.ok(error instanceof SandboxCommandError);
      assert.equal(error.code, 7);
      assert.match(error.message, /exit 7|code 7/);
      assert.match(error.message, /nope/);
      return true;
    });
    assert.equal((await sandbox.sh`exit 7`.noThrow()).status.code, 7);
  });

  it("a failed command's error does not carry interpolated values", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const token = "sk-live-interpolated-4d2f";
    await assert.rejects(sandbox.sh`test -z ${token}`.text(), (error: unknown) => {
      assert.ok(error instanceof SandboxCommandError);
      assert.ok(!error.message.includes(token), error.message);
      assert.match(error.message, /test -z \$\{…\}/);
      return true;
    });
  });

  it("close() ends every process and removes the sandbox's folder; later calls fail clearly", async () => {
    const sandbox = await Sandbox.create({ dataDir });
    const sleeper = await sandbox.spawn("sleep", { args: ["60"] });
    const folder = sandbox.stateDir;
    assert.ok(fs.existsSync(folder));
    await sandbox.close();
    assert.equal((await sleeper.status).code, 137);
    assert.equal(fs.existsSync(folder), false, "the sandbox's state folder is removed");
    await assert.rejects(sandbox.spawn("true"), /has ended/);
    await sandbox.closed;
  });

  it("await using destroys the sandbox at the end of the block", async () => {
    let folder: string;
    let pid: number;
    {
      await using sandbox = await Sandbox.create({ dataDir });
      folder = sandbox.stateDir;
      pid = await sandbox.hostPid();
      assert.ok(isRunning(pid));
    }
    assert.equal(fs.existsSync(folder), false);
    assert.equal(isRunning(pid), false, "the sandbox's processes are gone");
  });

  it("kill() ends it at once; timeout ends it and extendTimeout() moves the deadline", async () => {
    const killed = await Sandbox.create({ dataDir });
    await killed.kill();
    await killed.closed;

    const timed = await Sandbox.create({ dataDir, timeout: "1s" });
    const first = timed.deadline!.getTime();
    const extended = await timed.extendTimeout("1s");
    assert.ok(extended.getTime() >= first + 999);
    const started = Date.now();
    await timed.closed;
    assert.ok(Date.now() - started >= 1200, "the extension was honoured");
    await assert.rejects(timed.sh`true`.text(), (error: unknown) => error instanceof SandboxTimeoutError && /has ended \(timeout\)/.test(error.message));
  });

  it("secrets: the sandbox holds a placeholder, never the value", async () => {
    const value = "sk-real-secret-value-7f3e";
    await using sandbox = await Sandbox.create({ dataDir, secrets: { API_KEY: { value, hosts: ["api.example.com"] } } });
    const seen = await sandbox.sh`echo "$API_KEY"; cat /proc/self/environ | tr '\\0' '\\n' | grep -c ${value} || true`.text();
    const [placeholder, count] = seen.trim().split("\n");
    assert.match(placeholder ?? "", /^CORDON_SECRET_[0-9a-f]{32}$/);
    assert.equal(count, "0");
    assert.equal(await sandbox.env.get("API_KEY"), placeholder);
  });

  it("a sandbox has no network unless allowNet grants it (unlike Deno Deploy)", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const result = await sandbox.sh`cat /proc/net/route | wc -l; node -e 'fetch("http://1.1.1.1").then(()=>console.log("reached"),()=>console.log("blocked"))'`.stdout("piped").noThrow();
    assert.equal(result.stdoutText, "1\nblocked\n");
  });
});

describe("Sandbox.create: invalid options fail fast, naming the option", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["memory with a made-up unit", { memory: "2 bananas" }, /^memory: "2 bananas" is not a memory size/],
    ["memory below the minimum", { memory: 1024 }, /^memory: .*minimum/],
    ["timeout over the limit", { timeout: "48h" }, /^timeout: "48h" is over the limit/],
    ["timeout that is no duration", { timeout: "soon" }, /^timeout: "soon" is not a duration/],
    ["port out of range", { port: 70000 }, /^port: 70000 is not a TCP port/],
    ["six labels", { labels: { a: "1", b: "1", c: "1", d: "1", e: "1", f: "1" } }, /^labels: 6 given/],
    ["a volume over a system folder", { volumes: { "/usr/x": "v" } }, /reserved/],
    ["a relative volume path", { volumes: { "data": "v" } }, /must be absolute/],
    ["a bad variable name", { env: { "A-B": "x" } }, /^env: "A-B" is not a variable name/],
    ["a secret without hosts", { secrets: { KEY: { value: "v", hosts: [] } } }, /^secrets\.KEY: hosts must list/],
  ];
  for (const [name, options, message] of cases) {
    it(`refuses ${name} with a ConfigError and a hint`, async () => {
      await assert.rejects(Sandbox.create({ dataDir, ...options } as never), (error: unknown) => {
        assert.ok(error instanceof ConfigError, `got ${String(error)}`);
        assert.match(error.message, message);
        assert.ok(error.hint, "says what to do");
        return true;
      });
    });
  }

  it("refuses an unknown snapshot or volume with a not-found error listing what exists", async () => {
    await assert.rejects(Sandbox.create({ dataDir, root: "no-such-snapshot" }), (error: unknown) => {
      assert.ok(error instanceof SandboxNotFoundError);
      assert.equal(error.code, "E_NOT_FOUND");
      assert.match(error.message, /no snapshot named "no-such-snapshot"/);
      return true;
    });
    await assert.rejects(Sandbox.create({ dataDir, volumes: { "/data": "no-such-volume" } }), /no volume named "no-such-volume"/);
    const sandboxes = path.join(dataDir, "sandboxes");
    assert.equal(fs.existsSync(sandboxes) ? fs.readdirSync(sandboxes).length : 0, 0, "nothing is left behind by a refused create");
  });
});
