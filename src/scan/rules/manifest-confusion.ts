import { INSTALL_SCRIPTS, packageFinding, type PackageRule } from "./rule.js";
import type { Finding } from "../types.js";

/**
 * The registry serves a manifest separately from the tarball, and npm runs
 * the tarball's `package.json`. A package can show reviewers (and the
 * registry's web page) no install script while its tarball has one. This
 * compares the two whenever the caller knows the registry's side (a spec
 * scan, or a lockfile's `hasInstallScript`).
 */
export const manifestConfusion: PackageRule = {
  id: "manifest-confusion",
  summary: "the tarball's package.json differs from the registry's manifest (scripts, name, version)",
  check(pkg) {
    const registry = pkg.registry;
    if (!registry) return [];
    const findings: Finding[] = [];
    const hasOwnInstall = INSTALL_SCRIPTS.some((name) => pkg.manifest.scripts[name] !== undefined) || pkg.bindingGyp !== undefined;
    if (registry.hasInstallScript === false && hasOwnInstall) {
      findings.push(packageFinding("manifest-confusion", "high", "has install scripts that the registry's manifest (lockfile hasInstallScript) does not declare", "hasInstallScript: false"));
    }
    if (registry.scripts) {
      for (const name of INSTALL_SCRIPTS) {
        const own = pkg.manifest.scripts[name];
        const listed = registry.scripts[name];
        if (own !== listed) {
          findings.push(packageFinding("manifest-confusion", "high", `the "${name}" script differs from the registry's manifest`, `tarball: ${own ?? "(none)"} | registry: ${listed ?? "(none)"}`));
        }
      }
    }
    if (registry.name !== undefined && registry.name !== pkg.manifest.name) {
      findings.push(packageFinding("manifest-confusion", "medium", "the tarball's name differs from the registry's", `tarball: ${pkg.manifest.name} | registry: ${registry.name}`));
    }
    if (registry.version !== undefined && registry.version !== pkg.manifest.version) {
      findings.push(packageFinding("manifest-confusion", "medium", "the tarball's version differs from the registry's", `tarball: ${pkg.manifest.version} | registry: ${registry.version}`));
    }
    return findings;
  },
};
