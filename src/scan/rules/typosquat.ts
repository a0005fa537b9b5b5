import { popularNames } from "../data/popular-names.js";
import { installScriptsOf } from "../package-meta.js";
import { packageFinding, type PackageRule } from "./rule.js";

const MIN_TARGET_LENGTH = 5;

/**
 * A name one edit away from a popular package (`crossenv` for `cross-env`,
 * `lodahs` for `lodash`), or the same name with other separators. Popular
 * names themselves are never flagged. Short names are skipped: at four
 * letters most one-edit neighbours are real, unrelated packages.
 */
export const typosquat: PackageRule = {
  id: "typosquat",
  summary: "a name one typo away from a popular package",
  check(pkg) {
    const target = typosquatTarget(pkg.manifest.name);
    if (target === undefined) return [];
    const withScripts = installScriptsOf(pkg.manifest).length > 0;
    return [packageFinding("typosquat", withScripts ? "high" : "medium", `name imitates the popular package "${target}"${withScripts ? " and it has install scripts" : ""}`, `${pkg.manifest.name} ~ ${target}`)];
  },
};

export function typosquatTarget(name: string): string | undefined {
  const popular = popularNames();
  if (popular.set.has(name) || name.startsWith("@")) return undefined;
  const bare = withoutSeparators(name);
  for (const candidate of popular.list.slice(0, TARGET_COUNT)) {
    if (candidate.length < MIN_TARGET_LENGTH || candidate.startsWith("@") || Math.abs(candidate.length - name.length) > 1) continue;
    if (withoutSeparators(candidate) === bare || isOneEditAway(name, candidate)) return candidate;
  }
  return undefined;
}

const TARGET_COUNT = 3000;

function withoutSeparators(name: string): string {
  return name.replace(/[-_.]/g, "");
}

/** One insertion, deletion, substitution or swap of neighbours. */
export function isOneEditAway(a: string, b: string): boolean {
  if (a === b) return false;
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const restA = endA - start;
  const restB = endB - start;
  if (restA <= 1 && restB <= 1) return true;
  return restA === 2 && restB === 2 && a[start] === b[start + 1] && a[start + 1] === b[start];
}
