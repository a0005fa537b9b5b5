import assert from "node:assert/strict";
import fs from "node:fs";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { makeHostFixture, text, type HostFixture } from "../helpers/host-fixture.js";

const PYTHON = "/usr/bin/python3";

describe("attack: exhausting resources", () => {
  let host: HostFixture;
  before(() => {
    host = makeHostFixture();
  });
  after(() => host.cleanup());

  test("fork bomb is held to --pids and ended by the timeout", async () => {
    const hostProcessesBefore = Number(spawnSync("sh", ["-c", "ps -e --no-headers | wc -l"], { encoding: "utf8" }).stdout);
    const result = await host.sh("bomb() { bomb | bomb & }; bomb; sleep 30", { pids: 64, timeout: "3s" });
    assert.equal(result.limitHit, "timeout");
    const enforcement = result.enforcement.find((e) => e.limit === "pids");
    assert.ok(enforcement, "the pids limit is reported");
    await new Promise((r) => setTimeout(r, 300));
    const hostProcessesAfter = Number(spawnSync("sh", ["-c", "ps -e --no-headers | wc -l"], { encoding: "utf8" }).stdout);
    assert.ok(hostProcessesAfter <= hostProcessesBefore + 5, `${hostProcessesBefore} -> ${hostProcessesAfter}`);
  });

  test("--pids stops a process from forking past the limit", async () => {
    const result = await host.sh("for i in $(seq 40); do sleep 2 & done; wait; echo finished", { pids: 16, timeout: "10s" });
    assert.match(text(result), /Cannot fork|Resource temporarily unavailable|retry/i);
  });

  test("memory bomb is stopped by --memory", { skip: !fs.existsSync(PYTHON) && "needs /usr/bin/python3" }, async () => {
    const result = await host.sh(`${PYTHON} -c 'blocks = []\nwhile True: blocks.append(bytearray(16 * 1024 * 1024))'`, {
      memory: "128M",
      timeout: "30s",
    });
    const mechanism = result.enforcement.find((e) => e.limit === "memory")?.mechanism;
    if (mechanism === "rlimit") {
      assert.match(text(result), /MemoryError/);
    } else {
      assert.equal(result.limitHit, "memory", text(result));
      assert.equal(result.exitCode, 123);
    }
  });

  test("disk fill stops at --disk in every writable place", async () => {
    const result = await host.sh(
      "for d in /tmp $HOME /dev/shm; do head -c 20000000 /dev/zero > $d/fill 2>/dev/null; echo \"$d $(wc -c < $d/fill)\"; done; head -c 1000 /dev/zero > /fill 2>&1 || echo root-refused",
      { disk: "4M" },
    );
    const sizes = result.stdout.toString().trim().split("\n");
    assert.equal(sizes.length, 4, text(result));
    for (const line of sizes.slice(0, 3)) assert.ok(Number(line.split(" ")[1]) <= 4 * 1024 * 1024, line);
    assert.equal(sizes[3], "root-refused");
  });

  test("output flood is cut at --output and the sandbox killed", async () => {
    const result = await host.sh("yes flood", { output: "64K", timeout: "20s" });
    assert.equal(result.limitHit, "output");
    assert.equal(result.exitCode, 122);
    assert.ok(result.stdout.length + result.stderr.length <= 64 * 1024);
    assert.ok(result.outputTruncated);
  });

  test("a CPU spin ends at the timeout", async () => {
    const result = await host.sh("while :; do :; done", { timeout: "500ms" });
    assert.equal(result.exitCode, 124);
    assert.ok(result.durationMs < 5000);
  });
});
