import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_NEEDS_APPROVAL } from "../../src/install/errors.js";
import { LocalRegistry } from "../helpers/local-registry.js";

const CLI = path.resolve("dist/src/cli/main.js");

/**
 * Content pins through the real npm: a new version whose install code is
 * byte-identical stays approved; one whose install code changed stops CI
 * before any script runs, and says what changed.
 */
describe("content pins across versions", () => {
  let root: string;
  let project: string;
  let registry: LocalRegistry;

  // Asynchronous: the registry answering npm lives in this very process.
  const cordon = (...args: string[]): Promise<{ status: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: project, timeout: 120_000 });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d));
      child.stderr.on("data", (d: Buffer) => (out += d));
      child.on("close", (status) => resolve({ status, out }));
    });
  const useVersion = (version: string): void => {
    const manifest = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    manifest.dependencies["pinned-tool"] = version;
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify(manifest, null, 2));
  };
  const ran = (): string | undefined => {
    const file = path.join(project, "node_modules/pinned-tool/ran.txt");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  };

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-pins-"));
    registry = await new LocalRegistry().start();
    const install = 'require("fs").writeFileSync(require("path").join(__dirname, "ran.txt"), require("./package.json").version);\n';
    const versions: Record<string, { installJs: string; index: string }> = {
      "1.0.0": { installJs: install, index: "module.exports = 1;\n" },
      "1.0.1": { installJs: install, index: "module.exports = 2; // only the library changed\n" },
      "1.0.2": { installJs: `${install}require("child_process").execSync("echo new behaviour");\n`, index: "module.exports = 3;\n" },
    };
    for (const [version, files] of Object.entries(versions)) {
      const dir = path.join(root, "src", version);
      fs.mkdirSync(dir, { recursive: true });
      const manifest = { name: "pinned-tool", version, scripts: { postinstall: "node install.js" } };
      fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest));
      fs.writeFileSync(path.join(dir, "install.js"), files.installJs);
      fs.writeFileSync(path.join(dir, "index.js"), files.index);
      const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--json"], { cwd: dir, encoding: "utf8" });
      assert.equal(packed.status, 0, packed.stderr);
      registry.publish(path.join(root, (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename), manifest);
    }
    project = path.join(root, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies: {} }));
    // This project installs from the test's own loopback registry.
    fs.writeFileSync(path.join(project, ".npmrc"), `registry=${registry.url}\n`);
  });
  after(() => {
    registry?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("approve pins the install code; a byte-identical new version stays approved", async () => {
    useVersion("1.0.0");
    assert.equal((await cordon("install", "--skip-unknown")).status, 0);
    const approve = await cordon("approve", "pinned-tool");
    assert.equal(approve.status, 0, approve.out);
    assert.match(approve.out, /pins: \+ pinned-tool@1\.0\.0 sha256-/);
    assert.equal((await cordon("install")).status, 0);
    assert.equal(ran(), "1.0.0");

    useVersion("1.0.1");
    const { status, out } = await cordon("install");
    assert.equal(status, 0, out);
    assert.match(out, /pinned-tool@1\.0\.1\s+postinstall: node install\.js\s+approved/);
    assert.equal(ran(), "1.0.1");
  });

  test("a version whose install code changed needs review, shown as a diff, before any script runs", async () => {
    useVersion("1.0.2");
    const { status, out } = await cordon("install");
    assert.equal(status, EXIT_NEEDS_APPROVAL, out);
    assert.match(out, /pinned-tool@1\.0\.2: install code changed since it was approved/);
    assert.match(out, /No install script ran/);
    assert.match(out, /^\s+\+require\("child_process"\)\.execSync\("echo new behaviour"\);$/m, "the change is shown as a diff");
    assert.notEqual(ran(), "1.0.2");
    const listing = await cordon("policy", "ls");
    assert.match(listing.out, /pinned-tool@1\.0\.2\s+changed/);
  });

  test("without a stored copy of the approved code, the approved version is fetched from the registry and the diff is real", async () => {
    // A fresh clone, or an approval made on another machine: .cordon/install-code is not there.
    fs.rmSync(path.join(project, ".cordon", "install-code"), { recursive: true, force: true });
    useVersion("1.0.2");
    const { status, out } = await cordon("install");
    assert.equal(status, EXIT_NEEDS_APPROVAL, out);
    assert.doesNotMatch(out, /approved text not kept/);
    assert.match(out, /^\s+--- pinned-tool@1\.0\.0\/install\.js$/m);
    // The unchanged first line is context, not shown as added.
    assert.match(out, /^\s{7}require\("fs"\)\.writeFileSync/m);
    assert.match(out, /^\s+\+require\("child_process"\)\.execSync\("echo new behaviour"\);$/m);
    // What came from the registry hashed to the pin, and is kept for next time.
    assert.ok(fs.readdirSync(path.join(project, ".cordon", "install-code", "sha256")).length > 0);
  });
});
