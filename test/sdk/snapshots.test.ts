import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { Sandbox, Snapshot, Volume } from "../../src/sdk/index.js";
import { sandboxSkip, tempDataDir } from "./support.js";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

describe("snapshots: freeze a sandbox's home, start many from it", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();

  it("snapshot() captures files; a sandbox started from it writes copy-on-write, the image never changes", async () => {
    {
      await using base = await Sandbox.create({ dataDir });
      await base.sh`mkdir -p app && echo v1 > app/version && ln -s /etc/hostname app/link`;
      const ticker = await base.spawn("sh", { args: ["-c", "while :; do date +%s%N; sleep 0.01; done"], stdout: "piped", stderr: "null" });
      const info = await base.snapshot("app-v1");
      const reader = ticker.stdout!.getReader();
      const before = Date.now();
      while (Date.now() - before < 200) await reader.read();
      assert.ok((await reader.read()).value, "processes run again after the snapshot (thawed)");
      reader.releaseLock();
      await ticker.kill("SIGKILL");
      assert.equal(info.name, "app-v1");
      await assert.rejects(base.snapshot("app-v1"), /already exists/);
      assert.equal(await base.sh`cat app/version`.text(), "v1\n", "the sandbox keeps running after the snapshot");
    }
    await using child = await Sandbox.create({ dataDir, root: "app-v1" });
    assert.equal(await child.sh`cat app/version`.text(), "v1\n");
    assert.equal(await child.fs.readLink("app/link"), "/etc/hostname");
    await child.sh`echo v2 > app/version && rm app/link && echo new > app/added`;
    assert.equal(await child.sh`cat app/version app/added`.text(), "v2\nnew\n");
    await using again = await Sandbox.create({ dataDir, root: "app-v1" });
    assert.equal(await again.sh`cat app/version; ls app`.text(), "v1\nlink\nversion\n", "other sandboxes still see the image unchanged");
  });

  it("starts the same snapshot 20 times in parallel, each with its own writable copy", async () => {
    {
      await using base = await Sandbox.create({ dataDir });
      await base.sh`echo shared > data.txt`;
      await base.snapshot("parallel");
    }
    const sandboxes = await Promise.all(Array.from({ length: 20 }, () => Sandbox.create({ dataDir, root: "parallel" })));
    try {
      const outputs = await Promise.all(sandboxes.map((s, i) => s.sh`cat data.txt; echo ${String(i)} > mine.txt; cat mine.txt`.text()));
      outputs.forEach((out, i) => assert.equal(out, `shared\n${i}\n`));
    } finally {
      await Promise.all(sandboxes.map((s) => s.close()));
    }
    assert.deepEqual(fs.readdirSync(path.join(dataDir, "sandboxes")), [], "every sandbox folder is removed");
  });

  it("Snapshot.list/delete and `cordon snapshot ls|rm`", async () => {
    const env = { ...process.env, CORDON_DATA_DIR: dataDir };
    const names = (await Snapshot.list({ dataDir })).map((s) => s.name);
    assert.ok(names.includes("app-v1"));
    const listed = await run(process.execPath, [CLI, "snapshot", "ls"], { env });
    assert.match(listed.stdout, /^NAME\s+SIZE\s+CREATED\s+FROM/m);
    assert.match(listed.stdout, /app-v1/);
    await run(process.execPath, [CLI, "snapshot", "rm", "app-v1"], { env });
    assert.equal(await Snapshot.get("app-v1", { dataDir }), null);
    await Snapshot.delete("parallel", { dataDir });
    const failed = await run(process.execPath, [CLI, "snapshot", "rm", "app-v1"], { env }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    assert.ok(failed && failed.code !== 0);
    assert.match(failed.stderr, /no snapshot named "app-v1"/);
  });
});

describe("volumes: named folders that outlive sandboxes", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();

  it("a volume is shared by two sandboxes in turn", async () => {
    await Volume.create({ slug: "shared", dataDir });
    {
      await using first = await Sandbox.create({ dataDir, volumes: { "/data": "shared" } });
      await first.sh`echo from-first > /data/note`;
    }
    await using second = await Sandbox.create({ dataDir, volumes: { "/data": "shared" } });
    assert.equal(await second.fs.readTextFile("/data/note"), "from-first\n");
    await second.fs.writeTextFile("/data/reply", "from-second");
    assert.equal((await Volume.get("shared", { dataDir }))?.name, "shared");
  });

  it("a volume as root is the sandbox's writable home", async () => {
    await Volume.create({ slug: "home-vol", dataDir });
    {
      await using first = await Sandbox.create({ dataDir, root: "home-vol" });
      await first.sh`echo kept > ~/file`;
    }
    await using second = await Sandbox.create({ dataDir, root: "home-vol" });
    assert.equal(await second.sh`cat ~/file`.text(), "kept\n");
  });

  it("`cordon volume ls|create|rm`", async () => {
    const env = { ...process.env, CORDON_DATA_DIR: dataDir };
    await run(process.execPath, [CLI, "volume", "create", "cli-vol"], { env });
    const listed = await run(process.execPath, [CLI, "volume", "ls"], { env });
    assert.match(listed.stdout, /cli-vol/);
    assert.match(listed.stdout, /shared/);
    await run(process.execPath, [CLI, "volume", "rm", "cli-vol", "shared"], { env });
    assert.deepEqual((await Volume.list({ dataDir })).map((v) => v.name), ["home-vol"]);
    await assert.rejects(Volume.create({ slug: "../escape", dataDir }), /not a valid volume name/);
  });
});
