import { ConfigError } from "../errors.js";
import { InvalidMemoryError, InvalidTimeoutError } from "./errors.js";
import type { SecretGrant } from "../net/secrets/secret-grant.js";
import { secretsFromRecord } from "../net/secrets/secret-grant.js";
import { parseSize } from "../policy/units.js";
import { isEnvName } from "../policy/permissions.js";

/** `@deno/sandbox`'s memory type: bytes, or a size with a binary or decimal unit. */
export type Memory = number | `${number}GB` | `${number}MB` | `${number}kB` | `${number}GiB` | `${number}MiB` | `${number}KiB`;

/** A secret the sandbox may use but never holds: sent only to `hosts`, on the wire. */
export interface SecretConfig {
  hosts: string[];
  value: string;
}

/** Options of `Sandbox.create()`, shaped as `@deno/sandbox` 0.13's `SandboxOptions`. */
export interface SandboxOptions {
  /**
   * Hosts the sandbox may reach (`host`, `host:port`, `*.domain`, an address).
   * **Unlike Deno Deploy, leaving this out means no network at all.**
   */
  allowNet?: string[];
  secrets?: Record<string, SecretConfig>;
  /** Variables every process in the sandbox starts with. */
  env?: Record<string, string>;
  /** `"session"` (default: until close() or this process exits), or a duration such as `"30s"`, `"5m"`. */
  timeout?: "session" | `${number}s` | `${number}m` | `${number}h`;
  /** Memory for the whole sandbox (default 1280MiB, as Deno's). */
  memory?: Memory;
  /** Up to 5 labels (key ≤ 64 bytes, value ≤ 128 bytes), listed with the sandbox. */
  labels?: Record<string, string>;
  /** A snapshot (copy-on-write, read-only base) or a volume (read-write) as the sandbox's home. */
  root?: string;
  /** Volumes to mount: `{ "/data": "my-volume" }`. */
  volumes?: Record<string, string>;
  /** Space for each writable area ($HOME, /tmp, /dev/shm), as `memory` (default 1GiB). cordon only. */
  disk?: Memory;
  /** Expose this port on create; `sandbox.url` is then set. */
  port?: number;
  /** Names pinned to addresses (as curl's --resolve), for tests and local services. cordon only. */
  resolve?: Record<string, string>;
  /** Where sandboxes, snapshots and volumes live (default: $CORDON_DATA_DIR, $XDG_DATA_HOME/cordon or ~/.local/share/cordon). cordon only. */
  dataDir?: string;
  /**
   * `deno` on PATH (default true): cordon's one copy, fetched on first use
   * with npm and bound read-only at /usr/local/bin/deno. `false` leaves it
   * out (no fetch, e.g. offline). cordon only.
   */
  deno?: boolean;
  /**
   * `@deno/sandbox` options cordon cannot honour. Those that would change
   * where or how the sandbox runs are refused with a ConfigError naming the
   * option (`region`, `sandboxEndpoint`, `apiEndpoint`, `ssh: true`); the
   * credentials (`token`, `org`) and `debug` change nothing here and are
   * accepted. See docs/sdk.md.
   */
  region?: string;
  sandboxEndpoint?: string | ((region: string) => string);
  apiEndpoint?: string;
  ssh?: boolean;
  token?: string;
  org?: string;
  debug?: boolean;
}

/**
 * Refuses the `@deno/sandbox` options whose value would make code behave
 * differently than its author expects: running elsewhere (a region, an
 * endpoint) or being reachable over SSH. Silently ignoring them would make
 * a program believe it ran in Chicago or could be reached by ssh.
 */
export function refuseRemoteOptions(options: Pick<SandboxOptions, "region" | "sandboxEndpoint" | "apiEndpoint" | "ssh">, where = "Sandbox.create"): void {
  const refuse = (input: string, why: string, hint: string): never => {
    throw new ConfigError(`${where}: ${input} ${why}`, { input, hint });
  };
  if (options.region !== undefined) {
    refuse("region", `is ${JSON.stringify(options.region)}, but cordon runs every sandbox on this machine: there is no region to choose.`, "Remove the region option.");
  }
  if (options.sandboxEndpoint !== undefined) refuse("sandboxEndpoint", "names a Deno Deploy endpoint; cordon's sandbox service runs on this machine.", "Remove the sandboxEndpoint option.");
  if (options.apiEndpoint !== undefined) refuse("apiEndpoint", "names a remote endpoint; cordon's sandbox service runs on this machine (serving other machines is not built yet, see docs/sdk.md).", "Remove the apiEndpoint option.");
  if (options.ssh === true) {
    refuse("ssh", "is true, but cordon offers no SSH access: nothing outside this process can reach a sandbox.", "Remove ssh, and use sandbox.spawn() or sandbox.sh to run commands, or exposeHttp() for a service.");
  }
}

export const DEFAULT_MEMORY_BYTES = 1280 * 1024 ** 2;
export const MIN_MEMORY_BYTES = 32 * 1024 ** 2;
export const DEFAULT_DISK_BYTES = 1024 ** 3;
export const MAX_TIMEOUT_MS = 24 * 3_600_000;
/** Deno's extendTimeout() accepts at most 30 minutes at once. */
export const MAX_EXTEND_MS = 30 * 60_000;
const MAX_LABELS = 5;

export interface ParsedSandboxOptions {
  allowNet: string[];
  secrets: SecretGrant[];
  env: Record<string, string>;
  timeoutMs: number | undefined;
  memoryBytes: number;
  diskBytes: number;
  labels: Record<string, string>;
  root: string | undefined;
  volumes: { target: string; name: string }[];
  port: number | undefined;
  resolve: Map<string, string>;
  deno: boolean;
}

const MEMORY_FORMS = 'a number of bytes or a string with one of the units kB, MB, GB, KiB, MiB, GiB (e.g. "1GiB", "1280MiB")';

export function parseMemory(value: unknown, totalMemoryBytes: number, input = "memory"): number {
  const fail = (rule: string): never => {
    throw new InvalidMemoryError(`${input}: ${JSON.stringify(value)} ${rule}.`, { input, hint: `Give ${MEMORY_FORMS}.` });
  };
  if (typeof value !== "number" && typeof value !== "string") return fail("is not a memory size");
  if (typeof value === "number" && !(Number.isSafeInteger(value) && value > 0)) return fail("is not a positive whole number of bytes");
  let bytes: number;
  try {
    // The one size grammar (policy/units.ts): "1GB" means the same here as on the command line.
    bytes = parseSize(value, input);
  } catch {
    return fail("is not a memory size");
  }
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return fail("is not a positive whole number of bytes");
  if (bytes < MIN_MEMORY_BYTES) return fail(`is below the minimum of ${MIN_MEMORY_BYTES / 1024 ** 2}MiB`);
  if (input === "memory" && bytes > totalMemoryBytes) return fail(`is more than this machine has (${Math.floor(totalMemoryBytes / 1024 ** 2)}MiB)`);
  return bytes;
}

/** "session" → undefined; "30s", "5m", "1h", "500ms" or milliseconds → ms, at most MAX_TIMEOUT_MS. */
export function parseTimeout(value: unknown, input = "timeout", maxMs = MAX_TIMEOUT_MS): number | undefined {
  if (value === undefined || value === "session") return undefined;
  const fail = (rule: string): never => {
    throw new InvalidTimeoutError(`${input}: ${JSON.stringify(value)} ${rule}.`, {
      input,
      hint: `Use "session" (until close()), or a duration such as "30s", "5m" or "1h", at most ${maxMs / 60_000} minutes.`,
    });
  };
  let ms: number;
  if (typeof value === "number") ms = value;
  else if (typeof value === "string") {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
    if (!match) return fail("is not a duration");
    ms = Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[match[2] as "ms" | "s" | "m" | "h"];
  } else return fail("is not a duration");
  if (!Number.isFinite(ms) || ms <= 0) return fail("is not a positive duration");
  if (ms > maxMs) return fail("is over the limit");
  return Math.ceil(ms);
}

export const NAME_RULE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Paths a volume may not cover: the runtime, the sandbox's own system folders and cordon's control folder. */
const RESERVED_TARGETS = ["/", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc", "/proc", "/dev", "/run", "/tmp", "/home/sandbox"];

export function checkName(kind: "snapshot" | "volume", name: unknown, input: string): string {
  if (typeof name !== "string" || !NAME_RULE.test(name)) {
    throw new ConfigError(`${input}: ${JSON.stringify(name)} is not a valid ${kind} name.`, {
      input,
      hint: "Names are 1–63 letters, digits, '.', '_' or '-', starting with a letter or digit.",
    });
  }
  return name;
}

export function parseEnvRecord(env: unknown, input: string): Record<string, string> {
  if (env === undefined) return {};
  if (typeof env !== "object" || env === null || Array.isArray(env)) {
    throw new ConfigError(`${input}: expected an object of NAME: "value" pairs.`, { input, hint: 'e.g. { MODE: "ci" }' });
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!isEnvName(name)) throw new ConfigError(`${input}: "${name}" is not a variable name.`, { input, hint: "Names are letters, digits and _, not starting with a digit." });
    if (typeof value !== "string" || value.includes("\0")) throw new ConfigError(`${input}.${name}: the value must be a string without NUL bytes.`, { input, hint: "Convert the value with String()." });
    out[name] = value;
  }
  return out;
}

function parseBoolean(value: unknown, input: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new ConfigError(`${input}: ${JSON.stringify(value)} is not true or false.`, { input });
  return value;
}

export function parsePort(value: unknown, input: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError(`${input}: ${JSON.stringify(value)} is not a TCP port.`, { input, hint: "Give a whole number from 1 to 65535." });
  }
  return value;
}

/**
 * Checks every option before anything starts: a bad value fails here, naming
 * the option and what it accepts. Existence of snapshots and volumes is
 * checked by the store (it touches the disk).
 */
export function parseSandboxOptions(options: SandboxOptions, totalMemoryBytes: number): ParsedSandboxOptions {
  if (typeof options !== "object" || options === null) throw new ConfigError("Sandbox.create: options must be an object.", { input: "options" });
  refuseRemoteOptions(options);
  const allowNet = options.allowNet ?? [];
  if (!Array.isArray(allowNet) || allowNet.some((h) => typeof h !== "string")) {
    throw new ConfigError("allowNet: expected an array of host names, e.g. [\"api.example.com\"].", { input: "allowNet" });
  }
  const labels = options.labels ?? {};
  const labelEntries = Object.entries(labels);
  if (labelEntries.length > MAX_LABELS) throw new ConfigError(`labels: ${labelEntries.length} given, at most ${MAX_LABELS} allowed.`, { input: "labels", hint: "Merge or drop labels." });
  for (const [key, value] of labelEntries) {
    if (typeof value !== "string" || Buffer.byteLength(key) > 64 || Buffer.byteLength(value) > 128 || key === "") {
      throw new ConfigError(`labels.${key}: keys are 1–64 bytes and values strings of at most 128 bytes.`, { input: "labels", hint: "Shorten the label." });
    }
  }
  const volumes = Object.entries(options.volumes ?? {}).map(([target, name]) => {
    const input = `volumes["${target}"]`;
    if (!target.startsWith("/") || target.includes("\0") || target.split("/").some((part) => part === ".." || part === ".")) {
      throw new ConfigError(`${input}: the mount path must be absolute and normalized.`, { input, hint: 'e.g. { "/data": "my-volume" }' });
    }
    const normalized = target.length > 1 ? target.replace(/\/+$/, "") : target;
    if (RESERVED_TARGETS.some((r) => normalized === r || (r !== "/" && r !== "/home/sandbox" && normalized.startsWith(`${r}/`)))) {
      throw new ConfigError(`${input}: ${normalized} is reserved for the sandbox's system.`, { input, hint: "Mount volumes at a path such as /data or /home/sandbox/data." });
    }
    return { target: normalized, name: checkName("volume", name, input) };
  });
  const resolve = new Map<string, string>();
  for (const [host, address] of Object.entries(options.resolve ?? {})) resolve.set(host.toLowerCase(), String(address));
  let secrets: SecretGrant[] = [];
  if (options.secrets !== undefined) secrets = secretsFromRecord(options.secrets);
  return {
    allowNet: [...allowNet],
    secrets,
    env: parseEnvRecord(options.env, "env"),
    timeoutMs: parseTimeout(options.timeout),
    memoryBytes: options.memory === undefined ? Math.min(DEFAULT_MEMORY_BYTES, totalMemoryBytes) : parseMemory(options.memory, totalMemoryBytes),
    diskBytes: options.disk === undefined ? DEFAULT_DISK_BYTES : parseMemory(options.disk, totalMemoryBytes, "disk"),
    labels: { ...labels },
    root: options.root === undefined ? undefined : checkName("snapshot", options.root, "root"),
    volumes,
    port: options.port === undefined ? undefined : parsePort(options.port, "port"),
    resolve,
    deno: parseBoolean(options.deno, "deno", true),
  };
}
