import { specMatches } from "./allow-scripts.js";
import type { InstallCheck } from "./check.js";
import type { DecisionKind } from "./decide.js";
import type { PackageGrants } from "./policy-file.js";
import { NO_GRANTS } from "./policy-file.js";

export interface PolicyListEntry {
  readonly name: string;
  readonly version: string | null;
  readonly location: string;
  readonly decision: DecisionKind;
  /** The scripts, as `event: text` (hostile text: sanitize before printing). */
  readonly scripts: readonly string[];
  readonly nativeBuild: boolean;
  readonly grants: PackageGrants;
  readonly pinned: boolean;
}

export interface PolicyListing {
  readonly packages: readonly PolicyListEntry[];
  /** `allowScripts` keys and the policy file's `packages` names that match no package with install scripts (what prune removes). */
  readonly stale: readonly string[];
  readonly warnings: readonly string[];
}

/** `cordon policy ls`: every package with install code, its decision and grants, and the stale entries. */
export function listPolicy(check: InstallCheck): PolicyListing {
  const { inventory, policy, decisions } = check;
  const packages = decisions.map((decision): PolicyListEntry => {
    const pkg = decision.package;
    const own = policy.packages.get(pkg.identity.name);
    return {
      name: pkg.identity.name,
      version: pkg.identity.version ?? pkg.identity.lockedVersion ?? null,
      location: pkg.location,
      decision: decision.kind,
      scripts: pkg.scripts.map((s) => `${s.event}: ${s.command}`),
      nativeBuild: pkg.scripts.some((s) => s.hints.includes("native-build")),
      grants: own?.grants ?? NO_GRANTS,
      pinned: (own?.pins ?? []).some((pin) => pin.hash === pkg.installCode.hash),
    };
  });
  const stale = [
    ...policy.allowScripts
      .filter((entry) => !inventory.packages.some((p) => specMatches(entry.spec, p.identity, inventory.projectDir, false)))
      .map((entry) => `allowScripts[${JSON.stringify(entry.key)}]`),
    ...[...policy.packages.keys()]
      .filter((name) => !inventory.packages.some((p) => p.identity.name === name))
      .map((name) => `packages[${JSON.stringify(name)}]`),
  ];
  return { packages, stale, warnings: policy.warnings };
}
