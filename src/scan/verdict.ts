import type { Finding, Severity, Verdict } from "./types.js";

const RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
const VERDICT_RANK: Record<Verdict, number> = { ok: 0, suspicious: 1, malicious: 2 };

export function severityRank(severity: Severity): number {
  return RANK[severity];
}

/**
 * Findings become a verdict by weight, not by count: one critical finding, or
 * high findings from two different rules (two independent behaviours), make a
 * package malicious. One high finding, or medium findings from three rules,
 * make it suspicious. Low and info findings are context only; a benign
 * package with a postinstall script and a native binary stays "ok".
 */
export function verdictOf(findings: readonly Finding[]): Verdict {
  const rulesAt = (min: Severity): number =>
    new Set(findings.filter((f) => RANK[f.severity] >= RANK[min]).map((f) => f.rule)).size;
  if (findings.some((f) => f.severity === "critical") || rulesAt("high") >= 2) return "malicious";
  if (rulesAt("high") >= 1 || rulesAt("medium") >= 3) return "suspicious";
  return "ok";
}

export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = "ok";
  for (const verdict of verdicts) if (VERDICT_RANK[verdict] > VERDICT_RANK[worst]) worst = verdict;
  return worst;
}

export function verdictRank(verdict: Verdict): number {
  return VERDICT_RANK[verdict];
}
