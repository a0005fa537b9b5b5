import type { FileRule } from "./rule.js";
import { atInstallTime } from "./rule.js";

/**
 * Cryptocurrency miners: the most common payload of hijacked npm packages
 * (ua-parser-js, coa and rc in 2021, rspack in 2024): XMRig, stratum URLs,
 * mining pools and the command-line flags miners are started with. Read
 * from the text, so shell and batch scripts are covered too.
 */
const INDICATORS: Array<{ what: string; pattern: RegExp }> = [
  { what: "XMRig", pattern: /\bxmrig\b/i },
  { what: "a stratum mining URL", pattern: /stratum\+(?:tcp|ssl|tls):\/\//i },
  { what: "a mining pool", pattern: /\b(?:pool\.)?(?:minexmr|supportxmr|nanopool|moneroocean|hashvault|c3pool|2miners|f2pool|herominers|unmineable|nicehash)\.(?:com|org|net|pro)\b/i },
  { what: "miner flags", pattern: /--(?:donate-level|rig-id|cpu-max-threads-hint|randomx-1gb-pages)\b/ },
];

export const cryptominer: FileRule = {
  id: "cryptominer",
  summary: "downloads or starts a cryptocurrency miner (XMRig, stratum URLs, mining pools, miner flags)",
  check(file, report) {
    const hits = INDICATORS.map(({ what, pattern }) => ({ what, at: pattern.exec(file.text)?.index })).filter((hit) => hit.at !== undefined);
    if (hits.length === 0) return;
    report({
      severity: hits.length >= 2 ? "critical" : atInstallTime("high", file.installTime),
      message: `cryptocurrency miner: ${hits.map((hit) => hit.what).join(", ")}`,
      offset: hits[0]!.at!,
    });
  },
};
