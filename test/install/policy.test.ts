import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { checkInstallScripts, diffChangedInstallCode } from "../../src/install/check.js";
import type { Decision } from "../../src/install/decide.js";
import { PolicyError } from "../../src/install/errors.js";
import { InstallCodeStore } from "../../src/install/install-code-store.js";
import { inventoryInstallScripts } from "../../src/install/inventory.js";
import { approvePackages } from "../../src/install/policy-edit.js";
import { parseInstallPolicy } from "../../src/install/policy-file.js";
import { installSandboxPermissions } from "../../src/install/sandbox-grants.js";
import { tempDir, writeProject, type FixtureProject } from "./fixture.js";

const scripted = (name: string, version: string, installJs = "console.log('build');\n") => ({
  manifest: { name, version, scripts: { postinstall: "node install.js" } },
  files: { "install.js": installJs },
});

async function decisions(root: Record<string, unknown>, packages: FixtureProject["packages"]): Promise<Map<string, Decision>> {
  const dir = await tempDir();
  await writeProject(dir, { root, packages });
  const check = await checkInstallScripts(dir);
  return new Map(check.decisions.map((d) => [d.package.location, d]));
}

test("allowScripts forms: name true/false, exact version, exact-version disjunction; ranges are ignored with a warning", async () => {
  const root = {
    allowScripts: { a: true, b: false, "c@1.2.3": true, "d@1.0.0 || 2.0.0": true, "e@^1.0.0": true, "f@1.0.0": true },
  };
  const found = await decisions(root, {
    "node_modules/a": scripted("a", "9.9.9"),
    "node_modules/b": scripted("b", "1.0.0"),
    "node_modules/c": scripted("c", "1.2.3"),
    "node_modules/d": scripted("d", "2.0.0"),
    "node_modules/e": scripted("e", "1.5.0"),
    "node_modules/f": scripted("f", "1.0.1"),
    "node_modules/g": scripted("g", "1.0.0"),
  });
  const kinds = Object.fromEntries([...found].map(([k, d]) => [k.slice("node_modules/".length), d.kind]));
  assert.deepEqual(kinds, { a: "approved", b: "denied", c: "approved", d: "approved", e: "unknown", f: "unknown", g: "unknown" });
  const dir = await tempDir();
  await writeProject(dir, { root, packages: {} });
  const check = await checkInstallScripts(dir);
  assert.equal(check.warnings.length, 1);
  assert.match(check.warnings[0]!, /"e@\^1\.0\.0" uses a semver range/);
});

test("deny wins over approve", async () => {
  const found = await decisions({ allowScripts: { x: true, "x@1.0.0": false } }, { "node_modules/x": scripted("x", "1.0.0") });
  assert.equal(found.get("node_modules/x")?.kind, "denied");
});

test("a version allow matches the lockfile's version, not the one the tarball claims", async () => {
  const found = await decisions({ allowScripts: { "x@2.0.0": true } }, {
    "node_modules/x": { lock: { version: "1.0.0" }, manifest: { name: "x", version: "2.0.0", scripts: { install: "node a.js" } }, files: { "a.js": "" } },
  });
  assert.equal(found.get("node_modules/x")?.kind, "unknown");
});

test("an allow for a trusted name does not cover a package whose package.json merely claims that name", async () => {
  const found = await decisions({ allowScripts: { esbuild: true } }, {
    "node_modules/evil-pkg": { lock: { version: "1.0.3" }, manifest: { name: "esbuild", version: "0.25.9", scripts: { preinstall: "node setup.js" } }, files: { "setup.js": "" } },
  });
  assert.equal(found.get("node_modules/evil-pkg")?.kind, "unknown");
});

test("a new version whose install code is byte-identical to the pin stays approved; changed code needs review with a diff", async () => {
  const dir = await tempDir();
  await writeProject(dir, { packages: { "node_modules/esbuild": scripted("esbuild", "0.25.9", "line one\nline two\n") } });
  const store = new InstallCodeStore(dir);
  await approvePackages(dir, ["esbuild"], await inventoryInstallScripts(dir), { store, grants: { net: ["registry.example"] } });
  const policyText = await fs.readFile(path.join(dir, "package.json"), "utf8");

  // Same install code, new version: approved by the pin.
  await writeProject(dir, { root: JSON.parse(policyText), packages: { "node_modules/esbuild": scripted("esbuild", "0.25.10", "line one\nline two\n") } });
  let check = await checkInstallScripts(dir);
  assert.equal(check.decisions[0]?.kind, "approved");

  // Changed install code: needs review, with a unified diff against the approved copy.
  await writeProject(dir, { root: JSON.parse(policyText), packages: { "node_modules/esbuild": scripted("esbuild", "0.25.11", "line one\nfetch('http://evil')\n") } });
  check = await checkInstallScripts(dir);
  const decision = check.decisions[0]!;
  assert.equal(decision.kind, "changed");
  assert.ok(decision.kind === "changed");
  assert.deepEqual(decision.changes.map((c) => [c.what, c.name, c.change]), [["file", "install.js", "modified"]]);
  const diff = await diffChangedInstallCode(decision, store);
  assert.match(diff, /^--- esbuild@0\.25\.9\/install\.js\n\+\+\+ esbuild@0\.25\.11\/install\.js\n@@ -1,2 \+1,2 @@\n line one\n-line two\n\+fetch\('http:\/\/evil'\)\n$/);
  const small = await diffChangedInstallCode(decision, store, { maxBytes: 40 });
  assert.ok(Buffer.byteLength(small) < 200, "the diff is bounded");
});

test("a changed helper loaded by an unchanged install script is a change too", async () => {
  const dir = await tempDir();
  const pkg = (helper: string, version: string) => ({
    manifest: { name: "h", version, scripts: { postinstall: "node install.js" } },
    files: { "install.js": "require('./lib/helper.js')\n", "lib/helper.js": helper },
  });
  await writeProject(dir, { packages: { "node_modules/h": pkg("ok\n", "1.0.0") } });
  await approvePackages(dir, ["h"], await inventoryInstallScripts(dir));
  const root = JSON.parse(await fs.readFile(path.join(dir, "package.json"), "utf8"));
  await writeProject(dir, { root, packages: { "node_modules/h": pkg("evil\n", "1.0.1") } });
  const [decision] = (await checkInstallScripts(dir)).decisions;
  assert.equal(decision?.kind, "changed");
});

test("a changed script text of an approved, pinned package needs review", async () => {
  const dir = await tempDir();
  await writeProject(dir, { packages: { "node_modules/s": scripted("s", "1.0.0") } });
  await approvePackages(dir, ["s"], await inventoryInstallScripts(dir));
  const root = JSON.parse(await fs.readFile(path.join(dir, "package.json"), "utf8"));
  await writeProject(dir, { root, packages: { "node_modules/s": { manifest: { name: "s", version: "1.0.0", scripts: { postinstall: "node install.js && curl x" } }, files: { "install.js": "console.log('build');\n" } } } });
  const [decision] = (await checkInstallScripts(dir)).decisions;
  assert.ok(decision?.kind === "changed");
  assert.deepEqual(decision.changes.map((c) => [c.what, c.name]), [["script", "postinstall"]]);
});

test("malformed policy sections give a PolicyError naming the file, the key and the fix", () => {
  const file = "/p/package.json";
  const cases: [unknown, RegExp, string][] = [
    [{ allowScripts: [] }, /allowScripts is not an object/, "allowScripts"],
    [{ allowScripts: { x: "yes" } }, /allowScripts\["x"\] is "yes", not true or false/, 'allowScripts["x"]'],
    [{ cordon: { packages: { x: { nett: [] } } } }, /is not a known setting/, 'cordon.packages["x"].nett'],
    [{ cordon: { packages: { x: { net: ["*"] } } } }, /every host/, 'cordon.packages["x"].net'],
    [{ cordon: { packages: { x: { net: ["https://a.example"] } } } }, /URL/, 'cordon.packages["x"].net'],
    [{ cordon: { packages: { x: { env: ["NPM_TOKEN"] } } } }, /credential/, 'cordon.packages["x"].env'],
    [{ cordon: { packages: { x: { write: ["../../.ssh"] } } } }, /leaves the package folder/, 'cordon.packages["x"].write'],
    [{ cordon: { packages: { x: { timeout: "soon" } } } }, /not a duration/, 'cordon.packages["x"].timeout'],
    [{ cordon: { packages: { "x@1.0.0": {} } } }, /not a package name/, 'cordon.packages["x@1.0.0"]'],
    [{ cordon: { packages: { x: { pins: [{ hash: "sha256-" + "A".repeat(43) + "=", files: {} }] } } } }, /edited by hand/, 'cordon.packages["x"].pins[0].hash'],
  ];
  for (const [data, message, key] of cases) {
    assert.throws(() => parseInstallPolicy(data, file), (e: unknown) => {
      assert.ok(e instanceof PolicyError, String(e));
      assert.equal(e.code, "E_POLICY");
      assert.match(e.message, message);
      assert.ok(e.message.startsWith(file));
      assert.equal(e.key, key);
      assert.ok(e.hint !== undefined && e.hint.length > 10);
      return true;
    });
  }
});

test("a malformed package.json stops the check before any package is read", async () => {
  const dir = await tempDir();
  await writeProject(dir, { packages: {} });
  await fs.writeFile(path.join(dir, "package.json"), '{ "name": "x", }');
  await assert.rejects(checkInstallScripts(dir), (e: unknown) => e instanceof PolicyError && /package\.json is not valid JSON/.test(e.message));
});

test("an approved package's sandbox: own folder writable, project dependencies read-only, granted hosts only, limits set", async () => {
  const dir = await tempDir();
  await writeProject(dir, {
    root: { allowScripts: { esbuild: true }, cordon: { packages: { esbuild: { net: ["registry.example"], write: ["bin"], env: ["ESBUILD_BINARY_PATH"], timeout: "2m" } } } },
    packages: { "node_modules/esbuild": scripted("esbuild", "0.25.9") },
  });
  const check = await checkInstallScripts(dir);
  const decision = check.decisions[0]!;
  assert.ok(decision.kind === "approved");
  const permissions = installSandboxPermissions(decision.package, decision.package.scripts[0]!, decision.grants, {
    projectDir: dir,
    lockfile: check.inventory.lockfile,
    nodeGypDir: "/cache/node-gyp",
    npm: { version: "11.19.1", nodeExecPath: "/usr/bin/node", nodeGyp: "/npm/node-gyp.js", nodeGypBinDir: "/npm/node-gyp-bin" },
    systemPath: "/usr/bin:/bin",
  });
  const pkgDir = path.join(dir, "node_modules/esbuild");
  // node-gyp's shared cache is never writable ("/cache/node-gyp" does not exist here: a private one is used).
  assert.deepEqual(permissions.allowWrite, [pkgDir, path.join(pkgDir, "bin")]);
  assert.equal((permissions.env as Record<string, string>).npm_config_devdir, "/tmp/.cache/node-gyp");
  assert.deepEqual(permissions.allowRead, [path.join(dir, "node_modules"), path.join(dir, "package.json"), path.join(dir, "package-lock.json")]);
  assert.deepEqual(permissions.allowNet, ["registry.example"]);
  assert.deepEqual(permissions.allowEnv, ["ESBUILD_BINARY_PATH"]);
  assert.equal(permissions.timeout, "2m");
  assert.equal(permissions.memory, "4g");
  assert.equal(permissions.cwd, pkgDir);
  const env = permissions.env as Record<string, string>;
  assert.equal(env.npm_lifecycle_event, "postinstall");
  assert.equal(env.npm_package_name, "esbuild");
});

test("the pin covers what the gyp files name transitively: 'other.gyp:target' dependencies, includes, action scripts, <!(…) scripts, sources", async () => {
  const files = (variant: Record<string, string> = {}): Record<string, string> => ({
    "binding.gyp": "{ 'targets': [{ 'target_name': 'addon', 'sources': ['src/addon.cc'], 'dependencies': ['deps/other.gyp:lib'],\n  'include_dirs': [\"<!(node tools/include.js)\"] }] }\n",
    "deps/other.gyp": "{ 'includes': ['defines.gypi'], 'targets': [{ 'target_name': 'lib', 'actions': [{ 'action_name': 'copy',\n  'inputs': ['input.txt'], 'outputs': ['<(INTERMEDIATE_DIR)/out.c'], 'action': ['node', 'copy.js', '<(INTERMEDIATE_DIR)'] }],\n  'sources': ['lib.c'] }] }\n",
    "deps/defines.gypi": "{ 'defines': ['X=1'] }\n",
    "deps/copy.js": "require('fs').copyFileSync('a', 'b');\n",
    "deps/input.txt": "data\n",
    "deps/lib.c": "int lib;\n",
    "tools/include.js": "console.log('.');\n",
    "src/addon.cc": "int addon;\n",
    ...variant,
  });
  const pkg = (variant: Record<string, string> = {}) => ({ manifest: { name: "gyp-chain", version: "1.0.0" }, files: files(variant) });
  const dir = await tempDir();
  await writeProject(dir, { packages: { "node_modules/gyp-chain": pkg() } });
  const inventory = await inventoryInstallScripts(dir);
  const pinned = Object.keys(inventory.packages[0]!.installCode.files).sort();
  assert.deepEqual(pinned, Object.keys(files()).sort());
  await approvePackages(dir, ["gyp-chain"], inventory);
  const root = JSON.parse(await fs.readFile(path.join(dir, "package.json"), "utf8"));
  for (const [file, text] of Object.entries({ "deps/copy.js": "require('child_process').execSync('curl evil');\n", "deps/other.gyp": files()["deps/other.gyp"]!.replace("'copy'", "'copy2'"), "deps/defines.gypi": "{ 'defines': ['Y=1'] }\n", "tools/include.js": "evil();\n" })) {
    await writeProject(dir, { root, packages: { "node_modules/gyp-chain": pkg({ [file]: text }) } });
    const [decision] = (await checkInstallScripts(dir)).decisions;
    assert.equal(decision?.kind, "changed", `a change to ${file} alone`);
  }
});
