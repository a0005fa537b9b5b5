import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { analyzeFile } from "../../src/scan/analyze-file.js";
import { mayMatter } from "../../src/scan/prefilter.js";
import { scanPackageDir, type ScanOptions } from "../../src/scan/scan-package.js";
import type { Finding, PackageReport, Severity } from "../../src/scan/types.js";
import { severityRank } from "../../src/scan/verdict.js";

/** Runs the file rules over code given as text, as the scanner would for a file at `path`. */
export function fileFindings(code: string, options: { installTime?: boolean; path?: string; shellScript?: boolean } = {}): Finding[] {
  const shellScript = options.shellScript ?? false;
  return analyzeFile({ path: options.path ?? (shellScript ? "setup.sh" : "index.js"), bytes: Buffer.from(code), installTime: options.installTime ?? false, isJavaScript: !shellScript, shellScript }).findings;
}

export function ofRule(findings: Finding[], rule: string, atLeast: Severity = "info"): Finding[] {
  return findings.filter((finding) => finding.rule === rule && severityRank(finding.severity) >= severityRank(atLeast));
}

export interface RuleCase {
  name: string;
  code: string;
  installTime?: boolean;
  /** For malicious cases, the weakest severity the rule must report. */
  atLeast?: Severity;
  /** For benign cases, the weakest severity that counts as flagging it (default "medium"). */
  quietBelow?: Severity;
  /** A .sh/.bat/.ps1 file: text-only checks. */
  shellScript?: boolean;
}

/** A throwaway package folder; removed by the returned function. */
export async function makePackage(files: Record<string, string | Uint8Array>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cordon-scan-test-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function scanFiles(files: Record<string, string | Uint8Array>, options: ScanOptions = {}): Promise<PackageReport> {
  const pkg = await makePackage(files);
  try {
    return await scanPackageDir(pkg.dir, { cache: false, ...options });
  } finally {
    await pkg.cleanup();
  }
}

export function manifest(fields: Record<string, unknown>): string {
  return JSON.stringify({ name: "fixture-package", version: "1.0.0", ...fields });
}

/**
 * The oxc-style table for one file rule, one describe block: every malicious
 * case is flagged by the rule at `atLeast` or worse (and passes the
 * pre-filter, so it is parsed at all); no benign look-alike gets anything
 * from the rule at `quietBelow` (default "medium") or worse.
 */
export function ruleTable(rule: string, table: { fail: RuleCase[]; pass: RuleCase[] }): void {
  describe(`rule ${rule}`, () => {
    for (const c of table.fail) {
      it(`flags ${c.name}`, () => {
        assert.ok(c.installTime || mayMatter(c.code), `pre-filter would skip "${c.name}"`);
        const found = ofRule(fileFindings(c.code, { installTime: c.installTime ?? false, shellScript: c.shellScript ?? false }), rule, c.atLeast ?? "low");
        assert.ok(found.length > 0, `${rule} missed "${c.name}"`);
      });
    }
    for (const c of table.pass) {
      it(`does not flag benign look-alike: ${c.name}`, () => {
        const found = ofRule(fileFindings(c.code, { installTime: c.installTime ?? false, shellScript: c.shellScript ?? false }), rule, c.quietBelow ?? "medium");
        assert.deepEqual(found.map((f) => `${f.severity} ${f.message}`), [], `${rule} flagged benign "${c.name}"`);
      });
    }
  });
}
