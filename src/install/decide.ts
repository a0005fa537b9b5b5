import { allowScriptsVerdict } from "./allow-scripts.js";
import type { ScriptedPackage } from "./inventory.js";
import type { InstallCode } from "./install-code.js";
import { NO_GRANTS, type InstallPolicy, type PackageGrants, type Pin } from "./policy-file.js";

/** One difference between a pin and the install code now in the tree. */
export interface CodeChange {
  readonly what: "script" | "file";
  /** The event name for a script, the package-relative path for a file. */
  readonly name: string;
  readonly change: "added" | "removed" | "modified";
  /** For files: the hashes before and after; for scripts: the texts. */
  readonly before: string | undefined;
  readonly after: string | undefined;
}

export type Decision =
  | {
      readonly kind: "approved";
      readonly package: ScriptedPackage;
      readonly grants: PackageGrants;
      /** `allowScripts` matched; or a pin matched byte for byte for a version `allowScripts` does not name. */
      readonly reason: "allowScripts" | "pin";
      readonly keys: readonly string[];
      readonly pin: Pin | undefined;
    }
  | { readonly kind: "denied"; readonly package: ScriptedPackage; readonly keys: readonly string[] }
  | { readonly kind: "unknown"; readonly package: ScriptedPackage }
  | {
      readonly kind: "changed";
      readonly package: ScriptedPackage;
      readonly grants: PackageGrants;
      /** The pin it is compared with: the one reviewed at this version, else the latest. */
      readonly pin: Pin;
      readonly changes: readonly CodeChange[];
    };

export type DecisionKind = Decision["kind"];

/**
 * Decides, for each inventoried package, whether its install scripts run:
 * deny wins over allow; an allowed package with pins runs only when its
 * install code matches one of them byte for byte; a package allowed at
 * another version runs when its code matches a pin, and needs review when it
 * does not. Pure: no files, no environment.
 */
export function decideInstallScripts(packages: readonly ScriptedPackage[], policy: InstallPolicy, projectDir: string): Decision[] {
  return packages.map((pkg) => decideOne(pkg, policy, projectDir));
}

function decideOne(pkg: ScriptedPackage, policy: InstallPolicy, projectDir: string): Decision {
  const verdict = allowScriptsVerdict(policy.allowScripts, pkg.identity, projectDir);
  const keysFor = (allow: boolean): string[] =>
    policy.allowScripts.filter((e) => e.allow === allow && allowScriptsVerdict([e], pkg.identity, projectDir) === allow).map((e) => e.key);
  if (verdict === false) return { kind: "denied", package: pkg, keys: keysFor(false) };
  const own = policy.packages.get(pkg.identity.name);
  const grants = own?.grants ?? NO_GRANTS;
  const pins = own?.pins ?? [];
  const matching = pins.find((pin) => pin.hash === pkg.installCode.hash);
  if (verdict === true) {
    if (pins.length === 0 || matching !== undefined) {
      return { kind: "approved", package: pkg, grants, reason: "allowScripts", keys: keysFor(true), pin: matching };
    }
    return changed(pkg, grants, pins);
  }
  // Not named at this version. A version-pinned approval of the same registry
  // package plus a byte-identical pin means the same code was reviewed before.
  const approvedElsewhere = policy.allowScripts.some(
    (e) => e.allow && e.spec.kind === "registry" && e.spec.name === pkg.identity.name && pkg.identity.source === "registry",
  );
  const deniedElsewhere = policy.allowScripts.some((e) => !e.allow && e.spec.kind === "registry" && e.spec.name === pkg.identity.name);
  if (approvedElsewhere && !deniedElsewhere && pins.length > 0) {
    if (matching !== undefined) return { kind: "approved", package: pkg, grants, reason: "pin", keys: [], pin: matching };
    return changed(pkg, grants, pins);
  }
  return { kind: "unknown", package: pkg };
}

function changed(pkg: ScriptedPackage, grants: PackageGrants, pins: readonly Pin[]): Decision {
  const pin = pins.find((p) => p.version !== null && p.version === pkg.identity.version) ?? pins[pins.length - 1]!;
  return { kind: "changed", package: pkg, grants, pin, changes: compareWithPin(pin, pkg.installCode) };
}

export function compareWithPin(pin: Pin, code: InstallCode): CodeChange[] {
  return [
    ...compareRecords("script", pin.scripts, code.scripts),
    ...compareRecords("file", pin.files, code.files),
  ];
}

function compareRecords(what: "script" | "file", before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): CodeChange[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changes: CodeChange[] = [];
  for (const name of names) {
    const a = Object.hasOwn(before, name) ? before[name] : undefined;
    const b = Object.hasOwn(after, name) ? after[name] : undefined;
    if (a === b) continue;
    changes.push({ what, name, change: a === undefined ? "added" : b === undefined ? "removed" : "modified", before: a, after: b });
  }
  return changes;
}
