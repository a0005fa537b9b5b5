import { ConfigError } from "../../errors.js";
import { blockedHostsAdvice, installProject, type InstallProgress } from "../../install/install.js";
import { displayId } from "../../install/package-identity.js";
import type { PackageReport } from "../../scan/types.js";
import { severityRank } from "../../scan/verdict.js";
import { parseCommandFlags } from "../flags.js";
import { terminalReview } from "../install-review.js";
import { paint, sanitizeForTerminal, say } from "../terminal.js";

export const INSTALL_HELP = `Usage: cordon install [PACKAGE...] [--skip-unknown]
       cordon ci [--skip-unknown]

npm installs with every script off; then only the install scripts your policy
approves run, each in its own sandbox (its package folder writable, no
secrets, no network unless granted). Packages not in the policy are reviewed
on a terminal; without one (CI) the install stops before any script runs.

  --skip-unknown   install without the scripts of packages the policy does not cover
  --no-project-scripts   do not run the project's own lifecycle scripts

Policy: package.json "allowScripts" (npm's own) and a "cordon" section.
Manage it with: cordon approve NAME, cordon deny NAME, cordon policy ls|prune.
Audit log: .cordon/audit.jsonl (cordon audit).`;

export function installCommandFor(command: "install" | "ci") {
  return async (argv: string[]): Promise<number> => {
    const { values, positionals } = parseFlags(argv);
    if (values.help) {
      process.stdout.write(`${INSTALL_HELP}\n`);
      return 0;
    }
    if (command === "ci" && positionals.length > 0) {
      throw new ConfigError("cordon ci installs exactly the lockfile; it takes no package names.", { hint: "Use cordon install NAME to add a package." });
    }
    const terminal = terminalReview();
    try {
      await installProject({
        projectDir: process.cwd(),
        command,
        packages: positionals,
        review: terminal?.review,
        skipUnknown: values["skip-unknown"] ?? false,
        projectScripts: !values["no-project-scripts"],
        onProgress: printProgress,
      });
    } finally {
      terminal?.close();
    }
    say(`  ${paint("green", "✔")} done; decisions and script runs are in .cordon/audit.jsonl (cordon audit)`);
    return 0;
  };
}

function printProgress(event: InstallProgress): void {
  switch (event.type) {
    case "npm-done":
      say(`  ${paint("green", "✔")} resolved ${event.packages} packages, no scripts run`);
      break;
    case "inventory": {
      const { decisions } = event.check;
      if (decisions.length === 0) {
        say("  no package wants to run code at install time");
        break;
      }
      say(`  ${decisions.length} package${decisions.length === 1 ? "" : "s"} want${decisions.length === 1 ? "s" : ""} to run code at install time:`);
      const width = Math.min(40, Math.max(...decisions.map((d) => displayId(d.package.identity).length)));
      for (const d of decisions) {
        const scripts = d.package.scripts.map((s) => `${s.event}: ${s.command}`).join("; ");
        const native = d.package.scripts.some((s) => s.hints.includes("native-build")) ? "   [native build]" : "";
        const state = d.kind === "approved" ? paint("green", "approved") : d.kind === "denied" ? paint("gray", "denied") : d.kind === "changed" ? paint("yellow", "changed: needs review") : paint("yellow", "not reviewed");
        const scan = event.scans.get(d.package.location);
        const warning = scan && scan.verdict !== "ok" ? `   ${paint(scan.verdict === "malicious" ? "red" : "yellow", `⚠ ${scan.verdict}: ${sanitizeForTerminal(summarizeFindings(scan))}`)}` : "";
        say(`    ${sanitizeForTerminal(displayId(d.package.identity)).padEnd(width)}  ${sanitizeForTerminal(scripts).slice(0, 90)}${native}   ${state}${warning}`);
      }
      for (const warning of event.check.warnings) say(`  ${paint("yellow", "warning:")} ${sanitizeForTerminal(warning)}`);
      break;
    }
    case "decided":
      break;
    case "script-start":
      say(`  ▸ ${sanitizeForTerminal(displayId(event.package.identity))} ${event.script.event} (sandboxed)`);
      break;
    case "script-end": {
      const o = event.outcome;
      const id = sanitizeForTerminal(displayId(o.package.identity));
      if (o.status === "ok") say(`    ${paint("green", "✔")} ${id} ${o.script.event} finished in ${(o.durationMs / 1000).toFixed(1)}s`);
      else if (o.status === "failed") say(`    ${paint("red", "✘")} ${id} ${o.script.event} failed with exit code ${o.exitCode}`);
      if (o.status === "ok" && (o.blockedHosts.length > 0 || o.bypassAttempts > 0)) say(`    ${paint("yellow", "⚠")} ${sanitizeForTerminal(blockedHostsAdvice(o))}`);
      break;
    }
    case "project-script":
      say(`  ▸ the project's own ${event.event} script (your code: run as npm would, not sandboxed)`);
      break;
  }
}

function parseFlags(argv: string[]) {
  return parseCommandFlags("install", {
    args: argv,
    allowPositionals: true,
    options: {
      "skip-unknown": { type: "boolean" },
      "no-project-scripts": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** The scanner's most severe findings as one short phrase for the package list. */
function summarizeFindings(report: PackageReport): string {
  const ranked = [...report.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  return [...new Set(ranked.map((f) => f.rule))].slice(0, 3).join(", ");
}
