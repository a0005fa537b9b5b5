import path from "node:path";
import { binDirs } from "./lifecycle-script.js";
import type { InstalledManifest } from "./manifest.js";

/**
 * The environment npm gives a dependency's lifecycle script, rebuilt from
 * scratch instead of inherited, so the host's variables (tokens, cloud keys,
 * `npm_config__auth`, `//registry/:_authToken`) never reach it.
 *
 * Checked against npm 11.19.1 (`env` printed by a postinstall, see
 * docs/install.md): npm sets `npm_package_{name,version,json,resolved,integrity,
 * optional,dev,peer,dev_optional}`, the flattened `npm_package_{config,engines,bin}_*`,
 * `npm_lifecycle_event`, `npm_lifecycle_script`, `npm_config_node_gyp`,
 * `npm_config_user_agent`, `npm_config_npm_version`, `npm_config_local_prefix`,
 * `npm_config_global_prefix`, every non-default `npm_config_*` from the
 * user's configuration, `npm_command`, `npm_execpath`, `npm_node_execpath`,
 * `NODE`, `INIT_CWD`, `EDITOR`, `COLOR`, `HOME`, and `PATH` with each enclosing
 * `node_modules/.bin` then npm's `node-gyp-bin` folder.
 */
export interface LifecycleEnvInput {
  /** The project folder (`INIT_CWD`, `npm_config_local_prefix`). */
  readonly projectDir: string;
  readonly packageDir: string;
  readonly event: string;
  readonly script: string;
  /** The lockfile identity: name and version come from here, not from the tarball. */
  readonly name: string;
  readonly version: string | null;
  readonly resolved: string | undefined;
  readonly integrity: string | undefined;
  readonly dev?: boolean;
  readonly optional?: boolean;
  /** The package's own package.json (for `config`, `engines`, `bin`, as npm exports them). */
  readonly manifest: InstalledManifest | undefined;
  readonly npm: NpmFacts;
  /** npm configuration the user set (`nodedir`, `python`, …), keys as in .npmrc. Only build settings pass. */
  readonly config?: Readonly<Record<string, string>>;
  /** PATH entries after npm's (the sandbox's system PATH, with node's folder). */
  readonly systemPath: string;
  /** node-gyp's header cache, shared by all builds (`npm_config_devdir`). */
  readonly nodeGypDir?: string;
}

/** Where npm and node live, as scripts see them. */
export interface NpmFacts {
  /** npm's version, e.g. "11.19.1". */
  readonly version: string;
  /** The node binary (`NODE`, `npm_node_execpath`). */
  readonly nodeExecPath: string;
  /** node-gyp's entry point (`npm_config_node_gyp`): `<npm>/node_modules/node-gyp/bin/node-gyp.js`. */
  readonly nodeGyp: string;
  /** The folder with npm's `node-gyp` shim, added to PATH: `<npm>/node_modules/@npmcli/run-script/lib/node-gyp-bin`. */
  readonly nodeGypBinDir: string;
  /** npm's CLI (`npm_execpath`), if scripts may run npm. */
  readonly execPath?: string;
  /** npm's own folder, whose option table cordon reads npm's flags with. */
  readonly dir?: string;
}

/**
 * Build settings a native build may need from the user's npm configuration.
 * Anything else (registry, proxies, auth, cache, scripts) stays out: a
 * sandboxed build has no use for it, and some of it is secret.
 */
export const PASSED_NPM_CONFIG = new Set([
  "nodedir", "target", "target_arch", "arch", "disturl", "dist_url", "runtime", "build_from_source",
  "python", "jobs", "libc", "platform", "msvs_version", "debug", "loglevel", "tarball", "ensure",
]);
const SECRET_CONFIG = /auth|token|pass|secret|cert|key|proxy|registry|\/\//i;

export function lifecycleEnv(input: LifecycleEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.config ?? {})) {
    const name = key.replace(/-/g, "_").toLowerCase();
    if (PASSED_NPM_CONFIG.has(name) && !SECRET_CONFIG.test(name) && !value.includes("\0")) env[`npm_config_${name}`] = value;
  }
  Object.assign(env, packageEnv(input));
  Object.assign(env, {
    npm_package_json: path.join(input.packageDir, "package.json"),
    npm_package_resolved: input.resolved ?? "",
    npm_package_integrity: input.integrity ?? "",
    npm_package_optional: input.optional === true ? "1" : "",
    npm_package_dev: input.dev === true ? "1" : "",
    npm_package_peer: "",
    npm_package_dev_optional: "",
    npm_lifecycle_event: input.event,
    npm_lifecycle_script: input.script,
    npm_command: "install",
    npm_config_node_gyp: input.npm.nodeGyp,
    npm_config_npm_version: input.npm.version,
    npm_config_user_agent: `npm/${input.npm.version} node/${process.version} ${process.platform} ${process.arch} workspaces/false`,
    npm_config_local_prefix: input.projectDir,
    npm_node_execpath: input.npm.nodeExecPath,
    NODE: input.npm.nodeExecPath,
    INIT_CWD: input.projectDir,
    COLOR: "0",
    PATH: [...binDirs(input.projectDir, input.packageDir), input.npm.nodeGypBinDir, input.systemPath].join(path.delimiter),
  });
  if (input.npm.execPath !== undefined) env.npm_execpath = input.npm.execPath;
  if (input.nodeGypDir !== undefined) env.npm_config_devdir = input.nodeGypDir;
  return env;
}

/** npm's `package-envs`: name and version (from the lockfile here), then config, engines and bin flattened. */
function packageEnv(input: LifecycleEnvInput): Record<string, string> {
  const env: Record<string, string> = { npm_package_name: input.name };
  if (input.version !== null) env.npm_package_version = input.version;
  const manifest = input.manifest;
  if (manifest !== undefined) {
    flatten(manifest.config, "npm_package_config_", env, 0);
    flatten(manifest.engines, "npm_package_engines_", env, 0);
    flatten(manifest.bin, "npm_package_bin_", env, 0);
  }
  return env;
}

const MAX_PACKAGE_VARS = 256;

function flatten(value: unknown, prefix: string, env: Record<string, string>, depth: number): void {
  if (depth > 8 || typeof value !== "object" || value === null) return;
  const entries = Array.isArray(value) ? value.map((item, i) => [String(i), item] as const) : Object.entries(value);
  for (const [key, item] of entries) {
    if (Object.keys(env).length >= MAX_PACKAGE_VARS) return;
    const name = `${prefix}${key}`;
    // A hostile package.json must not be able to set PATH, NODE_OPTIONS or
    // LD_PRELOAD through a config key: names stay under their prefix and
    // contain only characters a variable name may hold.
    if (!/^[A-Za-z0-9_]+$/.test(key) && !Array.isArray(value)) continue;
    if (item === null || item === false) env[name] = "";
    else if (typeof item === "object") flatten(item, `${name}_`, env, depth + 1);
    else if (item !== undefined) env[name] = String(item).replace(/\0/g, "");
  }
}
