/**
 * cordon scan: static analysis of npm packages before any of their code runs.
 * The library never prints; callers (the CLI, `cordon install`'s review)
 * decide how to show reports, and must sanitize package text for terminals.
 */
export type { Finding, PackageReport, RegistryManifest, ScanStats, Severity, TreeReport, Verdict } from "./types.js";
export { scanPackageDir, type ScanOptions } from "./scan-package.js";
export { scanTarball } from "./tarball.js";
export { scanSpec, parseNpmSpec } from "./spec.js";
export { scanTree } from "./tree.js";
export { ScanCache, defaultCacheDir, SCANNER_VERSION } from "./cache.js";
export { FileAnalyzerPool } from "./worker/pool.js";
export { verdictOf, worstVerdict, verdictRank, severityRank } from "./verdict.js";
export { toSarif, type SarifOptions } from "./format/sarif.js";
export { ALL_RULES } from "./rules/index.js";
export { SCAN_LIMITS } from "./limits.js";
export { ScanError } from "./errors.js";
