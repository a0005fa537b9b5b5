import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { makeHostFixture, PLANTED_KEY, PLANTED_NPMRC, rejectsWith, text, type HostFixture } from "../helpers/host-fixture.js";

describe("attack: reading host files", () => {
  let host: HostFixture;
  let baseline: Map<string, string>;
  before(() => {
    host = makeHostFixture();
    baseline = host.snapshot();
  });
  after(() => host.cleanup());

  test("read a planted ~/.ssh/id_rsa and ~/.npmrc by absolute path", async () => {
    const result = await host.sh(`cat ${host.home}/.ssh/id_rsa ${host.home}/.npmrc; ls -a ${host.home}`);
    assert.notEqual(result.exitCode, 0);
    assert.doesNotMatch(text(result), /planted/);
    assert.doesNotMatch(text(result), /_authToken/);
    assert.deepEqual(host.snapshot(), baseline);
  });

  test("read ~/.ssh and ~/.npmrc through $HOME and ~", async () => {
    const result = await host.sh(`echo "home=$HOME"; cat ~/.ssh/id_rsa ~/.npmrc "$HOME/.npmrc"; ls -a ~`);
    assert.match(text(result), /home=\/home\/sandbox/);
    assert.doesNotMatch(text(result), /planted/);
  });

  test("the current folder is not visible without a grant", async () => {
    const result = await host.sh(`pwd; cat ${host.project}/package.json; ls ${host.root}`);
    assert.match(result.stdout.toString(), /^\/home\/sandbox$/m);
    assert.doesNotMatch(text(result), /victim/);
  });

  test("a read grant shows exactly the granted folder, read-only", async () => {
    const result = await host.sh(
      `cat src/index.js; ls ${host.root}; echo x > src/index.js && echo WROTE; cat ${host.outside}/precious.txt`,
      { allowRead: ["./src"] },
    );
    assert.match(result.stdout.toString(), /hello/);
    assert.match(result.stdout.toString(), /^project$/m, "only the path to the grant exists above it");
    assert.doesNotMatch(text(result), /WROTE|do not touch|^outside$/m);
    assert.deepEqual(host.snapshot(), baseline);
  });

  test("other users' files and system secrets are not there", async () => {
    const result = await host.sh("cat /etc/shadow /root/.bashrc 2>&1; ls /home; cat /etc/passwd");
    assert.doesNotMatch(result.stdout.toString(), /^root:[^x]/m);
    assert.deepEqual(result.stdout.toString().split("\n").filter((l) => l === "sandbox"), ["sandbox"]);
    assert.doesNotMatch(result.stdout.toString(), /cloudsdk|nobody:x:65534:65534:nobody:\/nonexistent:\/usr\/sbin\/nologin\n.*:/);
  });

  test("a symlink in a granted folder that points at the home folder leads nowhere", async () => {
    fs.symlinkSync(path.join(host.home, ".ssh/id_rsa"), path.join(host.project, "src/key-link"));
    try {
      const result = await host.sh("cat src/key-link", { allowRead: ["./src"] });
      assert.notEqual(result.exitCode, 0);
      assert.ok(!text(result).includes(PLANTED_KEY.trim().split("\n")[1]!));
    } finally {
      fs.unlinkSync(path.join(host.project, "src/key-link"));
    }
  });

  test("a Node installed inside the home folder exposes only itself, not the home around it", () => {
    const nodeHome = path.join(host.home, ".local");
    fs.mkdirSync(path.join(nodeHome, "bin"), { recursive: true });
    fs.copyFileSync(process.execPath, path.join(nodeHome, "bin/node"));
    fs.chmodSync(path.join(nodeHome, "bin/node"), 0o755);
    fs.writeFileSync(path.join(nodeHome, "credentials.txt"), "planted-next-to-node");
    try {
      const result = spawnSync(path.join(nodeHome, "bin/node"), [path.resolve("dist/src/cli/main.js"), "run", "--", "sh", "-c",
        `cat ${nodeHome}/credentials.txt ${host.home}/.ssh/id_rsa; ls ${nodeHome}; node -e 'console.log("node runs")'`], { encoding: "utf8", env: { ...host.env, PATH: process.env.PATH } });
      assert.match(result.stdout, /node runs/, result.stderr);
      assert.doesNotMatch(result.stdout + result.stderr, /planted/);
      assert.doesNotMatch(result.stdout, /credentials\.txt/);
    } finally {
      fs.rmSync(nodeHome, { recursive: true, force: true });
    }
  });

  test("granting the home folder or / is refused before anything runs", async () => {
    await rejectsWith(host.sh("true", { allowRead: [host.home] }), /whole home folder/);
    await rejectsWith(host.sh("true", { allowRead: ["/"] }), /whole filesystem/);
    await rejectsWith(host.sh("true", { allowRead: ["/proc/1"] }), /never grants/);
    await rejectsWith(host.sh("true", { allowRead: ["./missing"] }), /does not exist/);
  });

  test("granting a credential folder explicitly warns", async () => {
    const result = await host.sh("true", { allowRead: [path.join(host.home, ".ssh")] });
    assert.ok(result.warnings.some((w) => w.includes("credentials")), result.warnings.join("\n"));
    assert.equal(PLANTED_NPMRC.length > 0, true);
  });
});
