import { packageFinding, type PackageRule } from "./rule.js";

/**
 * How an analyst reads a package, not a file: a place that collects data
 * anonymously (a webhook, a paste site, an OAST domain, a raw IP, a Discord
 * webhook client) and something worth stealing (credential files, browser
 * and Discord token stores, the whole environment, tokens read by name) in
 * the same package. Each alone weighs "medium" at most; together they are a
 * stealer, whether the two sit in one file or the token reader is a helper
 * module and the sender another (the Discord grabbers split them so).
 */
export const collectorAndSecrets: PackageRule = {
  id: "collector-and-secrets",
  summary: "a data-collection host and a credential source in the same package (across files)",
  check(pkg) {
    const collector = pkg.files.find((file) => file.collector !== undefined);
    const secret = pkg.files.find((file) => file.secret !== undefined);
    if (!collector || !secret) return [];
    return [packageFinding(
      "collector-and-secrets", "critical",
      `sends to a data-collection host (${collector.path}) in a package that reads credentials (${secret.path})`,
      `${collector.collector} … ${secret.secret}`, collector.path,
    )];
  },
};
