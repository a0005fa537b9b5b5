import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import { EXIT_SANDBOX_FAILED } from "../../src/engine/exit-codes.js";
import { EXIT_INSTALL_REFUSED, EXIT_NEEDS_APPROVAL, EXIT_SCRIPT_FAILED } from "../../src/install/errors.js";
import { CLI, cordon, projectWith, registryUnreachable } from "./real-npm.js";

/**
 * `cordon install` / `cordon ci` as a command line, with the real npm and
 * real packages: npm's flags mean what they mean to npm, the project is
 * found as npm finds it, and the exit status tells CI what happened.
 */
const unreachable = registryUnreachable();
if (unreachable) process.stderr.write(`SKIPPING real-package command-line tests: ${unreachable}\n`);

const readJson = (file: string): Record<string, Record<string, string> | undefined> => JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, Record<string, string> | undefined>;

describe("npm's own flags pass through to npm", { skip: unreachable }, () => {
  let project: string;
  before(() => {
    project = projectWith({ allowScripts: { esbuild: true } });
  });

  test("-D -E (and a flag cordon does not know, --prefer-offline) save an exact dev dependency, whose approved script runs", () => {
    const { status, out } = cordon(project, "install", "-D", "-E", "--prefer-offline", "esbuild@0.25.9");
    assert.equal(status, 0, out);
    assert.equal(readJson(path.join(project, "package.json")).devDependencies?.esbuild, "0.25.9");
    assert.match(out, /esbuild@0\.25\.9 postinstall \(sandboxed\)/);
    const esbuild = spawnSync(process.execPath, ["-e", "console.log(require('esbuild').transformSync('let x: number = 1', { loader: 'ts' }).code.trim())"], { cwd: project, encoding: "utf8" });
    assert.equal(esbuild.stdout.trim(), "let x = 1;", esbuild.stderr);
  });

  test("--save-optional saves an optional dependency", () => {
    const { status, out } = cordon(project, "install", "--save-optional", "nan@2.30.0");
    assert.equal(status, 0, out);
    assert.equal(readJson(path.join(project, "package.json")).optionalDependencies?.nan, "^2.30.0");
  });

  test("cordon ci --omit=dev installs no dev dependency and runs none of their scripts", () => {
    const { status, out } = cordon(project, "ci", "--omit=dev");
    assert.equal(status, 0, out);
    assert.equal(fs.existsSync(path.join(project, "node_modules/esbuild")), false, out);
    assert.equal(fs.existsSync(path.join(project, "node_modules/nan")), true, out);
    assert.doesNotMatch(out, /\(sandboxed\)/);
  });

  test("--dry-run changes nothing and runs nothing", () => {
    const before = fs.readFileSync(path.join(project, "package.json"), "utf8");
    const { status, out } = cordon(project, "install", "--dry-run", "-D", "cpu-features@0.0.10");
    assert.equal(status, 0, out);
    assert.match(out, /--dry-run: node_modules unchanged, no script ran/);
    assert.equal(fs.readFileSync(path.join(project, "package.json"), "utf8"), before);
    assert.equal(fs.existsSync(path.join(project, "node_modules/cpu-features")), false);
  });

  test("flags that would let npm run scripts unsandboxed, or install outside the project, are refused by name", () => {
    for (const flag of ["--ignore-scripts=false", "--no-ignore-scripts", "-g", "--no-save"]) {
      const { status, out } = cordon(project, "install", flag, "nan");
      assert.equal(status, EXIT_INSTALL_REFUSED, out);
      assert.match(out, new RegExp(`cordon: ${flag}: `), out);
      assert.doesNotMatch(out, /internal error/);
    }
  });
});

describe("run from a workspace's folder, the project is the workspace root (as for npm)", { skip: unreachable }, () => {
  let root: string;
  before(() => {
    root = projectWith({ workspaces: ["packages/*"] });
    for (const name of ["a", "b"]) {
      fs.mkdirSync(path.join(root, "packages", name), { recursive: true });
      fs.writeFileSync(path.join(root, "packages", name, "package.json"), JSON.stringify({ name, version: "1.0.0" }));
    }
  });

  test("cordon install NAME in packages/a adds it to packages/a, installed at the root", () => {
    const { status, out } = cordon(path.join(root, "packages/a"), "install", "nan@2.30.0");
    assert.equal(status, 0, out);
    assert.equal(readJson(path.join(root, "packages/a/package.json")).dependencies?.nan, "^2.30.0");
    assert.ok(fs.existsSync(path.join(root, "node_modules/nan/package.json")), out);
    assert.ok(fs.existsSync(path.join(root, "package-lock.json")), out);
    assert.equal(fs.existsSync(path.join(root, "packages/a/package-lock.json")), false);
    assert.ok(fs.existsSync(path.join(root, ".cordon/audit.jsonl")), out);
  });

  test("-w b from the root adds it to packages/b", () => {
    const { status, out } = cordon(root, "install", "-w", "b", "nan@2.30.0");
    assert.equal(status, 0, out);
    assert.equal(readJson(path.join(root, "packages/b/package.json")).dependencies?.nan, "^2.30.0");
  });
});

describe("the exit status tells CI what happened", { skip: unreachable }, () => {
  test("npm itself failed: npm's own exit status", () => {
    const project = projectWith({ dependencies: { nan: "2.30.0" } });
    const npm = spawnSync("npm", ["ci", "--ignore-scripts"], { cwd: project, encoding: "utf8" });
    assert.notEqual(npm.status, 0, "npm ci without a lockfile should fail");
    const { status, out } = cordon(project, "ci");
    assert.equal(status, npm.status, out);
    assert.match(out, /npm ci failed/);
  });

  test("packages need approval: 3, and no script ran", () => {
    const project = projectWith({ dependencies: { "cpu-features": "0.0.10" } });
    const { status, out } = cordon(project, "install");
    assert.equal(status, EXIT_NEEDS_APPROVAL, out);
    assert.equal(fs.existsSync(path.join(project, "node_modules/cpu-features/build")), false);
  });

  test("a script failed (here the project's own postinstall): 4", () => {
    const project = projectWith({ scripts: { postinstall: "exit 7" } });
    const { status, out } = cordon(project, "install");
    assert.equal(status, EXIT_SCRIPT_FAILED, out);
    assert.match(out, /The project's own postinstall script failed \(exit 7\)/);
  });

  test("an approved dependency's script failed (a native build given 1 ms): 4, with the fix", () => {
    const project = projectWith({
      dependencies: { "cpu-features": "0.0.10" },
      allowScripts: { "cpu-features": true },
      cordon: { packages: { "cpu-features": { timeout: "1ms" } } },
    });
    const { status, out } = cordon(project, "install");
    assert.equal(status, EXIT_SCRIPT_FAILED, out);
    assert.match(out, /cpu-features@0\.0\.10: the install script failed/);
    assert.match(out, /cordon approve cpu-features --timeout=/);
  });

  // bubblewrap that cannot set up its namespaces, as on a kernel or
  // container that refuses them: a failing bwrap bind-mounted over the real
  // one in a private mount namespace (needs root and unshare).
  const canShadowBwrap = process.getuid?.() === 0 && spawnSync("unshare", ["-m", "true"]).status === 0 && fs.existsSync("/usr/bin/bwrap");
  test("the sandbox could not start: 125", { skip: canShadowBwrap ? false : "needs root and unshare -m to put a failing bwrap in place" }, () => {
    const project = projectWith({ dependencies: { "cpu-features": "0.0.10" }, allowScripts: { "cpu-features": true } });
    const fake = path.join(project, "failing-bwrap");
    fs.writeFileSync(fake, "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n", { mode: 0o755 });
    const result = spawnSync("unshare", ["-m", "sh", "-c", `mount --bind "$1" /usr/bin/bwrap && exec "$2" "$3" install`, "sh", fake, process.execPath, CLI], { cwd: project, encoding: "utf8" });
    const out = `${result.stdout}${result.stderr}`;
    assert.equal(result.status, EXIT_SANDBOX_FAILED, out);
    assert.match(out, /The sandbox could not start/);
  });

  // An ordinary user in a project folder it may not write (node_modules is
  // its own, as after a sudo'd install was chowned back halfway).
  const testUser = process.env.CORDON_TEST_USER ?? "nobody";
  const uid = Number(spawnSync("id", ["-u", testUser], { encoding: "utf8" }).stdout.trim());
  const gid = Number(spawnSync("id", ["-g", testUser], { encoding: "utf8" }).stdout.trim());
  const asUser = process.getuid?.() !== 0 ? "needs root to switch to an ordinary user"
    : !Number.isInteger(uid) || uid === 0 ? `no user "${testUser}" (set CORDON_TEST_USER)`
      : spawnSync("runuser", ["-u", testUser, "--", "test", "-r", CLI]).status !== 0 ? `${testUser} cannot read ${CLI}` : false;
  test("a project folder cordon may not write: 2, naming the folder", { skip: asUser }, () => {
    const project = projectWith({ dependencies: { nan: "2.30.0" } });
    fs.writeFileSync(path.join(project, "package-lock.json"), JSON.stringify({
      name: "cordon-real-test", version: "1.0.0", lockfileVersion: 3, requires: true,
      packages: { "": { name: "cordon-real-test", version: "1.0.0", dependencies: { nan: "2.30.0" } }, "node_modules/nan": { version: "2.30.0" } },
    }));
    fs.chmodSync(project, 0o755);
    fs.mkdirSync(path.join(project, "node_modules"));
    fs.chownSync(path.join(project, "node_modules"), uid, gid);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-home-"));
    fs.chownSync(home, uid, gid);
    const result = spawnSync("runuser", ["-u", testUser, "--", "env", `HOME=${home}`, `PATH=${process.env.PATH}`, process.execPath, CLI, "ci"], { cwd: project, encoding: "utf8" });
    fs.rmSync(home, { recursive: true, force: true });
    const out = `${result.stdout}${result.stderr}`;
    assert.equal(result.status, EXIT_INSTALL_REFUSED, out);
    assert.match(out, new RegExp(`Cannot write to ${project.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: permission denied`));
    assert.doesNotMatch(out, /internal error/);
  });
});
