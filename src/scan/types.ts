/**
 * The shapes `cordon scan` hands to callers (the CLI, `cordon install`'s
 * review, CI). Every string in a report that came from a package (file names,
 * evidence, names, versions) is hostile: sanitize before printing it.
 */

/** How much one finding weighs; see verdict.ts for how findings become a verdict. */
export type Severity = "critical" | "high" | "medium" | "low" | "info";

export type Verdict = "malicious" | "suspicious" | "ok";

export interface Finding {
  /** The rule's id, e.g. "exfiltration"; one module under src/scan/rules/ each. */
  rule: string;
  severity: Severity;
  /** Path inside the package, forward slashes; "package.json" for metadata. */
  file: string;
  /** 1-based; 0 when the finding is about the file or package as a whole. */
  line: number;
  /** 1-based; 0 when unknown. */
  column: number;
  /** One line saying why this matters. */
  message: string;
  /** The code span or value that triggered it, cut to a short single line. */
  evidence: string;
}

export interface ScanStats {
  /** Files looked at (listed and read). */
  files: number;
  /** JavaScript files that passed the pre-filter and were parsed. */
  parsedFiles: number;
  /** Bytes of JavaScript read. */
  jsBytes: number;
  milliseconds: number;
}

export interface PackageReport {
  name: string;
  version: string;
  verdict: Verdict;
  findings: Finding[];
  /** Where it was scanned from: a folder, a tarball or an npm: spec. */
  source: string;
  /** The registry integrity when known (lockfile, tarball hash). */
  integrity?: string;
  /** True when the report came from the cache rather than a fresh scan. */
  cached: boolean;
  stats: ScanStats;
  /** With `--dynamic`: what the package did when installed and loaded in an observation sandbox. */
  behaviour?: BehaviourSummary;
}

/**
 * What an observation saw, for JSON readers; the findings under
 * `behaviour/...` are what it means. All of it is sandbox text: hostile.
 */
export interface BehaviourSummary {
  /** Install scripts in npm's order, then "load"; as the step runner inside reported them. */
  steps: { event: string; exitCode: number | null; signal: string | null; milliseconds: number }[];
  notRun: string[];
  /** Registry dependencies installed (scripts off) so the package could find them. */
  dependenciesInstalled: number;
  /** Every request (or raw channel) the sinkhole answered, and the planted secrets found in it. */
  requests: { via: string; kind: string; host: string; port: number; method?: string; target?: string; bytesSent: number; secrets: string[] }[];
  homeChanges: { path: string; change: "created" | "changed" | "deleted" }[];
  processesStarted: string[];
  leftRunning: string[];
  /** Attempts to reach the network around the sinkhole (destinations unknown). */
  directAttempts: number;
  timedOut: boolean;
  milliseconds: number;
}

export interface TreeReport {
  root: string;
  /** The worst verdict of all packages. */
  verdict: Verdict;
  packages: PackageReport[];
  stats: ScanStats & { packages: number; cachedPackages: number };
}

/** What a package's registry manifest says, for the manifest-confusion rule. */
export interface RegistryManifest {
  name?: string;
  version?: string;
  scripts?: Record<string, string>;
  /** From a lockfile: npm records whether the registry said it has install scripts. */
  hasInstallScript?: boolean;
}
