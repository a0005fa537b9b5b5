import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_NEEDS_APPROVAL } from "../../src/install/errors.js";
import { snapshotTree } from "../helpers/host-fixture.js";

const CLI = path.resolve("dist/src/cli/main.js");
const FIXTURES = path.resolve("test/install/fixtures/attacks");
const PLANTED = { NPM_TOKEN: "npm_plantedForCordonTest", GITHUB_TOKEN: "ghp_plantedForCordonTest" };
const REPLICAS = ["shai-hulud-replica", "shai-hulud-2-replica", "gyp-payload-replica", "manifest-editor-replica"];
const npmWorks = spawnSync("npm", ["--version"], { encoding: "utf8" }).status === 0;

/**
 * Inert replicas of real install-time attacks, installed by the real npm from
 * tarballs made with the real `npm pack`, then approved (the worst case: the
 * user said yes). None may reach a token, the exfiltration server, the
 * project's files, a sibling package or the workflows folder.
 */
describe("cordon install against inert replicas of real attacks", { skip: !npmWorks && "npm is not on PATH" }, () => {
  let root: string;
  let project: string;
  let home: string;
  let received: string[];
  let server: http.Server;
  const marker = `cordon-stage2-${process.pid}`;

  const cordon = (...args: string[]) => {
    const result = spawnSync(process.execPath, [CLI, ...args], {
      cwd: project,
      encoding: "utf8",
      env: { ...process.env, ...PLANTED },
      timeout: 240_000,
    });
    return { status: result.status, out: `${result.stdout}${result.stderr}` };
  };
  const reportOf = (name: string): Record<string, unknown> | undefined => {
    const file = path.join(project, "node_modules", name, "report.json");
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : undefined;
  };
  const projectFiles = (): Map<string, string> => {
    const all = snapshotTree(project);
    for (const key of [...all.keys()]) {
      if (key.startsWith(".cordon") || (key.startsWith("node_modules/") && !key.startsWith("node_modules/victim-sibling/"))) all.delete(key);
    }
    return all;
  };

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-attacks-"));
    project = path.join(root, "project");
    home = path.join(root, "home");
    fs.mkdirSync(path.join(home, ".config/gh"), { recursive: true });
    fs.writeFileSync(path.join(home, ".npmrc"), `//registry.example/:_authToken=${PLANTED.NPM_TOKEN}\n`);
    fs.writeFileSync(path.join(home, ".config/gh/hosts.yml"), `github.com:\n  oauth_token: ${PLANTED.GITHUB_TOKEN}\n`);
    received = [];
    server = http.createServer((request, response) => {
      received.push(`${request.method} ${request.url}`);
      request.resume();
      response.end("stolen");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const exfilPort = (server.address() as { port: number }).port;

    const tarballs = path.join(root, "tarballs");
    fs.mkdirSync(tarballs);
    const dependencies: Record<string, string> = {};
    for (const dir of fs.readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const copy = path.join(root, "src", dir.name);
      fs.cpSync(path.join(FIXTURES, dir.name), copy, { recursive: true });
      fs.writeFileSync(path.join(copy, "target.json"), JSON.stringify({ home, project, exfilPort, marker, stage2DelayMs: 1500 }));
      const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", tarballs, "--json"], { cwd: copy, encoding: "utf8" });
      assert.equal(packed.status, 0, packed.stderr);
      const [{ filename, name }] = JSON.parse(packed.stdout) as [{ filename: string; name: string }];
      dependencies[name] = `file:../tarballs/${filename}`;
    }
    fs.mkdirSync(path.join(project, ".git/hooks"), { recursive: true });
    fs.writeFileSync(path.join(project, ".git/config"), "[core]\n");
    fs.writeFileSync(path.join(project, "package.json"), `${JSON.stringify({ name: "victim-app", version: "1.0.0", private: true, dependencies }, null, 2)}\n`);
  });
  after(() => {
    server?.close();
    spawnSync("pkill", ["-f", marker]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("in CI, unreviewed packages stop the install before any script runs", () => {
    const { status, out } = cordon("install");
    assert.equal(status, EXIT_NEEDS_APPROVAL, out);
    assert.match(out, /No install script ran/);
    for (const name of REPLICAS) {
      assert.match(out, new RegExp(`cordon approve ${name}`), `names the command for ${name}`);
      assert.equal(reportOf(name), undefined, `${name} ran`);
    }
    assert.match(out, /gyp-payload-replica.*node-gyp rebuild/, "the implicit node-gyp build of a binding.gyp is listed");
    assert.match(out, /shai-hulud-replica@1\.0\.0 .*⚠ (malicious|suspicious): /, "cordon scan's verdict is shown before anything runs");
    assert.deepEqual(received, []);
  });

  test("approved, each replica runs confined: no token, no exfiltration, no write outside its folder", async () => {
    assert.equal(cordon("approve", ...REPLICAS).status, 0);
    const before = projectFiles();
    const { status, out } = cordon("install");
    assert.equal(status, 0, out);

    const worm = reportOf("shai-hulud-replica") as { tokens: Record<string, string | null>; files: Record<string, { ok: boolean }>; writes: Record<string, { ok: boolean }>; exfil: Record<string, { ok: boolean }> };
    assert.ok(worm, "the replica ran and reported");
    assert.equal(worm.tokens.NPM_TOKEN, null);
    assert.equal(worm.tokens.GITHUB_TOKEN, null);
    for (const value of Object.values(PLANTED)) assert.ok(!JSON.stringify(worm).includes(value), `leaked ${value}`);
    for (const [file, result] of Object.entries(worm.files)) assert.equal(result.ok, false, `read ${file}`);
    // (The replica's own view of its writes may say "ok": a path that does not
    // exist inside lands in the sandbox's private scratch space. What counts
    // is the host, checked below.)
    assert.ok(worm.writes.workflow && worm.writes.sibling, "the replica tried both writes");
    for (const [how, result] of Object.entries(worm.exfil)) assert.equal(result.ok, false, `exfiltrated ${how}`);

    const editor = reportOf("manifest-editor-replica") as { edit: string; hook: string };
    assert.notEqual(editor.edit, "written");
    assert.notEqual(editor.hook, "written");
    const gyp = reportOf("gyp-payload-replica") as { project: string; tokens: string[] };
    assert.ok(gyp, "the binding.gyp expansion ran (inside the sandbox)");
    assert.ok(!fs.existsSync(path.join(project, "GYP_PAYLOAD_RAN")), "the gyp payload wrote into the project");
    assert.deepEqual(gyp.tokens, []);

    // The second stage was launched detached; it must have died with its sandbox.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(spawnSync("pgrep", ["-f", marker]).status, 1, "the detached second stage is still running");
    assert.ok(!fs.existsSync(path.join(project, "STAGE2_RAN")));
    assert.ok(!fs.existsSync(path.join(project, "node_modules/shai-hulud-2-replica/stage2-ran")));

    assert.deepEqual(received, [], "the exfiltration server was reached");
    assert.deepEqual(projectFiles(), before, "the project changed");
    assert.ok(!fs.existsSync(path.join(project, ".github")), "a workflow was planted");
    assert.equal(fs.readFileSync(path.join(project, "node_modules/victim-sibling/index.js"), "utf8"), 'module.exports = "untouched";\n');
  });

  test("every attempt is in the audit log", () => {
    const audit = fs.readFileSync(path.join(project, ".cordon/audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(audit.some((r) => r.type === "net" && r.action === "blocked" && r.host === "exfil.test"), "blocked exfil.test");
    for (const name of REPLICAS) {
      assert.ok(audit.some((r) => r.type === "decision" && String(r.package).startsWith(name) && r.decision === "unknown" && r.by === "ci"));
      assert.ok(audit.some((r) => r.type === "script" && String(r.package).startsWith(name) && r.exitCode === 0), `${name} script recorded`);
    }
    const { out } = cordon("audit");
    assert.match(out, /net\s+shai-hulud-replica@1\.0\.0 blocked exfil\.test:\d+/);
  });
});
