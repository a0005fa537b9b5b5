import type { Node } from "../ast/walk.js";
import { atInstallTime, type FileContext, type FileRule } from "./rule.js";
import { commandLine, processCalls, stringsMatching, textMatch } from "./signals.js";
import type { Severity } from "../types.js";

interface WormSignal {
  what: string;
  severity: Severity;
  find(file: FileContext): Node | number | undefined;
}

const stringSite = (pattern: RegExp) => (file: FileContext): Node | number | undefined =>
  file.ast ? stringsMatching(file, pattern)[0]?.node : textMatch(file, pattern);

/**
 * What a self-spreading package does to reach the next victim (Shai-Hulud 1
 * and 2): publish packages with the stolen npm token, create GitHub
 * repositories or workflows to exfiltrate and persist, install a second
 * runtime (Bun) to run a payload outside Node's view, and run a secret
 * scanner over the disk. Any two of these in one file is conclusive.
 */
const SIGNALS: WormSignal[] = [
  { what: "runs npm publish", severity: "high", find: (file) => processCalls(file).find((call) => /\bnpm\b.*\bpublish\b/.test(commandLine(file, call)))?.node },
  { what: "calls the registry's token or maintainer-search API", severity: "medium", find: stringSite(/\/-\/(?:whoami|npm\/v1\/tokens)|\/-\/v1\/search\?text=maintainer:/) },
  { what: "creates GitHub repositories", severity: "medium", find: stringSite(/api\.github\.com\/user\/repos|\/user\/repos$/) },
  { what: "writes GitHub Actions workflows", severity: "medium", find: stringSite(/(?:^|[\\/])\.github[\\/]workflows(?:[\\/]|$)/) },
  { what: "installs the Bun runtime", severity: "high", find: stringSite(/bun\.sh\/install|\bsetup_bun\b|\bbun_environment\b|oven-sh\/bun\/releases/) },
  { what: "runs a secret scanner (TruffleHog) over the disk", severity: "high", find: stringSite(/trufflehog|trufflesecurity/i) },
  { what: "rewrites package tarballs to republish them", severity: "medium", find: stringSite(/\bnpm\s+(?:pack|version\s+patch)\b/) },
];

export const worm: FileRule = {
  id: "worm",
  summary: "self-propagation: npm publish, registry token APIs, GitHub repos and workflows, installing Bun, secret scanners",
  check(file, report) {
    const hits = SIGNALS.map((signal) => ({ signal, at: signal.find(file) })).filter((hit) => hit.at !== undefined);
    if (hits.length >= 2) {
      report({ severity: "critical", message: `worm behaviour: ${hits.map((hit) => hit.signal.what).join("; ")}`, ...where(hits[0]!.at!) });
      return;
    }
    for (const hit of hits) {
      report({ severity: atInstallTime(hit.signal.severity, file.installTime), message: hit.signal.what, ...where(hit.at!) });
    }
  },
};

function where(at: Node | number): { node: Node } | { offset: number } {
  return typeof at === "number" ? { offset: at } : { node: at };
}
