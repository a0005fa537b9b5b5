import { installScriptsOf } from "../package-meta.js";
import { packageFinding, type PackageRule } from "./rule.js";

const HIGH_MAJOR = 90;
const NETWORK_TOOL = /\b(?:curl|wget|nslookup|dig|host|ping|nc|Invoke-WebRequest|iwr)\b/;

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
    // With an install that talks to the network, the probe is complete: a
    // version built to win resolution, and code that reports where it landed.
    const phonesHome = scripts.some(({ command }) => NETWORK_TOOL.test(command)) || pkg.files.some((file) => file.network === true && pkg.installTimeFiles.has(file.path));
    return [packageFinding(
      "dependency-confusion",
      scripts.length === 0 ? "low" : phonesHome ? "critical" : "high",
      `version ${major}.x${scripts.length > 0 ? " with an install script" : ""}${phonesHome ? " that talks to the network" : ""}: the shape of a dependency-confusion package`,
      `version: ${pkg.manifest.version}`,
    )];
  },
};
