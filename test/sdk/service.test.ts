import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ConfigError } from "../../src/errors.js";
import { Client, Sandbox, SandboxNotFoundError, SandboxTimeoutError } from "../../src/sdk/index.js";
import { isRunning, sandboxSkip, tempDataDir } from "./support.js";

const run = promisify(execFile);
const SDK = fileURLToPath(new URL("../../src/sdk/index.js", import.meta.url));

/** Runs a script in another Node process. */
async function inAnotherProcess(script: string): Promise<string> {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", `import { Sandbox } from ${JSON.stringify(SDK)};\n${script}`], { timeout: 60_000 });
  return stdout;
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe("sandboxes that outlive their creator: the sandbox service", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();
  const socket = path.join(dataDir, "service", "sock");

  it("a sandbox created with a timeout outlives its process; connect() from another reaches it, Client lists it, kill() ends it and the service", async () => {
    const line = await inAnotherProcess(`
      const sandbox = await Sandbox.create({ dataDir: ${JSON.stringify(dataDir)}, timeout: "5m", labels: { job: "outlive" } });
      await sandbox.fs.writeTextFile("/tmp/note", "written by the creator");
      await sandbox.env.set("SET_BY", "creator");
      const child = await sandbox.spawn("sleep", { args: ["300"] });
      console.log(JSON.stringify({ id: sandbox.id, hostPid: await sandbox.hostPid(), sleeper: child.pid, deadline: sandbox.deadline?.toISOString() }));
      // As Deno's: close() disconnects (no kill()), and this process ends.
      await sandbox.close();
    `);
    const { id, hostPid, deadline } = JSON.parse(line) as { id: string; hostPid: number; sleeper: number; deadline: string };
    assert.ok(isRunning(hostPid), "the sandbox runs on after its creator ended");

    const listed = await new Client({ dataDir }).sandboxes.list({ labels: { job: "outlive" } });
    assert.deepEqual(listed.map((s) => [s.id, s.status, s.labels.job]), [[id, "running", "outlive"]]);

    const sandbox = await Sandbox.connect({ id, dataDir });
    assert.equal(sandbox.id, id);
    assert.deepEqual(sandbox.labels, { job: "outlive" });
    assert.equal(sandbox.deadline?.toISOString(), deadline, "connect() sees the deadline its creator set");
    assert.equal(await sandbox.fs.readTextFile("/tmp/note"), "written by the creator");
    assert.equal(await sandbox.sh`echo "$SET_BY"; pgrep -c sleep`.text(), "creator\n1\n", "its variables and processes are still there");
    const cat = await sandbox.spawn("cat", { stdin: "piped", stdout: "piped" });
    const writer = cat.stdin!.getWriter();
    await writer.write(new TextEncoder().encode("through the service\n"));
    await writer.close();
    assert.equal((await cat.output()).stdoutText, "through the service\n");
    assert.equal(await sandbox.deno.eval("6 * 7"), 42);

    await sandbox.kill();
    assert.ok(await waitFor(() => !isRunning(hostPid), 5_000), "kill() ended it");
    await assert.rejects(Sandbox.connect(id, { dataDir }), SandboxNotFoundError);
    assert.ok(await waitFor(() => !fs.existsSync(socket), 10_000), "the service ends with its last sandbox");
  });

  it("close() only disconnects; the timeout ends it and every connected client hears why", async () => {
    const first = await Sandbox.create({ dataDir, timeout: "3s" });
    const hostPid = await first.hostPid();
    await first.close();
    assert.ok(isRunning(hostPid), "close() left it running, as Deno's does");
    const second = await Sandbox.connect(first.id, { dataDir });
    const third = await Sandbox.connect(first.id, { dataDir });
    await Promise.all([second.closed, third.closed]);
    assert.ok(await waitFor(() => !isRunning(hostPid), 3_000));
    for (const client of [second, third]) {
      await assert.rejects(client.sh`true`.text(), (error: unknown) => error instanceof SandboxTimeoutError && /has ended \(timeout\)/.test(error.message));
    }
  });

  it("a process that runs when its client leaves keeps running; the sandbox's env is shared by its clients", async () => {
    const sandbox = await Sandbox.create({ dataDir, timeout: "1m" });
    try {
      await sandbox.env.set("SHARED", "one");
      const other = await Sandbox.connect(sandbox.id, { dataDir });
      assert.equal(await other.env.get("SHARED"), "one");
      await other.spawn("sh", { args: ["-c", "sleep 1; echo done > /tmp/later"] });
      await other.close();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(await sandbox.fs.readTextFile("/tmp/later"), "done\n");
    } finally {
      await sandbox.kill();
    }
  });

  it("killing the service (kill -9) leaves no sandbox behind", async () => {
    const sandbox = await Sandbox.create({ dataDir, timeout: "1m" });
    const hostPid = await sandbox.hostPid();
    const servicePid = Number(fs.readFileSync(path.join(dataDir, "service", "daemon.lock"), "utf8").split(" ")[0]);
    assert.ok(servicePid > 0 && servicePid !== process.pid);
    process.kill(servicePid, "SIGKILL");
    await sandbox.closed;
    assert.ok(await waitFor(() => !isRunning(hostPid), 5_000), "bubblewrap's die-with-parent ended it with its owner");
    await assert.rejects(sandbox.sh`true`.text());
  });

  it("the service's socket is the user's alone: mode 0600 in a 0700 folder", async () => {
    const sandbox = await Sandbox.create({ dataDir, timeout: "1m" });
    try {
      assert.equal(fs.statSync(path.join(dataDir, "service")).mode & 0o777, 0o700);
      assert.equal(fs.statSync(socket).mode & 0o777, 0o600);
    } finally {
      await sandbox.kill();
    }
  });

  it("a service folder others can enter is refused before anything is sent (its socket could be someone else's)", async () => {
    const other = tempDataDir("cordon-sdk-open-");
    fs.mkdirSync(path.join(other, "service"), { mode: 0o755 });
    fs.chmodSync(path.join(other, "service"), 0o755);
    await assert.rejects(Sandbox.create({ dataDir: other, timeout: "1m", secrets: { TOKEN: { value: "real-value", hosts: ["api.example.com"] } } }), (error: unknown) => error instanceof ConfigError && /not a private folder/.test(error.message));
    assert.deepEqual(fs.readdirSync(path.join(other, "service")), [], "no service was started there");
  });
});
