import fs from "node:fs";
import path from "node:path";
import type { PermissionsInput } from "../policy/permissions.js";
import type { ScriptedPackage } from "./inventory.js";
import type { LifecycleScript } from "./lifecycle-script.js";
import { lifecycleEnv, type NpmFacts } from "./lifecycle-env.js";
import type { PackageGrants } from "./policy-file.js";

/** Limits for one install script when the policy sets none: enough for a native build, not for a runaway. */
export const DEFAULT_INSTALL_TIMEOUT = "10m";
export const DEFAULT_INSTALL_MEMORY = "4g";
/** Inside the sandbox's private /tmp: gone with the sandbox. */
const PRIVATE_NODE_GYP_DIR = "/tmp/.cache/node-gyp";

export interface InstallSandboxContext {
  readonly projectDir: string;
  /**
   * node-gyp's header cache on the host (e.g. ~/.cache/node-gyp). Read-only
   * when it exists: writable and shared, one approved package could plant a
   * gyp file there that every later build, sandboxed or not, would run.
   * When it does not exist, each script gets a private, throw-away one.
   */
  readonly nodeGypDir: string;
  readonly npm: NpmFacts;
  /** Folders that must be readable for npm's node-gyp and shim when they live outside /usr (e.g. an nvm install). */
  readonly extraRead?: readonly string[];
  /** The user's npm build settings (`nodedir`, …); see PASSED_NPM_CONFIG. */
  readonly npmConfig?: Readonly<Record<string, string>>;
  /** The sandbox's PATH after npm's entries (node's folder, then the system's). */
  readonly systemPath: string;
  /**
   * What of the project an install script may read. "dependencies" (the
   * default): node_modules, package.json and the lockfile — what builds
   * read. "project": the whole folder, as the issue first sketched it; that
   * includes `.env`, `.npmrc` and `.git/config`, which the threat model
   * keeps invisible unless granted, so it is opt-in.
   */
  readonly projectRead?: "dependencies" | "project";
  /** The lockfile (Inventory.lockfile), readable with "dependencies". Grants must name existing paths. */
  readonly lockfile?: string;
}

/**
 * The grants one install script runs with: the project read-only, its own
 * package folder and node-gyp's header cache writable (the sandbox's /tmp and
 * $HOME are private tmpfs already), only npm's lifecycle variables plus the
 * names the policy grants, only the granted hosts, and a time and memory
 * limit. Never more than this: a package's grants narrow the project's
 * defaults by adding named hosts, paths and variables, never the whole of
 * anything.
 */
export function installSandboxPermissions(
  pkg: ScriptedPackage,
  script: LifecycleScript,
  grants: PackageGrants,
  context: InstallSandboxContext,
): PermissionsInput {
  const write = [pkg.dir, ...grants.write.map((item) => anchorWrite(pkg.dir, item))];
  const sharedCache = fs.existsSync(context.nodeGypDir);
  return {
    allowRead: [...projectReadGrants(context), ...(context.extraRead ?? []), ...(sharedCache ? [context.nodeGypDir] : [])],
    allowWrite: [...new Set(write)],
    allowEnv: [...grants.env],
    allowNet: [...grants.net],
    env: lifecycleEnv({
      projectDir: context.projectDir,
      packageDir: pkg.dir,
      event: script.event,
      script: script.command,
      name: pkg.identity.name,
      version: pkg.identity.version,
      resolved: pkg.identity.resolved,
      integrity: pkg.identity.integrity,
      dev: pkg.dev,
      optional: pkg.optional,
      manifest: pkg.manifest,
      npm: context.npm,
      systemPath: context.systemPath,
      nodeGypDir: sharedCache ? context.nodeGypDir : PRIVATE_NODE_GYP_DIR,
      ...(context.npmConfig === undefined ? {} : { config: context.npmConfig }),
    }),
    cwd: pkg.dir,
    timeout: grants.timeout ?? DEFAULT_INSTALL_TIMEOUT,
    memory: grants.memory ?? DEFAULT_INSTALL_MEMORY,
  };
}

function projectReadGrants(context: InstallSandboxContext): string[] {
  if (context.projectRead === "project") return [context.projectDir];
  const files = [path.join(context.projectDir, "node_modules"), path.join(context.projectDir, "package.json")];
  return context.lockfile === undefined ? files : [...files, context.lockfile];
}

/** `~/…` and absolute paths pass as written (permissions anchors `~`); relative ones are inside the package (checked when the policy was read). */
function anchorWrite(packageDir: string, item: string): string {
  if (item.startsWith("/") || item === "~" || item.startsWith("~/")) return item;
  return path.resolve(packageDir, item);
}
