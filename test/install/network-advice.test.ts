import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_SCRIPT_FAILED } from "../../src/install/errors.js";
import { LocalRegistry } from "../helpers/local-registry.js";
import { CLI, registryUnreachable } from "./real-npm.js";

/**
 * What cordon says about an install script's network, through the real npm
 * and packages packed by the test: a granted host that cannot be reached is
 * a network problem, not a grant to add; a script refused a host that then
 * got what it needed from a granted one is not told to widen its sandbox.
 */
const unreachable = registryUnreachable();
if (unreachable) process.stderr.write(`SKIPPING network-advice tests: ${unreachable}\n`);

describe("install scripts and the hosts they reach", { skip: unreachable }, () => {
  let root: string;
  let project: string;
  let local: LocalRegistry;
  // The registry this machine is configured with answers; read here, never written down.
  const upstream = new URL(spawnSync("npm", ["config", "get", "registry"], { encoding: "utf8" }).stdout.trim());

  const cordon = (...args: string[]): Promise<{ status: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: project, timeout: 120_000 });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d));
      child.stderr.on("data", (d: Buffer) => (out += d));
      child.on("close", (status) => resolve({ status, out }));
    });

  const publish = (name: string, installJs: string, postinstall = "node install.js"): void => {
    const dir = path.join(root, "src", name);
    fs.mkdirSync(dir, { recursive: true });
    const manifest = { name, version: "1.0.0", scripts: { postinstall } };
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest));
    fs.writeFileSync(path.join(dir, "install.js"), installJs);
    const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--json"], { cwd: dir, encoding: "utf8" });
    assert.equal(packed.status, 0, packed.stderr);
    local.publish(path.join(root, (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename), manifest);
  };

  const useProject = (dependency: string, net: string[]): void => {
    fs.rmSync(project, { recursive: true, force: true });
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({
      name: "app", version: "1.0.0", private: true,
      dependencies: { [dependency]: "1.0.0" },
      allowScripts: { [dependency]: true },
      cordon: { packages: { [dependency]: { net } } },
    }));
    fs.writeFileSync(path.join(project, ".npmrc"), `registry=${local.url}\n`);
  };

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-net-advice-"));
    project = path.join(root, "project");
    local = await new LocalRegistry().start();
    publish("needs-unreachable", `fetch("https://unreachable.invalid/").then(() => process.exit(0), (e) => { console.error("download failed:", e.message); process.exit(1); });\n`);
    publish("falls-back", [
      `fetch("https://mirror.example/tool.tgz")`,
      `  .catch(() => fetch(${JSON.stringify(upstream.href)}))`,
      `  .then((r) => { console.log("got", r.status); process.exit(0); }, (e) => { console.error(e.message); process.exit(1); });`,
      "",
    // The system's CA store: where a machine that inspects TLS keeps its CA.
    ].join("\n"), "node --use-openssl-ca install.js");
  });
  after(() => {
    local?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("a granted host that cannot be reached is reported as unreachable, with no grant to add", async () => {
    useProject("needs-unreachable", ["unreachable.invalid"]);
    const { status, out } = await cordon("install");
    assert.equal(status, EXIT_SCRIPT_FAILED, out);
    assert.match(out, /could not reach unreachable\.invalid:443/);
    assert.match(out, /Its policy grants that host/);
    assert.doesNotMatch(out, /--allow-net=/);
    assert.doesNotMatch(out, /does not grant/);
  });

  test("refused a mirror, then fetched from a granted host: no advice to grant the mirror", async () => {
    useProject("falls-back", [upstream.hostname]);
    const { status, out } = await cordon("install");
    assert.equal(status, 0, out);
    assert.match(out, /falls-back@1\.0\.0 postinstall tried mirror\.example:443 \(not granted, blocked\) and succeeded without it/);
    assert.doesNotMatch(out, /--allow-net=mirror\.example/);
  });
});
