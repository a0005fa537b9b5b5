import { ConfigError } from "../../errors.js";
import { EXIT_INSTALL_REFUSED } from "../../install/errors.js";
import { fellBack, homeWritesAdvice, installProject, networkAdvice, type InstallProgress, type InstallReport } from "../../install/install.js";
import { displayId } from "../../install/package-identity.js";
import { describeAge } from "../../install/release-age.js";
import { describeHeldBack, describeYoung } from "../../install/release-gate.js";
import type { PackageReport } from "../../scan/types.js";
import { severityRank } from "../../scan/verdict.js";
import { terminalReview } from "../install-review.js";
import { paint, sanitizeForTerminal, say } from "../terminal.js";

export const INSTALL_HELP = `Usage: cordon install [NPM ARGS...] [--skip-unknown] [--no-project-scripts] [--no-build-cache]
       cordon ci [NPM ARGS...] [--skip-unknown] [--no-project-scripts] [--no-build-cache]

npm installs with every script off; then only the install scripts your policy
approves run, each in its own sandbox (its package folder writable, no
secrets, no network unless granted). Packages not in the policy are reviewed
on a terminal; without one (CI) the install stops before any script runs.

  --skip-unknown         install without the scripts of packages the policy does not cover
  --no-project-scripts   do not run the project's own lifecycle scripts
  --min-release-age=AGE  install no version published less than AGE ago (3d, 12h, 2w;
                         0 for off): npm picks older ones (its --before), and
                         cordon says which it held back; default: the policy's
                         minReleaseAge
  --no-build-cache       run every approved script, even when the same build is
                         kept in ~/.cache/cordon/builds (or $XDG_CACHE_HOME/cordon/builds)

Every other argument goes to npm as you wrote it: package specs, -D, -E, -O,
-w NAME, --omit=dev, --legacy-peer-deps, … (see npm help install, npm help ci).
Refused: --ignore-scripts=false, -g, --no-save, --no-package-lock.
From a workspace's folder, the project is the workspace root, as for npm.

Exit status: 0 done (skipped scripts, if any, listed with a warning); 2 not installed (a flag, the policy or the tree is at
fault; the message says which); 3 packages need approval; 4 an install script
failed; npm's own status when npm failed; 125 the sandbox could not start;
130 interrupted (run the same command again to finish).

Policy: package.json "allowScripts" (npm's own, one line per package) and
.cordon/policy.json (grants, content pins, minReleaseAge; commit it).
Manage it with: cordon approve NAME, cordon deny NAME, cordon policy ls|prune.
Audit log: .cordon/audit.jsonl (cordon audit).`;

/** `--name=VALUE` or `--name VALUE` before any `--`: its value, and the arguments without it. */
function takeValueFlag(argv: readonly string[], name: string, end: number): { minReleaseAge: string | undefined; rest: string[] } {
  let value: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const before = end < 0 || i < end;
    if (before && arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
    else if (before && arg === name) {
      const next = argv[i + 1];
      if (next === undefined || next === "--" || next.startsWith("-")) {
        throw new ConfigError(`${name} needs a value.`, { hint: `e.g. ${name}=3d (90m, 12h, 3d, 2w, or a number of days; 0 turns the gate off).`, exitCode: EXIT_INSTALL_REFUSED });
      }
      value = argv[++i]!;
    }
    else rest.push(arg);
  }
  return { minReleaseAge: value, rest };
}

/** cordon's own flags; everything else is npm's. */
const CORDON_FLAGS = new Set(["--skip-unknown", "--no-project-scripts", "--no-build-cache", "--help", "-h"]);

export function installCommandFor(command: "install" | "ci") {
  return async (argv: string[]): Promise<number> => {
    const end = argv.indexOf("--");
    const { minReleaseAge, rest } = takeValueFlag(argv, "--min-release-age", end);
    const restEnd = rest.indexOf("--");
    const ours = new Set(rest.filter((arg, i) => CORDON_FLAGS.has(arg) && (restEnd < 0 || i < restEnd)));
    const npmArgs = rest.filter((arg, i) => !(CORDON_FLAGS.has(arg) && (restEnd < 0 || i < restEnd)));
    if (ours.has("--help") || ours.has("-h")) {
      process.stdout.write(`${INSTALL_HELP}\n`);
      return 0;
    }
    // Ctrl-C stops npm or the running sandboxes and ends with 130; the next
    // run finishes the job. A second Ctrl-C ends cordon at once (and the next
    // run still finishes the job: what did not finish is redone).
    const abort = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => abort.abort(signal);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const terminal = terminalReview();
    let report: InstallReport;
    try {
      report = await installProject({
        projectDir: process.cwd(),
        command,
        npmArgs,
        review: terminal?.review,
        skipUnknown: ours.has("--skip-unknown"),
        projectScripts: !ours.has("--no-project-scripts"),
        ...(ours.has("--no-build-cache") ? { buildCache: false as const } : {}),
        ...(minReleaseAge !== undefined ? { minReleaseAge } : {}),
        onProgress: printProgress,
        signal: abort.signal,
      });
    } finally {
      terminal?.close();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    if (report.treeUnchanged) {
      if (report.npmOutput.trim()) process.stdout.write(report.npmOutput);
      say(`  ${paint("green", "✔")} npm ${command} ${report.treeUnchanged}: node_modules unchanged, no script ran`);
      return 0;
    }
    const alreadyDone = report.execution.outcomes.filter((o) => o.status === "already-done");
    if (alreadyDone.length > 0) {
      const names = [...new Set(alreadyDone.map((o) => sanitizeForTerminal(displayId(o.package.identity))))];
      say(`  ${paint("green", "✔")} already built in this node_modules, outputs in place: ${names.join(", ")}`);
    }
    const restored = report.execution.outcomes.filter((o) => o.status === "restored");
    if (restored.length > 0) {
      const names = [...new Set(restored.map((o) => sanitizeForTerminal(displayId(o.package.identity))))];
      say(`  ${paint("green", "✔")} restored from the build cache, no script run: ${names.join(", ")}`);
    }
    // Skipped scripts (answered s, Ctrl-D at the review, --skip-unknown) did
    // not run: said here, each by name, so "done" never hides them. The exit
    // status stays 0 (npm's own tree is in place); the warning says what is missing.
    if (report.skipped.length > 0) {
      say(`  ${paint("yellow", "⚠")} done, but ${report.skipped.length} package${report.skipped.length === 1 ? "'s" : "s'"} install scripts did not run (skipped, not in the policy); the tree may not work:`);
      for (const pkg of report.skipped) {
        say(`    ${sanitizeForTerminal(displayId(pkg.identity))}  ${sanitizeForTerminal(pkg.scripts.map((script) => `${script.event}: ${script.command}`).join("; ")).slice(0, 120)}`);
      }
      say(`    run them: cordon approve NAME, then cordon ${command} again; or cordon deny NAME to skip them for good`);
      say(`    decisions and script runs are in .cordon/audit.jsonl (cordon audit)`);
      return 0;
    }
    say(`  ${paint("green", "✔")} done; decisions and script runs are in .cordon/audit.jsonl (cordon audit)`);
    return 0;
  };
}

function printProgress(event: InstallProgress): void {
  switch (event.type) {
    case "project":
      if (event.projectDir !== process.cwd()) say(`  project: ${sanitizeForTerminal(event.projectDir)} (as npm finds it)`);
      break;
    case "discarded":
      say(`  ${paint("yellow", "↻")} install scripts did not finish last time in ${event.locations.map(sanitizeForTerminal).join(", ")}: npm reinstalls ${event.locations.length === 1 ? "it" : "them"} and the scripts run again`);
      break;
    case "npm-done":
      say(`  ${paint("green", "✔")} resolved ${event.packages} packages, no scripts run`);
      for (const line of event.warnings) say(`  ${paint("yellow", "npm:")} ${sanitizeForTerminal(line)}`);
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
      else if (o.status === "failed" && o.exitCode === 0) say(`    ${paint("red", "✘")} ${id} ${o.script.event} failed: it planted files that run code later, outside any sandbox`);
      else if (o.status === "failed") say(`    ${paint("red", "✘")} ${id} ${o.script.event} failed with exit code ${o.exitCode}`);
      if (o.planted === "unchecked" || o.planted.length > 0) {
        const lines = o.planted === "unchecked" ? ["its folder holds too many files to check for planted git hooks and rc files"] : o.planted;
        for (const line of lines) say(`    ${paint("red", "⚠")} ${sanitizeForTerminal(line)}`);
      }
      else if (o.status === "stopped") say(`    ${paint("yellow", "■")} ${id} ${o.script.event} stopped`);
      if (o.status !== "stopped") for (const line of homeWritesAdvice(o)) say(`    ${paint("yellow", "⚠")} ${sanitizeForTerminal(line)}`);
      if (o.status === "ok" && (o.blockedHosts.length > 0 || o.unreachableHosts.length > 0 || o.bypassAttempts > 0)) {
        const quiet = fellBack(o) && o.unreachableHosts.length === 0 && o.bypassAttempts === 0;
        say(`    ${quiet ? paint("gray", "ℹ") : paint("yellow", "⚠")} ${sanitizeForTerminal(networkAdvice(o))}`);
      }
      break;
    }
    case "build-cache": {
      const id = sanitizeForTerminal(displayId(event.package.identity));
      const r = event.result;
      if (r.status === "restored") say(`  ${paint("green", "↺")} ${id} restored from the build cache (${r.files} files, ${formatMegabytes(r.bytes)}, ${(event.durationMs / 1000).toFixed(1)}s): built before, sandboxed, from the same inputs`);
      else if (r.status === "refused") say(`  ${paint("yellow", "⚠")} ${id}: its build cache entry was refused (${sanitizeForTerminal(r.reason)}); building it`);
      else if (r.status === "broken") say(`  ${paint("red", "✘")} ${id}: restoring its build from the cache failed halfway (${sanitizeForTerminal(r.reason)})`);
      else if (r.status === "not-stored") say(`    ${paint("gray", "ℹ")} ${id}: build not kept in the build cache: ${sanitizeForTerminal(r.reason)}`);
      break;
    }
    case "release-age-unlocked":
      say(`  ${paint("yellow", "⏸")} younger than ${describeAge(event.gate.minAgeMs)} (${sanitizeForTerminal(event.gate.setBy)}), so npm resolves ${event.young.length === 1 ? "it" : "them"} again among older versions:`);
      for (const young of event.young) say(`    ${sanitizeForTerminal(describeYoung(young, event.gate, new Date()))}`);
      break;
    case "release-age":
      say(`  ${paint("green", "✔")} ${event.checked} registry packages published before ${event.gate.cutoff.toISOString()} (${sanitizeForTerminal(event.gate.setBy)})`);
      for (const held of event.heldBack) say(`    ${paint("yellow", "⏸")} ${sanitizeForTerminal(describeHeldBack(held, new Date()))}`);
      break;
    case "build-cache-off":
      say(`  ${paint("yellow", "⚠")} build cache off: ${sanitizeForTerminal(event.reason)}`);
      break;
    case "project-script":
      say(`  ▸ the project's own ${event.event} script (your code: run as npm would, not sandboxed)`);
      break;
  }
}

function formatMegabytes(bytes: number): string {
  return bytes >= 1024 ** 2 ? `${(bytes / 1024 ** 2).toFixed(1)} MB` : `${Math.max(0, Math.round(bytes / 1024))} KB`;
}

/** The scanner's most severe findings as one short phrase for the package list. */
function summarizeFindings(report: PackageReport): string {
  const ranked = [...report.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  return [...new Set(ranked.map((f) => f.rule))].slice(0, 3).join(", ");
}
