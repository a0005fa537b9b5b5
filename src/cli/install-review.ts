import path from "node:path";
import { approvedFromRegistry } from "../install/approved-code.js";
import { readBounded } from "../install/bounded-read.js";
import { diffChangedInstallCode } from "../install/check.js";
import type { ScriptedPackage } from "../install/inventory.js";
import type { ReviewAnswer, ReviewRequest } from "../install/install.js";
import { displayId } from "../install/package-identity.js";
import type { ScriptTarget } from "../install/lifecycle-script.js";
import { TerminalLines } from "./terminal-lines.js";
import { paint, sanitizeForTerminal } from "./terminal.js";

/**
 * The interactive review of one package that wants to run code at install
 * time: what it runs, what changed since it was approved, what it will be
 * allowed to touch; the answer goes into the policy. Everything shown that
 * came from the package is sanitized first.
 */
export function terminalReview(): { review: (request: ReviewRequest) => Promise<ReviewAnswer>; close: () => void } | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const answers = TerminalLines.open();
  if (!answers) return undefined;
  const review = async ({ decision, store, scan, check }: ReviewRequest): Promise<ReviewAnswer> => {
    const pkg = decision.package;
    const out: string[] = [];
    const clean = (text: string): string => sanitizeForTerminal(text);
    out.push("", paint("bold", `? Review ${clean(displayId(pkg.identity))}`) + (pkg.identity.resolved ? `  from ${clean(pkg.identity.resolved)}` : ""));
    if (pkg.claimMismatch) {
      out.push(paint("red", `  ⚠ its package.json claims to be ${clean(`${pkg.claimed.name}@${pkg.claimed.version}`)}: the lockfile identity is shown`));
    }
    for (const script of pkg.scripts) {
      out.push(`  ${script.event}${script.implicit ? " (implicit)" : ""}: ${clean(script.command)}${script.hints.includes("native-build") ? "   [native build]" : ""}`);
      for (const target of script.targets) out.push(`    runs ${describeTarget(target, clean)}`);
    }
    if (decision.kind === "unknown") out.push(...(await installCodePreview(pkg, clean)));
    if (scan && scan.findings.length > 0) {
      out.push(paint(scan.verdict === "malicious" ? "red" : "yellow", `  cordon scan: ${scan.verdict}`));
      for (const f of scan.findings.slice(0, 12)) {
        out.push(`    ${f.severity.padEnd(8)} ${clean(f.rule)}  ${clean(f.file)}:${f.line}  ${clean(f.message)}`);
        if (f.evidence) out.push(`             ${clean(f.evidence.slice(0, 160))}`);
      }
      if (scan.findings.length > 12) out.push(`    … ${scan.findings.length - 12} more (cordon scan ${clean(pkg.dir)})`);
    } else if (scan) {
      out.push(`  cordon scan: no findings`);
    }
    if (decision.kind === "changed") {
      out.push(paint("yellow", "  Its install code changed since it was approved:"));
      const diff = await diffChangedInstallCode(decision, store, { maxBytes: 16 * 1024, recover: approvedFromRegistry(decision, store, check.inventory.projectDir) });
      out.push(...diff.split("\n").map((line) => `    ${clean(line)}`));
    }
    out.push(
      "  If approved it runs in its own sandbox: its package folder writable; node_modules, package.json",
      "  and the lockfile read-only; no environment but npm's lifecycle variables; no network unless granted",
      "  (cordon approve NAME --allow-net=HOST); 10 minutes and 4 GiB at most.",
    );
    process.stderr.write(`${out.join("\n")}\n`);
    return answers.ask(`  Approve? [y]es, [n]o (deny, remember it), [s]kip this time > `, (text) => {
      const answer = text.toLowerCase();
      if (answer === "y" || answer === "yes") return "approve";
      if (answer === "n" || answer === "no") return "deny";
      if (answer === "s" || answer === "skip" || answer === "") return "skip";
      return undefined;
    }, "skip");
  };
  return { review, close: () => answers.close() };
}

const PREVIEW_FILES = 3;
const PREVIEW_LINES = 40;
const PREVIEW_BYTES = 4096;

/**
 * What the package's install code is: every file its pin would cover, and
 * the text of the files its scripts run (the first lines of each), so the
 * reviewer reads the code, not only the command that starts it.
 */
async function installCodePreview(pkg: ScriptedPackage, clean: (t: string) => string): Promise<string[]> {
  const files = Object.keys(pkg.installCode.files);
  if (files.length === 0) return [];
  const out = [`  install code: ${files.length} file${files.length === 1 ? "" : "s"}: ${clean(files.slice(0, 12).join(", "))}${files.length > 12 ? `, … ${files.length - 12} more` : ""}`];
  if (pkg.installCode.dynamicLoads.length > 0) out.push(paint("yellow", `  loads modules by computed names (not all it runs may be listed): ${clean(pkg.installCode.dynamicLoads.join(", "))}`));
  const run = [...new Set(pkg.scripts.flatMap((s) => s.targets.flatMap((t) => (t.kind === "file" ? [t.path] : []))))];
  for (const file of run.slice(0, PREVIEW_FILES)) {
    const bytes = await readBounded(path.join(pkg.dir, file), 8 * 1024 ** 2).catch(() => undefined);
    out.push(paint("bold", `  ── ${clean(file)} ──`));
    if (bytes === undefined) {
      out.push("     (could not be read)");
      continue;
    }
    if (bytes.includes(0)) {
      out.push(`     (binary, ${bytes.length} bytes)`);
      continue;
    }
    const lines = bytes.subarray(0, PREVIEW_BYTES).toString("utf8").split("\n");
    const all = bytes.toString("utf8").split("\n").length;
    const shown = lines.slice(0, PREVIEW_LINES);
    shown.forEach((line, i) => out.push(`  ${String(i + 1).padStart(4)}  ${clean(line.slice(0, 200))}`));
    if (all > shown.length) out.push(`        … ${all - shown.length} more lines (${clean(path.join(pkg.dir, file))})`);
  }
  if (run.length > PREVIEW_FILES) out.push(`  … and ${run.length - PREVIEW_FILES} more files it runs`);
  return out;
}

function describeTarget(target: ScriptTarget, clean: (t: string) => string): string {
  switch (target.kind) {
    case "file": return `${clean(target.path)} (via ${clean(target.by)})`;
    case "inline": return `inline ${clean(target.by)} code: ${clean(target.code.slice(0, 200))}`;
    case "bin": return `${clean(target.name)} from ${clean(target.providedBy ?? "a .bin folder")}`;
    case "tool": return `${clean(target.name)} (npm's own)`;
    case "unresolved": return `${clean(target.word)} (not resolved: ${clean(target.reason)})`;
  }
}
