import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Sandbox } from "../../src/sdk/index.js";
import { isRunning, sandboxSkip, tempDataDir } from "./support.js";

const SDK = fileURLToPath(new URL("../../src/sdk/index.js", import.meta.url));

describe("lifetime: a sandbox never outlives the process that created it", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();

  it("kill -9 of the creating process ends the sandbox; the next create removes its folder", async () => {
    const script = `
      const { Sandbox } = await import(${JSON.stringify(SDK)});
      const sandbox = await Sandbox.create({ dataDir: ${JSON.stringify(dataDir)} });
      const child = await sandbox.spawn("sleep", { args: ["600"] });
      console.log(JSON.stringify({ hostPid: await sandbox.hostPid() }));
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const line = await new Promise<string>((resolve) => parent.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString())));
    const { hostPid } = JSON.parse(line) as { hostPid: number };
    assert.ok(isRunning(hostPid));
    const leftovers = fs.readdirSync(path.join(dataDir, "sandboxes"));
    assert.equal(leftovers.length, 1);
    parent.kill("SIGKILL");
    await new Promise((resolve) => parent.once("close", resolve));
    const deadline = Date.now() + 3000;
    while (isRunning(hostPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(isRunning(hostPid), false, "the sandbox died with its parent");
    assert.deepEqual(fs.readdirSync(path.join(dataDir, "sandboxes")), leftovers, "its folder is still there until the next start");
    await using _next = await Sandbox.create({ dataDir });
    const now = fs.readdirSync(path.join(dataDir, "sandboxes"));
    assert.equal(now.length, 1);
    assert.notEqual(now[0], leftovers[0], "the dead owner's folder was removed");
  });

  it("a process allocating past the memory limit is stopped", async () => {
    await using sandbox = await Sandbox.create({ dataDir, memory: "64MiB" });
    const hog = await sandbox.spawn("node", { args: ["-e", "const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));"], stdout: "null", stderr: "null" });
    const status = await hog.status;
    assert.equal(status.success, false);
    // 137: the cgroup's OOM killer (SIGKILL); 134: Node aborting when the
    // RLIMIT_DATA fallback (no delegated cgroup, e.g. as an ordinary user) refuses memory.
    assert.ok([134, 137].includes(status.code), `exit ${status.code}`);
  });

  it("disk fill is bounded: home is a size-limited tmpfs, from a snapshot too", async () => {
    {
      await using base = await Sandbox.create({ dataDir, disk: "32MiB" });
      const full = await base.sh`head -c 40000000 /dev/zero > ~/big`.stderr("piped").noThrow();
      assert.notEqual(full.status.code, 0);
      assert.match(full.stderrText ?? "", /No space left on device/);
      await base.sh`rm -f ~/big; echo small > ~/kept`;
      await base.snapshot("disk-limit");
    }
    await using child = await Sandbox.create({ dataDir, disk: "32MiB", root: "disk-limit" });
    assert.equal(await child.sh`cat ~/kept`.text(), "small\n");
    const full = await child.sh`head -c 40000000 /dev/zero > ~/big`.stderr("piped").noThrow();
    assert.match(full.stderrText ?? "", /No space left on device/);
    assert.deepEqual(fs.readdirSync(path.join(child.stateDir, "rw")), [], "nothing the sandbox writes lands on the host disk");
  });
});
