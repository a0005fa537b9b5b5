import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { lifecycleEnv, type LifecycleEnvInput } from "../../src/install/lifecycle-env.js";
import { manifestFrom } from "../../src/install/manifest.js";
import { locateNpm } from "../../src/install/npm-facts.js";
import { tempDir } from "./fixture.js";

const NPM = { version: "11.19.1", nodeExecPath: "/usr/bin/node", nodeGyp: "/npm/node-gyp.js", nodeGypBinDir: "/npm/node-gyp-bin" };

function input(overrides: Partial<LifecycleEnvInput> = {}): LifecycleEnvInput {
  return {
    projectDir: "/p",
    packageDir: "/p/node_modules/a/node_modules/b",
    event: "postinstall",
    script: "node install.js",
    name: "b",
    version: "1.2.3",
    resolved: "https://registry.example/b/-/b-1.2.3.tgz",
    integrity: "sha512-x",
    manifest: manifestFrom({ name: "b", version: "1.2.3", config: { port: 8080, nested: { x: true } }, engines: { node: ">=18" }, bin: "cli.js" }, "b"),
    npm: NPM,
    systemPath: "/usr/bin:/bin",
    ...overrides,
  };
}

test("lifecycle env: npm's variables, lockfile identity, PATH with each node_modules/.bin then node-gyp-bin", () => {
  const env = lifecycleEnv(input());
  assert.equal(env.npm_package_name, "b");
  assert.equal(env.npm_package_version, "1.2.3");
  assert.equal(env.npm_package_json, "/p/node_modules/a/node_modules/b/package.json");
  assert.equal(env.npm_package_config_port, "8080");
  assert.equal(env.npm_package_config_nested_x, "true");
  assert.equal(env.npm_package_engines_node, ">=18");
  assert.equal(env.npm_package_bin_b, "cli.js");
  assert.equal(env.npm_lifecycle_event, "postinstall");
  assert.equal(env.npm_lifecycle_script, "node install.js");
  assert.equal(env.INIT_CWD, "/p");
  assert.equal(env.npm_config_node_gyp, "/npm/node-gyp.js");
  assert.equal(env.PATH, "/p/node_modules/a/node_modules/b/node_modules/.bin:/p/node_modules/a/node_modules/.bin:/p/node_modules/.bin:/npm/node-gyp-bin:/usr/bin:/bin");
});

test("lifecycle env never carries credentials, whatever the npm config holds", () => {
  const env = lifecycleEnv(input({
    config: { "//registry.example/:_authToken": "secret", _auth: "secret", "_authToken": "secret", nodedir: "/opt/node", "https-proxy": "http://u:p@proxy", registry: "https://r", python: "/usr/bin/python3", "NPM_TOKEN": "secret" },
  }));
  assert.equal(env.npm_config_nodedir, "/opt/node");
  assert.equal(env.npm_config_python, "/usr/bin/python3");
  for (const [name, value] of Object.entries(env)) {
    assert.doesNotMatch(name, /auth|token|proxy|registry/i, name);
    assert.notEqual(value, "secret", name);
  }
});

test("a hostile package.json cannot set PATH or NODE_OPTIONS through config keys", () => {
  const env = lifecycleEnv(input({ manifest: manifestFrom({ config: { "x\nPATH": "/evil", "../NODE_OPTIONS": "--require /evil" } }, "b") }));
  assert.equal(Object.keys(env).some((k) => k.includes("PATH") && k !== "PATH"), false);
  assert.equal(env.NODE_OPTIONS, undefined);
});

test("lifecycle env matches what real npm gives a postinstall script", (t) => {
  const npm = locateNpm();
  if (npm === undefined) {
    t.skip("npm is not installed next to node here; cannot compare with real npm");
    return;
  }
  return (async () => {
    const root = await tempDir();
    const pkgDir = path.join(root, "envpkg");
    const proj = path.join(root, "proj");
    await fs.mkdir(pkgDir);
    await fs.mkdir(proj);
    await fs.mkdir(path.join(root, "home"));
    const manifest = { name: "envpkg", version: "1.0.0", scripts: { postinstall: 'node -e "process.stdout.write(JSON.stringify(process.env))" > "$INIT_CWD/env.json"' }, config: { port: "8080" }, engines: { node: ">=18" }, bin: { envpkg: "cli.js" } };
    await fs.writeFile(path.join(pkgDir, "package.json"), JSON.stringify(manifest));
    await fs.writeFile(path.join(pkgDir, "cli.js"), "#!/usr/bin/env node\n");
    await fs.writeFile(path.join(proj, "package.json"), JSON.stringify({ name: "proj", version: "0.0.1", dependencies: { envpkg: "file:../envpkg" }, allowScripts: { envpkg: true } }));
    // Our own inert package, run with a scrubbed environment so nothing of the host's leaks into the comparison.
    const result = spawnSync(process.execPath, [npm.execPath!, "install", "--no-audit", "--no-fund", "--install-links", "--loglevel=error"], {
      cwd: proj,
      env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: path.join(root, "home") },
      encoding: "utf8",
      timeout: 120_000,
    });
    const real = await fs.readFile(path.join(proj, "env.json"), "utf8").then((text) => JSON.parse(text) as Record<string, string>, () => undefined);
    if (real === undefined) {
      t.skip(`npm did not run the postinstall (exit ${result.status}): ${result.stderr.slice(0, 300)}`);
      return;
    }
    const packageDir = path.join(proj, "node_modules", "envpkg");
    const ours = lifecycleEnv({
      projectDir: proj,
      packageDir,
      event: "postinstall",
      script: manifest.scripts.postinstall,
      name: "envpkg",
      version: "1.0.0",
      resolved: real.npm_package_resolved,
      integrity: undefined,
      manifest: manifestFrom(manifest, "envpkg"),
      npm: { ...npm, version: real.npm_config_npm_version ?? npm.version },
      systemPath: "/usr/bin:/bin",
    });
    for (const name of [
      "npm_package_name", "npm_package_version", "npm_package_json", "npm_package_resolved", "npm_package_config_port",
      "npm_package_engines_node", "npm_package_bin_envpkg", "npm_package_dev", "npm_package_optional", "npm_package_peer",
      "npm_package_dev_optional", "npm_lifecycle_event", "npm_lifecycle_script", "npm_config_node_gyp", "npm_config_user_agent",
      "npm_config_npm_version", "npm_config_local_prefix", "npm_node_execpath", "NODE", "INIT_CWD", "npm_command", "COLOR",
    ]) {
      assert.equal(ours[name], real[name], name);
    }
    // npm walks PATH up to "/"; inside the sandbox only the project's folders exist, so ours is npm's list bounded to the project.
    const realPath = (real.PATH ?? "").split(":");
    const ourPath = (ours.PATH ?? "").split(":");
    const expected = realPath.filter((dir) => (dir.startsWith(proj) && !dir.endsWith("node_modules/node_modules/.bin")) || dir === npm.nodeGypBinDir);
    assert.deepEqual(ourPath.slice(0, expected.length), expected);
  })();
});
