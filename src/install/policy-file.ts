import path from "node:path";
import npa from "npm-package-arg";
import { CordonError } from "../errors.js";
import { parseNetGrant } from "../policy/net-grant.js";
import { parseDuration, parseSize } from "../policy/units.js";
import { isRecord, own } from "./bounded-read.js";
import { parseAllowKey, type AllowScriptsEntry } from "./allow-scripts.js";
import { PolicyError } from "./errors.js";
import { hashInstallCode } from "./install-code.js";
import { parseReleaseAge } from "./release-age.js";

/** What a project grants one package's install scripts, beyond the defaults. From `cordon.packages.<name>`. */
export interface PackageGrants {
  /** Hosts, as `--allow-net` accepts them (validated). */
  readonly net: readonly string[];
  /** Extra writable paths: relative to the package folder (staying inside it), or absolute / `~/…`. */
  readonly write: readonly string[];
  /** Host variables passed through by name. */
  readonly env: readonly string[];
  readonly timeout: string | number | undefined;
  readonly memory: string | number | undefined;
}

/** A reviewed install code: its scripts' text and the hash of every file they run. */
export interface Pin {
  /** The version it was reviewed at (display only: matching is by hash). */
  readonly version: string | null;
  readonly hash: string;
  readonly scripts: Readonly<Record<string, string>>;
  readonly files: Readonly<Record<string, string>>;
}

export interface PackagePolicy {
  readonly name: string;
  readonly grants: PackageGrants;
  readonly pins: readonly Pin[];
}

export interface InstallPolicy {
  /** The package.json it was read from (npm's `allowScripts`). */
  readonly file: string;
  /** The policy file beside it (`.cordon/policy.json`: grants, pins, settings), whether or not it exists yet. */
  readonly policyFile: string;
  /** package.json still holds a `cordon` section with grants or settings: the next policy write moves it into the policy file. */
  readonly legacySection: boolean;
  readonly allowScripts: readonly AllowScriptsEntry[];
  readonly packages: ReadonlyMap<string, PackagePolicy>;
  /** Entries npm would ignore (ranges, dist-tags, aliases): said, never silently dropped. */
  readonly warnings: readonly string[];
  /** `minReleaseAge`: versions published less than this long ago are not installed (0: off). `setIn` says where, for messages. */
  readonly minReleaseAge: { readonly text: string; readonly ms: number; readonly setIn: string } | undefined;
}

/**
 * Where a project's grants, content pins and settings live, relative to the
 * project: one committed, reviewable file, so package.json keeps one line
 * per approved package (npm's own `allowScripts`).
 */
export const POLICY_FILE = ".cordon/policy.json";
const POLICY_KEYS = new Set(["//", "packages", "minReleaseAge"]);

export const NO_GRANTS: PackageGrants = { net: [], write: [], env: [], timeout: undefined, memory: undefined };

const PACKAGE_KEYS = new Set(["net", "write", "env", "timeout", "memory", "pins"]);
const PIN_KEYS = new Set(["version", "hash", "scripts", "files"]);
const SRI = /^sha256-[A-Za-z0-9+/]{43}=$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Never passed to install scripts, whatever the policy says: they are registry and code-host credentials. */
const SECRET_ENV = /^(?:NPM_TOKEN|NODE_AUTH_TOKEN|GITHUB_TOKEN|GH_TOKEN|GITLAB_TOKEN|npm_config__.*|npm_config_\/\/.*|.*_AUTH_?TOKEN|.*_PASSWORD)$/i;

/**
 * Reads the install-script policy: npm's `allowScripts` from package.json,
 * and cordon's grants, pins and settings from the policy file
 * (`.cordon/policy.json`: `packages`, `minReleaseAge`) and, from projects
 * that predate it, package.json's `cordon` section (the same keys). A
 * package or setting in both must be the same in both (a policy write cut
 * off between its two files leaves such copies). Pure: the caller reads the
 * files. Every malformed value is a PolicyError naming the file, the key
 * and the fix.
 */
export function parseInstallPolicy(data: unknown, file: string, policy?: { data: unknown; file: string }): InstallPolicy {
  if (!isRecord(data)) throw policyError(file, "(top level)", "is not a JSON object", "Restore package.json from version control.");
  const projectDir = path.dirname(file);
  const policyFile = policy?.file ?? path.join(projectDir, POLICY_FILE);
  const warnings: string[] = [];
  const allowScripts: AllowScriptsEntry[] = [];
  const allowField = own(data, "allowScripts");
  if (allowField !== undefined) {
    if (!isRecord(allowField)) {
      throw policyError(file, "allowScripts", "is not an object", `Write it as { "<package>": true | false }, e.g. "allowScripts": { "esbuild": true }.`);
    }
    for (const [key, value] of Object.entries(allowField)) {
      if (typeof value !== "boolean") {
        throw policyError(file, `allowScripts[${JSON.stringify(key)}]`, `is ${JSON.stringify(value)}, not true or false`, `Use true to allow the package's install scripts and false to deny them.`);
      }
      const spec = parseAllowKey(key, projectDir);
      if ("ignored" in spec) warnings.push(`${file}: allowScripts: ignoring ${spec.ignored}.`);
      else allowScripts.push({ key, allow: value, spec });
    }
  }
  const legacy = own(data, "cordon");
  if (legacy !== undefined && !isRecord(legacy)) throw policyError(file, "cordon", "is not an object", `Move cordon's settings to ${POLICY_FILE} (cordon approve does it).`);
  const fromLegacy = settingsOf(legacy ?? {}, file, "cordon.");
  const fromFile = policy === undefined || policy.data === undefined ? undefined : policySettings(policy.data, policyFile);
  const packages = new Map(fromFile?.packages ?? []);
  for (const [name, entry] of fromLegacy.packages) {
    const other = fromFile?.raw.get(name);
    if (other !== undefined && JSON.stringify(other) !== JSON.stringify(fromLegacy.raw.get(name))) {
      throw policyError(file, `cordon.packages[${JSON.stringify(name)}]`, `is also in ${policyFile}, with other settings`,
        `Keep one: remove it from package.json to keep the policy file's, or from ${POLICY_FILE} to keep package.json's (cordon then moves it on its next write).`);
    }
    if (!packages.has(name)) packages.set(name, entry);
  }
  if (fromLegacy.minReleaseAge !== undefined && fromFile?.minReleaseAge !== undefined && fromLegacy.minReleaseAge.text !== fromFile.minReleaseAge.text) {
    throw policyError(file, "cordon.minReleaseAge", `is also set in ${policyFile}, differently`, "Keep one of the two.");
  }
  return {
    file, policyFile, allowScripts, packages, warnings,
    minReleaseAge: fromFile?.minReleaseAge ?? fromLegacy.minReleaseAge,
    legacySection: fromLegacy.packages.size > 0 || fromLegacy.minReleaseAge !== undefined,
  };
}

interface Settings {
  packages: Map<string, PackagePolicy>;
  /** The entries as written, to tell identical copies from conflicting ones. */
  raw: Map<string, unknown>;
  minReleaseAge: InstallPolicy["minReleaseAge"];
}

function policySettings(data: unknown, file: string): Settings {
  if (!isRecord(data)) throw policyError(file, "(top level)", "is not a JSON object", `Write it as { "packages": { "<package>": { … } } }, or let cordon approve write it.`);
  for (const key of Object.keys(data)) {
    if (!POLICY_KEYS.has(key)) throw policyError(file, key, "is not a known setting", `The settings are ${[...POLICY_KEYS].join(", ")}.`);
  }
  return settingsOf(data, file, "");
}

/** `packages` and `minReleaseAge` of a policy file (prefix "") or of package.json's `cordon` section (prefix "cordon."). */
function settingsOf(section: Record<string, unknown>, file: string, prefix: string): Settings {
  const packages = new Map<string, PackagePolicy>();
  const raw = new Map<string, unknown>();
  const list = own(section, "packages");
  if (list !== undefined && !isRecord(list)) throw policyError(file, `${prefix}packages`, "is not an object", `Write it as "packages": { "esbuild": { "net": ["downloads.example.com"] } }.`);
  for (const [name, entry] of Object.entries(list ?? {})) {
    const key = `${prefix}packages[${JSON.stringify(name)}]`;
    if (!isPackageName(name)) throw policyError(file, key, "is not a package name", `Use the registered name, e.g. "esbuild" or "@swc/core", without a version.`);
    if (!isRecord(entry)) throw policyError(file, key, "is not an object", `Write grants as { "net": [...], "write": [...], "env": [...], "timeout": "5m", "memory": "2g" }.`);
    for (const field of Object.keys(entry)) {
      if (!PACKAGE_KEYS.has(field)) {
        throw policyError(file, `${key}.${field}`, "is not a known setting", `The settings are ${[...PACKAGE_KEYS].join(", ")}.`);
      }
    }
    packages.set(name, { name, grants: grantsFrom(entry, file, key), pins: pinsFrom(own(entry, "pins"), file, `${key}.pins`) });
    raw.set(name, entry);
  }
  return { packages, raw, minReleaseAge: minReleaseAgeOf(own(section, "minReleaseAge"), file, `${prefix}minReleaseAge`) };
}

function minReleaseAgeOf(value: unknown, file: string, key: string): InstallPolicy["minReleaseAge"] {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw policyError(file, key, "is not a string", `Write it as "3d" (also 12h, 2w; "0" turns it off).`);
  let ms = 0;
  rethrow(() => (ms = parseReleaseAge(value, key)), file, key);
  return { text: value, ms, setIn: `${key} "${value}" in ${path.basename(path.dirname(file)) === ".cordon" ? POLICY_FILE : path.basename(file)}` };
}

function grantsFrom(entry: Record<string, unknown>, file: string, key: string): PackageGrants {
  const net = stringList(own(entry, "net"), file, `${key}.net`);
  for (const host of net) rethrow(() => parseNetGrant(host), file, `${key}.net`);
  const write = stringList(own(entry, "write"), file, `${key}.write`);
  for (const item of write) checkWritePath(item, file, `${key}.write`);
  const env = stringList(own(entry, "env"), file, `${key}.env`);
  for (const name of env) {
    if (!ENV_NAME.test(name)) throw policyError(file, `${key}.env`, `has "${name}", which is not a variable name`, "Names are letters, digits and _; list each variable by name.");
    if (SECRET_ENV.test(name)) {
      throw policyError(file, `${key}.env`, `grants "${name}", a registry or code-host credential`, "Install scripts never receive credentials. If a download needs a token, give it as a secret bound to its host (see docs/install.md).");
    }
  }
  const timeout = limit(own(entry, "timeout"), file, `${key}.timeout`, (v) => parseDuration(v, `${key}.timeout`));
  const memory = limit(own(entry, "memory"), file, `${key}.memory`, (v) => parseSize(v, `${key}.memory`));
  return { net, write, env, timeout, memory };
}

function pinsFrom(value: unknown, file: string, key: string): Pin[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw policyError(file, key, "is not a list", "Let `cordon approve <package>` write pins.");
  return value.map((item, i) => {
    const at = `${key}[${i}]`;
    const fix = "Run `cordon approve <package>` again to record the pin afresh.";
    if (!isRecord(item)) throw policyError(file, at, "is not an object", fix);
    for (const field of Object.keys(item)) if (!PIN_KEYS.has(field)) throw policyError(file, `${at}.${field}`, "is not a pin field", fix);
    const version = own(item, "version");
    const hash = own(item, "hash");
    if (version !== undefined && version !== null && typeof version !== "string") throw policyError(file, `${at}.version`, "is not a string", fix);
    if (typeof hash !== "string" || !SRI.test(hash)) throw policyError(file, `${at}.hash`, "is not a sha256-… hash", fix);
    const scripts = hashRecord(own(item, "scripts"), file, `${at}.scripts`, false);
    const files = hashRecord(own(item, "files"), file, `${at}.files`, true);
    if (hashInstallCode(scripts, files) !== hash) {
      throw policyError(file, `${at}.hash`, "does not match the pin's scripts and files (the pin was edited by hand)", fix);
    }
    return { version: typeof version === "string" ? version : null, hash, scripts, files };
  });
}

function hashRecord(value: unknown, file: string, key: string, hashes: boolean): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw policyError(file, key, "is not an object", "Run `cordon approve <package>` again to record the pin afresh.");
  const result: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== "string" || (hashes && !SRI.test(item))) {
      throw policyError(file, `${key}[${JSON.stringify(name)}]`, hashes ? "is not a sha256-… hash" : "is not a string", "Run `cordon approve <package>` again to record the pin afresh.");
    }
    result[name] = item;
  }
  return result;
}

function stringList(value: unknown, file: string, key: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.some((item) => typeof item !== "string" || item === "" || item.includes("\0"))) {
    throw policyError(file, key, "is not a list of non-empty strings", `Write a list, e.g. ${JSON.stringify(key.endsWith(".net") ? ["downloads.example.com"] : key.endsWith(".env") ? ["MY_BUILD_FLAG"] : ["build"])}.`);
  }
  return list as string[];
}

/** Relative write grants are anchored at the package folder and must stay in it; outside needs an explicit absolute or `~/` path. */
function checkWritePath(item: string, file: string, key: string): void {
  if (item.startsWith("/") || item === "~" || item.startsWith("~/")) return;
  const normalized = path.posix.normalize(item);
  if (normalized === ".." || normalized.startsWith("../")) {
    throw policyError(file, key, `has "${item}", which leaves the package folder`, "Relative paths are inside the package; for a folder elsewhere write its absolute path or ~/… so the grant reads as what it is.");
  }
}

function limit(value: unknown, file: string, key: string, parse: (v: string | number) => number): string | number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" && typeof value !== "number") throw policyError(file, key, "is not a string or a number", `Write it as "10m" / "2g".`);
  rethrow(() => parse(value), file, key);
  return value;
}

function rethrow(check: () => unknown, file: string, key: string): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof CordonError)) throw error;
    throw new PolicyError(`${file}: ${key}: ${error.message}`, { file, key, input: key, ...(error.hint === undefined ? {} : { hint: error.hint }), cause: error });
  }
}

export function isPackageName(name: string): boolean {
  try {
    const parsed = npa(name);
    return parsed.registry && parsed.name === name && (parsed.rawSpec === "" || parsed.rawSpec === "*") && !name.includes("@", 1);
  } catch {
    return false;
  }
}

export function policyError(file: string, key: string, rule: string, fix: string): PolicyError {
  return new PolicyError(`${file}: ${key} ${rule}.`, { file, key, input: key, hint: fix });
}
