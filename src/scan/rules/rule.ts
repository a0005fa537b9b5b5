import type { AstFacts } from "../ast/facts.js";
import type { Node } from "../ast/walk.js";
import type { LineIndex } from "../source-text.js";
import type { Finding, RegistryManifest, Severity } from "../types.js";

/** One JavaScript file as the file rules see it. */
export interface FileContext {
  /** Path inside the package, forward slashes. */
  path: string;
  text: string;
  /** True when an install script runs this file (or it is inline `node -e` code). */
  installTime: boolean;
  /** Undefined when the file was not parsed (too large, or it did not parse): text-only checks. */
  ast: AstFacts | undefined;
  lines: LineIndex;
}

export interface FileFindingDraft {
  severity: Severity;
  message: string;
  /** Where: a node, or an offset into the text; omitted for the file as a whole. */
  node?: Node;
  offset?: number;
  /** Shown instead of the node's source when given. */
  evidence?: string;
}

export interface FileRule {
  id: string;
  /** One line for docs and SARIF. */
  summary: string;
  check(file: FileContext, report: (draft: FileFindingDraft) => void): void;
}

/** The parsed parts of package.json that rules read; everything else is ignored. */
export interface PackageJsonFacts {
  name: string;
  version: string;
  scripts: Record<string, string>;
  hasGypfile: boolean;
  /** The `main` entry, which `node .` runs. */
  main: string | undefined;
}

/** What a file looked like, as measured by the scan of its text. */
export interface FileSummary {
  path: string;
  size: number;
  isJavaScript: boolean;
  minified: boolean;
  /** "elf", "pe", "mach-o" for native executables and libraries. */
  binary: string | undefined;
  /** For collector-and-secrets: a host that collects data, and a credential source, named in this file (evidence). */
  collector?: string;
  secret?: string;
  /** What kind of secret: the whole environment, a stealer-only store, or a credential file. */
  secretKind?: "env" | "stealer" | "file";
  /** Modules of the package this file loads (`./lib/x`), as written. */
  requires?: string[];
  /** The file calls the network (HTTP, sockets, DNS, curl …): with `installTimeFiles`, an install that phones out. */
  network?: boolean;
  /** Base names of the files this file's process calls start (native-binary matches them to bundled executables). */
  launches?: string[];
}

export interface PackageContext {
  manifest: PackageJsonFacts;
  files: readonly FileSummary[];
  /** Files an install script runs. */
  installTimeFiles: ReadonlySet<string>;
  /** Text of binding.gyp when present. */
  bindingGyp: string | undefined;
  registry: RegistryManifest | undefined;
}

export interface PackageRule {
  id: string;
  summary: string;
  check(pkg: PackageContext): Finding[];
}

export const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall"] as const;

export function packageFinding(rule: string, severity: Severity, message: string, evidence: string, file = "package.json"): Finding {
  return { rule, severity, file, line: 0, column: 0, message, evidence };
}

const ESCALATION: Record<Severity, Severity> = { info: "low", low: "medium", medium: "high", high: "critical", critical: "critical" };

/** Code that runs at install time runs before anyone has looked at it: the same behaviour weighs one step more there. */
export function atInstallTime(severity: Severity, installTime: boolean): Severity {
  return installTime ? ESCALATION[severity] : severity;
}
