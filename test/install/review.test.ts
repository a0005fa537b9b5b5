import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

const CLI = path.resolve("dist/src/cli/main.js");
const hasScript = fs.existsSync("/usr/bin/script");

/**
 * On a terminal, `cordon install` reviews each unknown package and writes the
 * answer to the policy. script(1) gives cordon a real terminal; the answers
 * are typed into it.
 */
describe("interactive review on a terminal", { skip: !hasScript && "needs script(1) from util-linux" }, () => {
  let root: string;
  let project: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-review-"));
    const tarballs = path.join(root, "tarballs");
    fs.mkdirSync(tarballs);
    const dependencies: Record<string, string> = {};
    for (const [name, script] of [["wants-build", "echo built > built.txt"], ["wants-more", "echo more > more.txt"]] as const) {
      const dir = path.join(root, "src", name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", scripts: { postinstall: `${script} \u001b[31m` } }));
      const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", tarballs, "--json"], { cwd: dir, encoding: "utf8" });
      dependencies[name] = `file:../tarballs/${(JSON.parse(packed.stdout) as [{ filename: string }])[0].filename}`;
    }
    project = path.join(root, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies }, null, 2));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test("answers are written to the policy, and only the approved script runs", () => {
    const result = spawnSync("script", ["-qec", `${process.execPath} ${CLI} install`, "/dev/null"], {
      cwd: project,
      input: "y\nn\n",
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(result.status, 0, result.stdout);
    assert.match(result.stdout, /\? Review wants-build@1\.0\.0/);
    assert.match(result.stdout, /postinstall: echo built > built\.txt/);
    assert.doesNotMatch(result.stdout, /\u001b\[31m/, "a package's escape sequence reached the terminal");
    assert.match(result.stdout, /If approved it runs in its own sandbox/);
    const manifest = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")) as { allowScripts: Record<string, boolean> };
    assert.deepEqual(Object.values(manifest.allowScripts).sort(), [false, true]);
    assert.ok(fs.existsSync(path.join(project, "node_modules/wants-build/built.txt")));
    assert.ok(!fs.existsSync(path.join(project, "node_modules/wants-more/more.txt")));
  });

  test("the review shows the code of the files a script runs, not only the command", () => {
    const dir = path.join(root, "src", "runs-a-file");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "runs-a-file", version: "1.0.0", scripts: { postinstall: "node setup.js" } }));
    fs.writeFileSync(path.join(dir, "setup.js"), 'require("./helper");\nconsole.log("SETUP-MARKER \u001b[2J");\n');
    fs.writeFileSync(path.join(dir, "helper.js"), "module.exports = 1;\n");
    const tarballs = path.join(root, "tarballs");
    const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", tarballs, "--json"], { cwd: dir, encoding: "utf8" });
    const manifest = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    manifest.dependencies["runs-a-file"] = `file:../tarballs/${(JSON.parse(packed.stdout) as [{ filename: string }])[0].filename}`;
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify(manifest, null, 2));
    const result = spawnSync("script", ["-qec", `${process.execPath} ${CLI} install`, "/dev/null"], { cwd: project, input: "s\n", encoding: "utf8", timeout: 120_000 });
    assert.equal(result.status, 0, result.stdout);
    assert.match(result.stdout, /install code: 2 files: (helper\.js, setup\.js|setup\.js, helper\.js)/);
    assert.match(result.stdout, /── setup\.js ──/);
    assert.match(result.stdout, /^\s+2\s+console\.log\("SETUP-MARKER/m);
    assert.doesNotMatch(result.stdout, /\u001b\[2J/, "a file's escape sequence reached the terminal");
  });
});
