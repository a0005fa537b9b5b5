import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { Sandbox, Snapshot } from "../../src/sdk/index.js";
import { sandboxSkip, tempDataDir } from "./support.js";

/**
 * A sandbox is a whole machine, as `@deno/sandbox`'s is: its root is
 * writable copy-on-write over the host's read-only system, and a snapshot
 * keeps all of it. Each write checked here is also checked to be absent
 * on the host.
 */
const TOOL = "cordon-rootfs-test-tool";

describe("a writable root over the read-only host system", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();

  it("writes to /usr/local/bin, /usr/lib, /etc, /opt and /var work inside, and none reaches the host", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    await sandbox.sh`printf '#!/bin/sh\necho tool-ran\n' > /usr/local/bin/${TOOL} && chmod +x /usr/local/bin/${TOOL}`;
    await sandbox.sh`echo setting=1 > /etc/${TOOL}.conf && mkdir -p /opt/${TOOL} /var/lib/${TOOL} && touch /opt/${TOOL}/x /var/lib/${TOOL}/y`;
    assert.equal(await sandbox.sh`${TOOL}; cat /etc/${TOOL}.conf; ls /opt/${TOOL} /var/lib/${TOOL}`.text(), `tool-ran\nsetting=1\n/opt/${TOOL}:\nx\n\n/var/lib/${TOOL}:\ny\n`);
    // As root the host's own files can be changed too, copy-on-write; as an
    // ordinary user they belong to a user the sandbox does not have.
    if (process.getuid?.() === 0) {
      await sandbox.sh`echo changed >> /usr/lib/os-release; rm /usr/bin/yes`;
      assert.match(await sandbox.sh`tail -n1 /usr/lib/os-release; command -v yes || echo no-yes`.text(), /changed\nno-yes\n$/);
    }
    for (const file of [`/usr/local/bin/${TOOL}`, `/etc/${TOOL}.conf`, `/opt/${TOOL}`, `/var/lib/${TOOL}`]) {
      assert.equal(fs.existsSync(file), false, `${file} stayed in the sandbox`);
    }
    assert.doesNotMatch(fs.readFileSync("/usr/lib/os-release", "utf8"), /changed/);
    assert.ok(fs.existsSync("/usr/bin/yes"), "the host's /usr/bin/yes is still there");
  });

  it("npm i -g puts a package's command on PATH", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    await sandbox.fs.mkdir("hello-pkg/bin", { recursive: true });
    await sandbox.fs.writeTextFile("hello-pkg/package.json", JSON.stringify({ name: TOOL, version: "1.0.0", bin: { [TOOL]: "bin/hello.js" } }));
    await sandbox.fs.writeTextFile("hello-pkg/bin/hello.js", "#!/usr/bin/env node\nconsole.log('hello from a global package');\n");
    await sandbox.sh`cd hello-pkg && npm pack --silent >/dev/null && npm install -g --offline --no-audit --no-fund ./${TOOL}-1.0.0.tgz >/dev/null`;
    assert.equal(await sandbox.sh`${TOOL}`.text(), "hello from a global package\n");
    assert.equal(await sandbox.sh`npm ls -g --depth=0 --parseable | grep -c ${TOOL}`.text(), "1\n");
    assert.equal(fs.existsSync(`/usr/local/lib/node_modules/${TOOL}`), false);
    assert.equal(fs.existsSync(`/usr/lib/node_modules/${TOOL}`), false);
  });

  it("the writable layer is bounded by disk, and the root folder itself stays read-only", async () => {
    await using sandbox = await Sandbox.create({ dataDir, disk: "32MiB" });
    const full = await sandbox.sh`head -c 40000000 /dev/zero > /opt/big`.stderr("piped").noThrow();
    assert.match(full.stderrText ?? "", /No space left on device/);
    const topLevel = await sandbox.sh`mkdir /new-top-level`.stderr("piped").noThrow();
    assert.match(topLevel.stderrText ?? "", /Read-only file system/);
    assert.deepEqual(fs.readdirSync(path.join(sandbox.stateDir, "rw")), [], "the writable layer is a tmpfs: nothing lands on the host's disk");
  });
});

describe("snapshots capture the whole machine", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();

  it("a tool installed before the snapshot is in every sandbox started from it; each change stays its own", async () => {
    {
      await using base = await Sandbox.create({ dataDir });
      await base.sh`printf '#!/bin/sh\ncat /etc/${TOOL}.conf\n' > /usr/local/bin/${TOOL} && chmod +x /usr/local/bin/${TOOL}`;
      await base.sh`echo base > /etc/${TOOL}.conf && mkdir -p /opt/data && echo shared > /opt/data/file && echo home > ~/note`;
      await base.snapshot("machine");
    }
    const sandboxes = await Promise.all([0, 1, 2].map(() => Sandbox.create({ dataDir, root: "machine" })));
    try {
      await Promise.all(sandboxes.map((s, i) => s.sh`echo mine-${String(i)} > /etc/${TOOL}.conf; rm /opt/data/file; echo ${String(i)} > ~/note`));
      const seen = await Promise.all(sandboxes.map((s) => s.sh`${TOOL}; ls /opt/data; cat ~/note`.text()));
      assert.deepEqual(seen, ["mine-0\n0\n", "mine-1\n1\n", "mine-2\n2\n"]);
    } finally {
      await Promise.all(sandboxes.map((s) => s.close()));
    }
    await using fresh = await Sandbox.create({ dataDir, root: "machine" });
    assert.equal(await fresh.sh`${TOOL}; cat /opt/data/file ~/note`.text(), "base\nshared\nhome\n", "the image never changed");
  });

  it("a snapshot of a sandbox started from a snapshot stacks on it, deletions included", async () => {
    {
      await using middle = await Sandbox.create({ dataDir, root: "machine" });
      await middle.sh`rm /opt/data/file && echo added > /opt/data/other && echo second > /etc/${TOOL}.conf`;
      await middle.snapshot("machine-2");
    }
    await using top = await Sandbox.create({ dataDir, root: "machine-2" });
    assert.equal(await top.sh`ls /opt/data; ${TOOL}; cat ~/note`.text(), "other\nsecond\nhome\n");
    assert.equal((await Snapshot.get("machine-2", { dataDir }))?.parent, "machine");
    await assert.rejects(Snapshot.delete("machine", { dataDir }), /machine-2 is stacked on it/);
    await Snapshot.delete("machine-2", { dataDir });
    await Snapshot.delete("machine", { dataDir });
  });
});

/**
 * The same, for an ordinary user (no root, no cgroups; the host's files
 * belong to a user the sandbox does not have): a script using the built SDK
 * runs as that user from a world-readable copy.
 */
const isRoot = process.getuid?.() === 0;
const testUser = process.env.CORDON_TEST_USER ?? "cordonuser";
const userSkip = sandboxSkip || (!isRoot ? "runs as root only (it switches to an ordinary user)" : spawnSync("id", ["-u", testUser]).status !== 0 ? `SKIPPED: no user "${testUser}" (set CORDON_TEST_USER)` : false);

describe("as an ordinary user", { skip: userSkip }, () => {
  it("/usr/local, /etc and /opt are writable, npm i -g works, and a snapshot carries them", () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-sdk-user-"));
    after(() => fs.rmSync(copy, { recursive: true, force: true }));
    fs.cpSync(path.resolve("dist/src"), path.join(copy, "src"), { recursive: true });
    fs.writeFileSync(path.join(copy, "package.json"), '{ "type": "module" }\n');
    const script = `
      import { Sandbox } from "./src/sdk/index.js";
      const dataDir = ${JSON.stringify(path.join(copy, "data"))};
      const base = await Sandbox.create({ dataDir });
      const id = await base.sh\`id -u\`.text();
      await base.sh\`printf '#!/bin/sh\\\\necho user-tool\\\\n' > /usr/local/bin/${TOOL} && chmod +x /usr/local/bin/${TOOL} && echo x > /etc/${TOOL}.conf && mkdir /opt/${TOOL}\`;
      await base.sh\`mkdir pkg && cd pkg && echo '{"name":"${TOOL}-g","version":"1.0.0","bin":"b.js"}' > package.json && printf '#!/usr/bin/env node\\\\nconsole.log(1)' > b.js && npm i -g --offline --no-audit --no-fund . >/dev/null\`;
      await base.snapshot("user-machine");
      await base.close();
      const child = await Sandbox.create({ dataDir, root: "user-machine" });
      console.log(JSON.stringify({ id: id.trim(), seen: await child.sh\`${TOOL}; cat /etc/${TOOL}.conf; ls -d /opt/${TOOL}; ${TOOL}-g\`.text() }));
      await child.close();`;
    fs.writeFileSync(path.join(copy, "check.mjs"), script);
    spawnSync("chmod", ["-R", "a+rwX", copy]);
    const result = spawnSync("runuser", ["-u", testUser, "--", "env", "-i", `PATH=${process.env.PATH}`, `HOME=${copy}`, process.execPath, "check.mjs"], { cwd: copy, encoding: "utf8", timeout: 120_000 });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const { id, seen } = JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as { id: string; seen: string };
    assert.notEqual(id, "0", "the sandbox runs as the ordinary user");
    assert.equal(seen, `user-tool\nx\n/opt/${TOOL}\n1\n`);
    assert.equal(fs.existsSync(`/usr/local/bin/${TOOL}`), false);
  });
});
