import { installScriptsOf } from "../package-meta.js";
import { packageFinding, type PackageRule } from "./rule.js";

const HIGH_MAJOR = 90;

/**
 * Dependency confusion: a public package named like a company's private one,
 * with a version high enough (99.x, 9000.x) to win version resolution, and an
 * install script to phone home. A high version alone is only a hint.
 */
export const dependencyConfusion: PackageRule = {
  id: "dependency-confusion",
  summary: "a very high version number with an install script, to win resolution over a private package",
  check(pkg) {
    const major = Number.parseInt(pkg.manifest.version, 10);
    if (!Number.isFinite(major) || major < HIGH_MAJOR) return [];
    const scripts = installScriptsOf(pkg.manifest);
    return [packageFinding(
      "dependency-confusion",
      scripts.length > 0 ? "high" : "low",
      `version ${major}.x${scripts.length > 0 ? " with an install script" : ""}: the shape of a dependency-confusion package`,
      `version: ${pkg.manifest.version}`,
    )];
  },
};
