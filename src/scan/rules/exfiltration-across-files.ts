import { resolveInPackage } from "../install-reach.js";
import type { Finding } from "../types.js";
import { packageFinding, type PackageRule } from "./rule.js";

/**
 * `exfiltration` one `require` away: a file that talks to the network and
 * loads a module of the package that collects the environment, a browser
 * or Discord token store, or a credential file. Splitting "read" and "send"
 * into two files is the cheapest way around a same-file rule; this joins
 * them along the package's own imports (one hop, the way such helpers are
 * written). Only the whole environment and stealer-only stores count:
 * tools read `.npmrc` in a config module and fetch in another all day
 * (nx, next), and a same-file rule already weighs credential files.
 */
export const exfiltrationAcrossFiles: PackageRule = {
  id: "exfiltration",
  summary: "sends data over the network from a file that loads a module collecting credentials",
  check(pkg) {
    const paths = new Set(pkg.files.map((file) => file.path));
    const byPath = new Map(pkg.files.map((file) => [file.path, file]));
    const findings: Finding[] = [];
    for (const sender of pkg.files.filter((file) => file.network === true && file.requires)) {
      const source = sender.requires!.map((specifier) => byPath.get(resolveInPackage(sender.path, specifier, paths) ?? "")).find((file) => file?.secretKind === "env" || file?.secretKind === "stealer");
      if (!source || source.path === sender.path) continue;
      findings.push(packageFinding("exfiltration", "critical", `sends data over the network and loads ${source.path}, which collects ${source.secretKind === "env" ? "the whole environment" : "a browser, Discord or wallet store"}`, `${source.secret} … ${sender.path}`, sender.path));
      if (findings.length >= 3) break;
    }
    return findings;
  },
};
