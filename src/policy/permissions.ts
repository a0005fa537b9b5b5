import path from "node:path";
import { ConfigError } from "../errors.js";
import { parseCount, parseDuration, parseSize } from "./units.js";
import { parseNetGrants, type NetGrant } from "./net-grant.js";

/**
 * The grants a sandbox runs with, as every front door (CLI, installer, SDK)
 * supplies them: strings as a user would type them.
 */
export interface PermissionsInput {
  allowRead?: readonly string[];
  allowWrite?: readonly string[];
  allowEnv?: readonly string[];
  allowNet?: readonly string[];
  /** Variables set inside the sandbox: `NAME=VALUE` strings or a record. */
  env?: readonly string[] | Readonly<Record<string, string>>;
  cwd?: string;
  timeout?: string | number;
  memory?: string | number;
  pids?: string | number;
  disk?: string | number;
  output?: string | number;
}

/** Where relative paths and `~` in grants are anchored. */
export interface PermissionsContext {
  baseDir: string;
  homeDir: string;
}

/** A variable name, or a prefix pattern such as `AWS_*`. */
export type EnvGrant = { kind: "name"; name: string } | { kind: "prefix"; prefix: string };

export interface Limits {
  readonly timeoutMs?: number;
  readonly memoryBytes?: number;
  readonly pids?: number;
  readonly diskBytes?: number;
  readonly outputBytes?: number;
}

/**
 * The validated, normalized form of a grant set. Every path is absolute and
 * lexically normalized (host resolution of symlinks happens in the engine,
 * which may touch the filesystem); every name is checked. Code downstream of
 * `parsePermissions` trusts these types and re-checks nothing.
 */
export interface Permissions {
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly env: readonly EnvGrant[];
  readonly net: readonly NetGrant[];
  readonly setEnv: ReadonlyMap<string, string>;
  readonly cwd: string | undefined;
  readonly limits: Limits;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The one rule for a variable name, wherever one is given (grants, --env, secrets, policies, SDK options). */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

export function parsePermissions(input: PermissionsInput, context: PermissionsContext): Permissions {
  const write = uniquePaths(input.allowWrite, "--allow-write", context);
  return {
    // Write implies read: a writable path is never listed as read-only as well.
    read: uniquePaths(input.allowRead, "--allow-read", context).filter((p) => !write.includes(p)),
    write,
    env: (input.allowEnv ?? []).flatMap((entry) => splitList(entry)).map(parseEnvGrant),
    net: parseNetGrants(input.allowNet ?? []),
    setEnv: parseSetEnv(input.env),
    cwd: input.cwd === undefined ? undefined : anchorPath(input.cwd, "--cwd", context),
    limits: parseLimits(input),
  };
}

export function parseLimits(input: PermissionsInput): Limits {
  const limits: { -readonly [K in keyof Limits]: Limits[K] } = {};
  if (input.timeout !== undefined) limits.timeoutMs = parseDuration(input.timeout, "--timeout");
  if (input.memory !== undefined) limits.memoryBytes = parseSize(input.memory, "--memory");
  if (input.pids !== undefined) limits.pids = parseCount(input.pids, "--pids");
  if (input.disk !== undefined) limits.diskBytes = parseSize(input.disk, "--disk");
  if (input.output !== undefined) limits.outputBytes = parseSize(input.output, "--output");
  return limits;
}

/** Splits a comma-separated grant list, rejecting empty entries such as "a,,b". */
export function splitList(entry: string): string[] {
  return entry.split(",").map((item) => item.trim());
}

function uniquePaths(
  entries: readonly string[] | undefined,
  flag: string,
  context: PermissionsContext,
): string[] {
  const paths = (entries ?? []).flatMap(splitList).map((entry) => anchorPath(entry, flag, context));
  return [...new Set(paths)];
}

function anchorPath(entry: string, flag: string, context: PermissionsContext): string {
  if (entry === "") {
    throw new ConfigError(`${flag}: a path is empty.`, {
      input: flag,
      hint: `List paths separated by commas, e.g. ${flag}=./data,./out (the current folder is ".").`,
    });
  }
  if (entry.includes("\0")) {
    throw new ConfigError(`${flag}: "${entry}" contains a NUL byte.`, { input: flag });
  }
  const expanded = entry === "~" ? context.homeDir : entry.startsWith("~/") ? path.join(context.homeDir, entry.slice(2)) : entry;
  return path.resolve(context.baseDir, expanded);
}

function parseEnvGrant(entry: string): EnvGrant {
  if (entry.endsWith("*")) {
    const prefix = entry.slice(0, -1);
    if (prefix !== "" && ENV_NAME.test(prefix)) return { kind: "prefix", prefix };
  } else if (ENV_NAME.test(entry)) {
    return { kind: "name", name: entry };
  }
  throw new ConfigError(`--allow-env: "${entry}" is not a variable name or a prefix pattern.`, {
    input: "--allow-env",
    hint:
      entry === "*" || entry === ""
        ? `cordon never passes the whole environment (it holds tokens). Name the variables: --allow-env=LANG,TZ or a prefix such as --allow-env=MYAPP_*.`
        : `Names are letters, digits and _ (not starting with a digit); a prefix ends in *, e.g. --allow-env=AWS_REGION,MYAPP_*.`,
  });
}

function parseSetEnv(env: PermissionsInput["env"]): Map<string, string> {
  const result = new Map<string, string>();
  if (env === undefined) return result;
  const pairs: [string, string][] = Array.isArray(env)
    ? (env as readonly string[]).map(splitAssignment)
    : Object.entries(env as Record<string, string>);
  for (const [name, value] of pairs) {
    if (!ENV_NAME.test(name)) {
      throw new ConfigError(`--env: "${name}" is not a valid variable name.`, {
        input: "--env",
        hint: `Use --env=NAME=VALUE with a name of letters, digits and _.`,
      });
    }
    if (typeof value !== "string" || value.includes("\0")) {
      throw new ConfigError(`--env: the value of ${name} must be a string without NUL bytes.`, { input: "--env" });
    }
    result.set(name, value);
  }
  return result;
}

function splitAssignment(entry: string): [string, string] {
  const eq = entry.indexOf("=");
  if (eq <= 0) {
    throw new ConfigError(`--env: "${entry}" is not NAME=VALUE.`, {
      input: "--env",
      hint: `Set a variable with --env=MODE=ci; to pass one from your environment use --allow-env=MODE.`,
    });
  }
  return [entry.slice(0, eq), entry.slice(eq + 1)];
}

export function envGrantAllows(grants: readonly EnvGrant[], name: string): boolean {
  return grants.some((g) => (g.kind === "name" ? g.name === name : name.startsWith(g.prefix)));
}
