import { diffChangedInstallCode } from "../install/check.js";
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
  const review = async ({ decision, store, scan }: ReviewRequest): Promise<ReviewAnswer> => {
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
      const diff = await diffChangedInstallCode(decision, store, { maxBytes: 16 * 1024 });
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

function describeTarget(target: ScriptTarget, clean: (t: string) => string): string {
  switch (target.kind) {
    case "file": return `${clean(target.path)} (via ${clean(target.by)})`;
    case "inline": return `inline ${clean(target.by)} code: ${clean(target.code.slice(0, 200))}`;
    case "bin": return `${clean(target.name)} from ${clean(target.providedBy ?? "a .bin folder")}`;
    case "tool": return `${clean(target.name)} (npm's own)`;
    case "unresolved": return `${clean(target.word)} (not resolved: ${clean(target.reason)})`;
  }
}
