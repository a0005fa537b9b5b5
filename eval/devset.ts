/**
 * Recall on real npm malware: the dev set in /work/shared/malware-devset
 * (an encrypted zip, password `infected`, with index.tsv). It is unpacked
 * into a private temporary folder (mode 0700), read as text by the scanner
 * like any package, and removed on every path. Nothing in it is installed,
 * required or run: the scanner never executes what it reads.
 *
 * The set is split by a fixed hash of the package name so that rules can be
 * written against one part and measured on the other: a package is held out
 * when the first four bytes of sha256(name), read as a big-endian unsigned
 * integer, are 0, 1 or 2 modulo 10 (47 of 154 packages, 39 of 132 names).
 * Every version of a name falls on the same side. Rules were written while
 * reading only the development part; the held-out part is reported apart.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { chmod, mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { analyzeFile } from "../src/scan/analyze-file.js";
import { scanPackageDir, verdictOf, type FileAnalyzerPool, type Finding, type Verdict } from "../src/scan/index.js";

const run = promisify(execFile);

export interface DevsetSample {
  name: string;
  version: string;
  family: string;
  /** Folder inside the zip. */
  path: string;
  holdout: boolean;
}

export interface DevsetRow extends DevsetSample {
  verdict: Verdict;
  /** Rules that reported medium or worse. */
  rules: string[];
}

/** The fixed split: about 30 % of names, chosen by hash, never by looking at the samples. */
export function isHeldOut(name: string): boolean {
  return createHash("sha256").update(name).digest().readUInt32BE(0) % 10 < 3;
}

const CLEANUP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * An unpacked copy of the dev set that removes itself: when disposed, and
 * also when the process ends some other way (an exception, Ctrl-C, a
 * closed pipe), because what it holds is real malware.
 */
class UnpackedDevset implements AsyncDisposable {
  readonly #removeNow = () => rmSync(this.dir, { recursive: true, force: true });
  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.#removeNow();
    process.kill(process.pid, signal);
  };

  private constructor(readonly dir: string) {
    process.once("exit", this.#removeNow);
    for (const signal of CLEANUP_SIGNALS) process.once(signal, this.#onSignal);
  }

  static async open(zip: string): Promise<UnpackedDevset> {
    const dir = await mkdtemp(join(tmpdir(), "cordon-devset-"));
    const unpacked = new UnpackedDevset(dir);
    try {
      await chmod(dir, 0o700);
      // unzip refuses `..` and absolute names by default; the set holds regular files only.
      await run("unzip", ["-q", "-P", "infected", "-d", dir, zip], { maxBuffer: 16 << 20, timeout: 120_000 });
    } catch (error) {
      await unpacked[Symbol.asyncDispose]();
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      throw new Error(missing ? "unzip is not installed: apt-get install -y unzip, then run the eval again" : `could not unpack ${zip}: ${(error as Error).message}`);
    }
    return unpacked;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Synchronous, and before the handlers go: an exit between the two
    // (a closed pipe's EPIPE arriving mid-removal) must not leave a copy.
    this.#removeNow();
    process.off("exit", this.#removeNow);
    for (const signal of CLEANUP_SIGNALS) process.off(signal, this.#onSignal);
  }
}

export async function evaluateDevset(pool: FileAnalyzerPool, devsetDir: string, options: { verbose: boolean }) {
  const zip = join(devsetDir, "samples.zip");
  if (!existsSync(zip)) {
    // Said out loud: a missing set must not read as a recall of zero, nor pass silently.
    console.log(`\nReal-malware dev set: SKIPPED, not found at ${devsetDir} (pass --devset=DIR, a folder with samples.zip and index.tsv)`);
    return undefined;
  }
  const samples = await loadIndex(join(devsetDir, "index.tsv"));
  await using unpacked = await UnpackedDevset.open(zip);
  const rows: DevsetRow[] = [];
  for (const sample of samples) {
    const report = await scanPackageDir(join(unpacked.dir, sample.path), { cache: false, pool });
    rows.push({ ...sample, verdict: report.verdict, rules: rulesOf(report.findings) });
  }
  const payloads = await scanPayloads(join(unpacked.dir, "malcontent-samples_payload_only"));
  console.log("\nReal malware (dev set, read as text from a private temporary copy, removed afterwards)");
  for (const part of [{ label: "development part", holdout: false }, { label: "held-out part", holdout: true }]) {
    const subset = rows.filter((row) => row.holdout === part.holdout);
    console.log(`  recall on real malware, ${part.label}: ${rateLine(subset)}`);
  }
  console.log(`  recall on real malware, all packages: ${rateLine(rows)}`);
  console.log(`  payload files without package.json (run-time code only): ${rateLine(payloads)}`);
  // Only the development part is listed by name: reading why held-out samples
  // were missed would turn them into development data.
  const shown = rows.filter((row) => row.verdict !== "malicious" && (options.verbose || !row.holdout));
  for (const row of shown) console.log(`    ${row.verdict.padEnd(10)} ${`${row.name}@${row.version}`.padEnd(40)} ${row.family.slice(0, 50).padEnd(50)} ${row.rules.join(", ")}`);
  return { rows, payloads };
}

function rateLine(rows: ReadonlyArray<{ verdict: Verdict }>): string {
  const malicious = rows.filter((row) => row.verdict === "malicious").length;
  const flagged = rows.filter((row) => row.verdict !== "ok").length;
  const share = (n: number) => (rows.length ? n / rows.length : 0).toFixed(2);
  return `${share(malicious)} malicious (${malicious} of ${rows.length}), ${share(flagged)} malicious or suspicious (${flagged})`;
}

async function loadIndex(path: string): Promise<DevsetSample[]> {
  const lines = (await readFile(path, "utf8")).split("\n").slice(1).filter(Boolean);
  return lines.map((line) => {
    const [, name, version, family, , folder] = line.split("\t");
    return { name: name!, version: version!, family: family ?? "", path: folder!, holdout: isHeldOut(name!) };
  });
}

/** Files that came without their package: each folder's JavaScript through the file rules, as run-time code. */
async function scanPayloads(root: string): Promise<Array<{ name: string; verdict: Verdict }>> {
  if (!existsSync(root)) return [];
  const found: Array<{ name: string; verdict: Verdict }> = [];
  for (const entry of (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const findings: Finding[] = [];
    for (const file of (await readdir(join(root, entry.name))).filter((name) => /\.(?:c|m)?js$/.test(name))) {
      const bytes = await readFile(join(root, entry.name, file));
      findings.push(...analyzeFile({ path: file, bytes, installTime: false, isJavaScript: true, shellScript: false }).findings);
    }
    found.push({ name: entry.name, verdict: verdictOf(findings) });
  }
  return found;
}

function rulesOf(findings: Finding[]): string[] {
  return [...new Set(findings.filter((f) => f.severity === "critical" || f.severity === "high" || f.severity === "medium").map((f) => `${f.rule}:${f.severity[0]}`))];
}
