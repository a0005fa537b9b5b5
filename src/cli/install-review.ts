import fs from "node:fs";
import readline from "node:readline";
import { diffChangedInstallCode } from "../install/check.js";
import type { ReviewAnswer, ReviewRequest } from "../install/install.js";
import { displayId } from "../install/package-identity.js";
import type { ScriptTarget } from "../install/lifecycle-script.js";
import { paint, sanitizeForTerminal } from "./terminal.js";

/**
 * The interactive review of one package that wants to run code at install
 * time: what it runs, what changed since it was approved, what it will be
 * allowed to touch; the answer goes into the policy. Everything shown that
 * came from the package is sanitized first.
 */
export function terminalReview(): { review: (request: ReviewRequest) => Promise<ReviewAnswer>; close: () => void } | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const answers = new TerminalLines();
  const review = async ({ decision, store }: ReviewRequest): Promise<ReviewAnswer> => {
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
    return answers.ask(`  Approve? [y]es, [n]o (deny, remember it), [s]kip this time > `);
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

/**
 * Lines typed on the controlling terminal, read by one reader for the whole
 * session: a reader per question would lose answers typed ahead.
 */
class TerminalLines {
  readonly #lines: string[] = [];
  readonly #waiting: ((line: string | undefined) => void)[] = [];
  #closed = false;
  readonly #tty = fs.createReadStream("/dev/tty");
  readonly #reader = readline.createInterface({ input: this.#tty, terminal: false });

  constructor() {
    this.#reader.on("line", (line) => {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(line);
      else this.#lines.push(line);
    });
    this.#reader.on("close", () => {
      this.#closed = true;
      for (const waiter of this.#waiting.splice(0)) waiter(undefined);
    });
  }

  async ask(question: string): Promise<ReviewAnswer> {
    for (;;) {
      process.stderr.write(question);
      const line = this.#lines.shift() ?? (this.#closed ? undefined : await new Promise<string | undefined>((resolve) => this.#waiting.push(resolve)));
      if (line === undefined) return "skip";
      const text = line.trim().toLowerCase();
      if (text === "y" || text === "yes") return "approve";
      if (text === "n" || text === "no") return "deny";
      if (text === "s" || text === "skip" || text === "") return "skip";
    }
  }

  close(): void {
    this.#reader.close();
    this.#tty.destroy();
  }
}
