/**
 * The front half of `cordon install`: what in an installed tree wants to run
 * code at install time, what the project's policy says about each package,
 * and the grants an approved script runs with. Nothing here runs a script.
 */
export {
  InstallError, PolicyError, ApprovalNeededError, ScriptFailedError, NpmFailedError, InstallInterruptedError, FolderNotWritableError,
  EXIT_INSTALL_REFUSED, EXIT_NEEDS_APPROVAL, EXIT_SCRIPT_FAILED, EXIT_INTERRUPTED, type InstallErrorOptions,
} from "./errors.js";
export { inventoryInstallScripts, type Inventory, type InventoryOptions, type ScriptedPackage, type ProjectPackage } from "./inventory.js";
export { INSTALL_EVENTS, PROJECT_EVENTS, DEFAULT_GYP_INSTALL, type InstallEvent, type ProjectEvent, type LifecycleScript, type ScriptTarget, type ScriptHint } from "./lifecycle-script.js";
export { type InstallCode, hashInstallCode } from "./install-code.js";
export type { GypInfo } from "./gyp-info.js";
export { scanGyp, type GypCommand, type GypScan } from "./gyp-file.js";
export type { InstalledManifest } from "./manifest.js";
export { type PackageIdentity, type PackageSource, displayId } from "./package-identity.js";
export { readLockfile, parseLockfile, type Lockfile, type LockedPackage } from "./lockfile.js";
export { installOrder, dependencyEdges } from "./install-order.js";
export { parseInstallPolicy, NO_GRANTS, POLICY_FILE, type InstallPolicy, type PackagePolicy, type PackageGrants, type Pin } from "./policy-file.js";
export { readInstallPolicy, type PolicySource } from "./policy-read.js";
export { allowScriptsVerdict, type AllowScriptsEntry, type AllowSpec } from "./allow-scripts.js";
export { decideInstallScripts, compareWithPin, type Decision, type DecisionKind, type CodeChange } from "./decide.js";
export { checkInstallScripts, diffChangedInstallCode, type InstallCheck } from "./check.js";
export { listPolicy, type PolicyListing, type PolicyListEntry } from "./policy-list.js";
export { approvePackages, denyPackages, prunePolicy, packagesNamed, closeNames, type ApproveOptions, type GrantsInput, type PolicyEdit } from "./policy-edit.js";
export { InstallCodeStore } from "./install-code-store.js";
export { unifiedDiff, type DiffOptions } from "./unified-diff.js";
export { lifecycleEnv, PASSED_NPM_CONFIG, type LifecycleEnvInput, type NpmFacts } from "./lifecycle-env.js";
export { locateNpm } from "./npm-facts.js";
export { installSandboxPermissions, DEFAULT_INSTALL_MEMORY, DEFAULT_INSTALL_TIMEOUT, type InstallSandboxContext } from "./sandbox-grants.js";
export { writeFileAtomic } from "./atomic-write.js";
export { installProject, type InstallOptions, type InstallReport, type ReviewRequest, type ReviewAnswer } from "./install.js";
export { BuildCache, defaultBuildCacheDir, type BuildOwner, type RestoreResult, type StoreResult } from "./build-cache.js";
export { parseReleaseAge, type ReleaseAgeGate } from "./release-age.js";
