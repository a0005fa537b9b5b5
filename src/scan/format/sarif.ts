import { createHash } from "node:crypto";
import { BEHAVIOUR_RULES } from "../dynamic/rules.js";
import { ALL_RULES } from "../rules/index.js";
import type { Finding, PackageReport, Severity } from "../types.js";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = { critical: "error", high: "error", medium: "warning", low: "note", info: "note" };
/** GitHub code scanning ranks security alerts by this property (0.0–10.0). */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0", info: "1.0" };

/**
 * GitHub reads `security-severity` from the rule, not the result: each rule
 * gets the weight of the worst finding it can make on its own.
 */
const RULE_SEVERITY: Record<string, Severity> = {
  "native-binary": "medium", typosquat: "high", "env-harvest": "high", "credential-files": "high", "detached-spawn": "high",
  "minified-install-script": "high", "manifest-confusion": "high", "dependency-confusion": "high",
};

export interface SarifOptions {
  /** Maps a package report to the folder its file paths are relative to in the repository, if any. */
  baseOf?: (report: PackageReport) => string;
  toolVersion?: string;
}

/**
 * SARIF 2.1.0 as GitHub code scanning accepts it: one run, every rule
 * described in the driver, one result per finding with a relative URI, a
 * region only when the line is known (startLine must be ≥ 1), and a
 * fingerprint so alerts stay stable across runs. Info findings are left out.
 */
export function toSarif(reports: readonly PackageReport[], options: SarifOptions = {}): object {
  // With --dynamic, the behaviour rules are described too.
  const observed = reports.some((report) => report.behaviour !== undefined);
  const rules = [
    ...ALL_RULES.map((rule) => ({ id: rule.id, summary: rule.summary, severity: RULE_SEVERITY[rule.id] ?? ("critical" as Severity) })),
    ...(observed ? BEHAVIOUR_RULES : []),
  ];
  const ruleIndex = new Map(rules.map((rule, index) => [rule.id, index]));
  const results = reports.flatMap((report) =>
    report.findings.filter((finding) => finding.severity !== "info").map((finding) => resultOf(report, finding, ruleIndex, options)));
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [{
      tool: {
        driver: {
          name: "cordon-scan",
          version: options.toolVersion ?? "0.1.0",
          rules: rules.map((rule) => ({
            id: rule.id,
            name: rule.id.replace(/(^|[-/])(\w)/g, (_, __, letter: string) => letter.toUpperCase()),
            shortDescription: { text: rule.summary },
            fullDescription: { text: `cordon scan rule ${rule.id}: ${rule.summary}.` },
            help: { text: `See docs/scan.md#${rule.id.replace("/", "")} for what the rule looks for and what it does not catch.` },
            defaultConfiguration: { level: "warning" },
            properties: { tags: ["security", "supply-chain"], precision: rule.id.startsWith("behaviour/") ? "high" : "medium", "security-severity": SECURITY_SEVERITY[rule.severity] },
          })),
        },
      },
      results,
    }],
  };
}

function resultOf(report: PackageReport, finding: Finding, ruleIndex: Map<string, number>, options: SarifOptions): object {
  const base = options.baseOf?.(report) ?? `${report.name}@${report.version}`;
  const uri = encodeURI(`${base.replace(/\/$/, "")}/${finding.file.replace(/#.*$/, "")}`.replace(/^\.\//, ""));
  const region = finding.line >= 1
    ? { region: { startLine: finding.line, ...(finding.column >= 1 ? { startColumn: finding.column } : {}), snippet: { text: finding.evidence } } }
    : {};
  return {
    ruleId: finding.rule,
    ...(ruleIndex.has(finding.rule) ? { ruleIndex: ruleIndex.get(finding.rule) } : {}),
    level: LEVEL[finding.severity],
    message: { text: `${report.name}@${report.version}: ${finding.message} (${finding.severity}; package verdict ${report.verdict})` },
    locations: [{ physicalLocation: { artifactLocation: { uri }, ...region } }],
    partialFingerprints: { primaryLocationLineHash: createHash("sha256").update([report.name, finding.rule, finding.file, finding.message, finding.evidence].join("\0")).digest("hex").slice(0, 32) },
    properties: { "security-severity": SECURITY_SEVERITY[finding.severity], severity: finding.severity, package: `${report.name}@${report.version}` },
  };
}
