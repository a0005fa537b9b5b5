import fs from "node:fs";
import path from "node:path";
import { CommandNotFoundError, ConfigError } from "../errors.js";
import { envGrantAllows, type Limits, type Permissions } from "../policy/permissions.js";
import type { NetGrant } from "../policy/net-grant.js";
import { isInside, resolveGrantPaths, type ResolvedGrant } from "./grant-paths.js";
import type { HostFacts } from "./host-facts.js";
import type { PersistenceScan } from "./persistence.js";
import { chooseLimitStrategy, type LimitStrategy } from "./limits/enforce.js";
import type { SeccompOptions } from "./seccomp/filter.js";

/** One step in building the sandbox's filesystem, applied in order. */
export type Mount =
  /**
   * A host path bound into the sandbox. `source` is canonical (no symlink in
   * any component): the backend pins it by descriptor and refuses it if it
   * is no longer that path. `sourceIn: "launcher"` marks a source that only
   * exists in the launcher stage's mount namespace (the SDK's overlay),
   * which is bound by name.
   */
  | { kind: "ro-bind" | "bind"; source: string; target: string; sourceIn?: "launcher" }
  | { kind: "tmpfs"; target: string; sizeBytes: number; mode: number }
  | { kind: "proc"; target: string }
  | { kind: "dev"; target: string }
  | { kind: "symlink"; target: string; linkTo: string }
  | { kind: "file"; target: string; content: string }
  /** Generated content bound read-only over a path, even inside a read-only bind (e.g. a CA bundle in /etc/ssl). */
  | { kind: "data"; target: string; content: string }
  | { kind: "remount-ro"; target: string };

/**
 * Everything a backend needs to start one sandbox, decided before anything
 * runs. Backends render it; they make no policy decisions of their own.
 */
export interface SandboxPlan {
  command: string;
  args: readonly string[];
  cwd: string;
  env: ReadonlyMap<string, string>;
  mounts: readonly Mount[];
  hostname: string;
  /** Limits in force: the granted ones, and defaults for the rest (see DEFAULT_*). */
  limits: Limits & { diskBytes: number; memoryBytes: number; pids: number };
  /** How each limit is enforced on this host (a cgroup, or rlimits), and the rlimits to set. */
  limitStrategy: LimitStrategy;
  /** What the seccomp filter refuses beyond its fixed list (docs/seccomp.md). */
  seccomp: SeccompOptions;
  /**
   * The egress proxy on the sandbox's loopback, when the sandbox gets one:
   * the grants it allows; it is attached while the command is held.
   */
  network: { proxy: string; grants: readonly NetGrant[] } | undefined;
  /** Each secret's name (its placeholder is in `env`) and the hosts it is bound to. */
  secrets: readonly { name: string; hosts: readonly string[] }[];
  /** The writable grants, and what of persistence.ts's watch list was in them before the run. */
  persistenceWatch: { roots: readonly string[]; baseline: PersistenceScan };
  warnings: readonly string[];
}

export const SANDBOX_HOME = "/home/sandbox";
export const SANDBOX_HOSTNAME = "cordon";
export const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Private writable space (each of $HOME, /tmp and /dev/shm) when --disk is not given. */
export const DEFAULT_DISK_BYTES = 1024 ** 3;
/** Processes and threads when --pids is not given: enough for parallel builds, not for a fork bomb. */
export const DEFAULT_PIDS = 4096;
/** Memory when --memory is not given, as a share of the machine's RAM. */
export const DEFAULT_MEMORY_SHARE = 0.5;

/** Host variables every sandbox gets, because programs print badly without them. */
const PASSED_ENV = (name: string): boolean => name === "LANG" || name === "TERM" || name.startsWith("LC_");

/** What the network layer gives a sandbox: proxy variables and the read-only files its clients load. */
export interface NetworkPart {
  proxy: string;
  env: ReadonlyMap<string, string>;
  readOnlyPaths: readonly string[];
}

/** What the secrets layer gives a sandbox: placeholders and trust variables, the CA files. */
export interface SecretsPart {
  env: ReadonlyMap<string, string>;
  files: readonly { path: string; content: string }[];
  bindings: readonly { name: string; hosts: readonly string[] }[];
}

export interface PlanRequest {
  command: string;
  args: readonly string[];
  permissions: Permissions;
  host: HostFacts;
  network?: NetworkPart;
  secrets?: SecretsPart;
  /** Whether cordon counts the output (an output limit then applies). */
  capturingOutput?: boolean;
  /** What a caller adds beside the grants (the SDK's control folder, volumes, root layers). */
  extraMounts?: readonly Mount[];
  extraEnv?: ReadonlyMap<string, string>;
}

export function planSandbox(request: PlanRequest): SandboxPlan {
  const { permissions, host } = request;
  if (request.command === "") throw new ConfigError("No command given to run.", { hint: "Usage: cordon run [grants] -- COMMAND [ARGS...]" });
  const resolved = resolveGrantPaths(permissions, host.homeDir, host.env);
  const diskBytes = permissions.limits.diskBytes ?? DEFAULT_DISK_BYTES;
  const env = sandboxEnv(permissions, host, [request.extraEnv, request.secrets?.env, request.network?.env]);
  const cwd = sandboxCwd(permissions, host, resolved.grants);
  // bubblewrap's --chdir sets it too; in the plan, --explain shows it.
  env.set("PWD", cwd);
  const mounts: Mount[] = [
    ...runtimeMounts(host),
    ...privateMounts(diskBytes),
    ...procCovers(host),
    ...etcFiles(host),
    ...grantMounts(resolved.grants, resolved.protectedPaths),
    ...(request.extraMounts ?? []).map(withCanonicalSource),
    ...(request.secrets?.files ?? []).map((f): Mount => ({ kind: "data", target: f.path, content: f.content })),
    ...(request.network?.readOnlyPaths ?? []).map((p) => withCanonicalSource({ kind: "ro-bind", source: p, target: p })),
    // The root and /dev are bubblewrap's own tmpfs mounts with no size limit;
    // left writable they would let a program fill memory past --disk.
    { kind: "remount-ro", target: "/dev" },
    { kind: "remount-ro", target: "/" },
  ];
  checkCommandVisible(request.command, env.get("PATH") ?? SANDBOX_PATH, cwd, resolved.grants, host);
  // Bounded by default (threat model: resources): a sandbox never gets the
  // whole machine just because nobody asked for a limit.
  const limits = {
    ...permissions.limits,
    diskBytes,
    memoryBytes: permissions.limits.memoryBytes ?? Math.floor(host.totalMemoryBytes * DEFAULT_MEMORY_SHARE),
    pids: permissions.limits.pids ?? DEFAULT_PIDS,
  };
  const limitStrategy = chooseLimitStrategy(limits, request.capturingOutput ?? false, host.uid === 0);
  return {
    command: request.command,
    args: request.args,
    cwd,
    env,
    mounts,
    hostname: SANDBOX_HOSTNAME,
    limits,
    limitStrategy,
    // Memory limited per process (no cgroup): shared memory would escape it.
    seccomp: { denySharedMemory: limitStrategy.cgroup === undefined },
    network: request.network && { proxy: request.network.proxy, grants: permissions.net },
    secrets: request.secrets?.bindings ?? [],
    persistenceWatch: { roots: resolved.grants.filter((g) => g.writable).map((g) => g.real), baseline: resolved.persistenceBaseline },
    warnings: resolved.warnings,
  };
}

function runtimeMounts(host: HostFacts): Mount[] {
  const mounts: Mount[] = host.runtimeDirs.map((dir): Mount =>
    dir.symlinkTo === undefined
      ? { kind: "ro-bind", source: dir.path, target: dir.path }
      : { kind: "symlink", target: dir.path, linkTo: dir.symlinkTo },
  );
  for (const file of host.nodeInstall?.readOnly ?? []) mounts.push(withCanonicalSource({ kind: "ro-bind", source: file, target: file }));
  for (const link of host.nodeInstall?.links ?? []) mounts.push({ kind: "symlink", target: link.path, linkTo: link.target });
  return mounts;
}

/**
 * PID 1 of the sandbox is bubblewrap's init, the process that carries
 * --die-with-parent. Its memory file is writable by anything else in the
 * sandbox (same user; ptrace access rules, not a syscall seccomp sees): code
 * written there can clear its parent-death signal and outlive cordon, its
 * timeout and a kill -9. An empty read-only file is bound over both names of it.
 */
const INIT_MEMORY_FILES = ["/proc/1/mem", "/proc/1/task/1/mem"];

/** The host kernel's settings stay out of reach (see PROC_READ_ONLY in host-facts.ts). */
function procCovers(host: HostFacts): Mount[] {
  const { readOnly, maskedFiles, maskedDirs } = host.procCovers;
  return [
    ...INIT_MEMORY_FILES.map((p): Mount => ({ kind: "data", target: p, content: "" })),
    ...readOnly.map((p): Mount => ({ kind: "ro-bind", source: p, target: p })),
    ...maskedFiles.map((p): Mount => ({ kind: "data", target: p, content: "" })),
    ...maskedDirs.flatMap((p): Mount[] => [{ kind: "tmpfs", target: p, sizeBytes: 4096, mode: 0o555 }, { kind: "remount-ro", target: p }]),
  ];
}

/**
 * System and cordon-owned sources (/etc/localtime is usually a link, cordon
 * may live under a linked folder) are resolved here, so every bind source the
 * backend pins is canonical. Grants are resolved and checked in
 * grant-paths.ts, never here: re-resolving them would undo that check.
 */
function withCanonicalSource(mount: Mount): Mount {
  if ((mount.kind !== "bind" && mount.kind !== "ro-bind") || mount.sourceIn === "launcher") return mount;
  return { ...mount, source: safeRealpath(mount.source) ?? mount.source };
}

function privateMounts(diskBytes: number): Mount[] {
  return [
    { kind: "proc", target: "/proc" },
    { kind: "dev", target: "/dev" },
    { kind: "tmpfs", target: "/dev/shm", sizeBytes: diskBytes, mode: 0o1777 },
    { kind: "tmpfs", target: "/tmp", sizeBytes: diskBytes, mode: 0o1777 },
    { kind: "tmpfs", target: SANDBOX_HOME, sizeBytes: diskBytes, mode: 0o700 },
  ];
}

function etcFiles(host: HostFacts): Mount[] {
  const name = host.uid === 0 ? "root" : "sandbox";
  const home = SANDBOX_HOME;
  // Synthesized so the sandbox learns no host account names, and so "whoami"
  // and tools that look up $HOME in the password database keep working.
  const passwd = [
    host.uid === 0 ? `root:x:0:0:root:${home}:/bin/sh` : `root:x:0:0:root:/root:/bin/sh`,
    ...(host.uid === 0 ? [] : [`${name}:x:${host.uid}:${host.gid}:sandbox:${home}:/bin/sh`]),
    `nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin`,
  ];
  const group = ["root:x:0:", ...(host.gid === 0 ? [] : [`${name}:x:${host.gid}:`]), "nogroup:x:65534:"];
  return [
    ...host.etcEntries.map((entry) => withCanonicalSource({ kind: "ro-bind", source: entry, target: entry })),
    { kind: "file", target: "/etc/passwd", content: passwd.join("\n") + "\n" },
    { kind: "file", target: "/etc/group", content: group.join("\n") + "\n" },
    { kind: "file", target: "/etc/hosts", content: `127.0.0.1 localhost ${SANDBOX_HOSTNAME}\n::1 localhost ip6-localhost\n` },
    { kind: "file", target: "/etc/nsswitch.conf", content: "passwd: files\ngroup: files\nhosts: files\n" },
  ];
}

/**
 * Grants and the protected paths inside writable ones, shallowest first, so
 * the deeper one wins: a writable ./out inside a read-only ., a read-only
 * .git inside a writable ., and a writable .git/objects granted by its own
 * name inside that read-only .git.
 */
function grantMounts(grants: readonly ResolvedGrant[], protectedPaths: readonly string[]): Mount[] {
  const depth = (p: string): number => p.split("/").length;
  const layers = [
    ...grants,
    ...protectedPaths.map((p): ResolvedGrant => ({ given: p, real: p, writable: false })),
  ].sort((a, b) => depth(a.real) - depth(b.real) || a.real.localeCompare(b.real));
  const mounts: Mount[] = [];
  for (const grant of layers) {
    mounts.push({ kind: grant.writable ? "bind" : "ro-bind", source: grant.real, target: grant.real });
    // A grant named through a symlink keeps working by that name, unless the
    // link already sits inside another grant (then it is there already).
    const linkCovered = grants.some((g) => isInside(grant.given, g.real));
    if (grant.given !== grant.real && !linkCovered) mounts.push({ kind: "symlink", target: grant.given, linkTo: grant.real });
  }
  return mounts;
}

/** The layers' variables come last, in order (caller, secrets, network): the proxy's always win. */
function sandboxEnv(permissions: Permissions, host: HostFacts, layers: readonly (ReadonlyMap<string, string> | undefined)[]): Map<string, string> {
  const env = new Map<string, string>();
  const pathDirs = host.nodeInstall ? `${host.nodeBinDir}:${SANDBOX_PATH}` : SANDBOX_PATH;
  env.set("PATH", pathDirs);
  env.set("HOME", SANDBOX_HOME);
  for (const [name, value] of Object.entries(host.env)) {
    if (value === undefined) continue;
    if (PASSED_ENV(name) || envGrantAllows(permissions.env, name)) env.set(name, value);
  }
  for (const [name, value] of permissions.setEnv) env.set(name, value);
  for (const layer of layers) for (const [name, value] of layer ?? []) env.set(name, value);
  return env;
}

/**
 * Where the command starts: --cwd if given; else the host's current folder
 * when it is granted or holds a grant (so `cordon run --allow-read=. -- ls`
 * lists it); else the sandbox's private home.
 */
function sandboxCwd(permissions: Permissions, host: HostFacts, grants: readonly ResolvedGrant[]): string {
  const granted = (dir: string): boolean =>
    grants.some((g) => dir === g.real || dir === g.given || isInside(dir, g.real) || isInside(dir, g.given));
  if (permissions.cwd !== undefined) {
    // The private folders start empty, so only their roots exist to start in.
    if (permissions.cwd !== SANDBOX_HOME && permissions.cwd !== "/tmp" && !granted(permissions.cwd)) {
      throw new ConfigError(`--cwd: ${permissions.cwd} is not visible inside the sandbox.`, {
        input: "--cwd",
        hint: `Grant it as well, e.g. --allow-read=${permissions.cwd}, or start in ${SANDBOX_HOME} or /tmp.`,
      });
    }
    return permissions.cwd;
  }
  // The host's folder also exists (empty but for the granted paths) when a
  // grant lies below it, so relative names such as ./src keep working.
  const hostCwd = safeRealpath(host.cwd) ?? host.cwd;
  const leadsToGrant = grants.some((g) => isInside(g.real, hostCwd));
  return granted(hostCwd) || leadsToGrant ? hostCwd : SANDBOX_HOME;
}

/**
 * Finds the command the way the sandbox will, so a missing one is reported
 * with a fix instead of bubblewrap's bare "execvp: No such file". The
 * runtime folders are bound unchanged, so looking on the host is looking in
 * the sandbox; names only a granted folder holds are accepted when granted.
 */
function checkCommandVisible(command: string, searchPath: string, cwd: string, grants: readonly ResolvedGrant[], host: HostFacts): void {
  const visibleOnHost = (file: string): boolean => {
    const runtime = host.runtimeDirs.some((d) => isInside(file, d.path)) ||
      (host.nodeInstall?.readOnly.some((p) => file === p || isInside(file, p)) ?? false);
    const granted = grants.some((g) => isInside(file, g.real) || isInside(file, g.given));
    return runtime || granted;
  };
  const executable = (file: string): boolean => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes("/")) {
    const file = path.resolve(cwd, command);
    if (!visibleOnHost(file) && !isInside(file, SANDBOX_HOME) && !isInside(file, "/tmp")) {
      throw new CommandNotFoundError(`${command} is not visible inside the sandbox.`, {
        input: command,
        hint: `Grant its folder, e.g. --allow-read=${path.dirname(file)}.`,
      });
    }
    if (visibleOnHost(file) && !executable(file)) {
      throw new CommandNotFoundError(`${command} is not an executable file.`, {
        input: command,
        hint: `Check the path, or run it through its interpreter (e.g. node ${command} or sh ${command}).`,
      });
    }
    return;
  }
  for (const dir of searchPath.split(":")) {
    if (dir !== "" && executable(path.join(dir, command))) return;
  }
  throw new CommandNotFoundError(`${command}: command not found inside the sandbox.`, {
    input: command,
    hint: `The sandbox searches ${searchPath}. Give the full path, and grant its folder with --allow-read=DIR if it is outside /usr.`,
  });
}

function safeRealpath(target: string): string | undefined {
  try {
    return fs.realpathSync.native(target);
  } catch {
    return undefined;
  }
}
