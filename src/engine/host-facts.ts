import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * What the engine needs to know about the host to build a sandbox: where the
 * runtime lives, which parts of /etc exist, who the user is. Read fresh for
 * each sandbox (a few stat calls) so nothing is cached across runs.
 */
export interface HostFacts {
  uid: number;
  gid: number;
  userName: string;
  homeDir: string;
  cwd: string;
  arch: string;
  /** Top-level runtime folders: real folders are bound, merged-/usr links are recreated as links. */
  runtimeDirs: { path: string; symlinkTo: string | undefined }[];
  /** The /etc entries programs need that exist on this host. */
  etcEntries: string[];
  /** The folder holding the running Node binary. */
  nodeBinDir: string;
  /**
   * When Node lives outside the runtime folders (nvm, ~/.local, /opt): the
   * paths of its installation the sandbox needs, never the whole prefix
   * (which may be the home folder): the binary, lib/node_modules (npm,
   * node-gyp) and include/node (headers), plus the npm/npx links.
   */
  nodeInstall: { readOnly: string[]; links: { path: string; target: string }[] } | undefined;
  totalMemoryBytes: number;
  env: NodeJS.ProcessEnv;
  /** Which of the kernel files the sandbox's /proc covers exist on this kernel (see PROC_READ_ONLY). */
  procCovers: { readOnly: string[]; maskedFiles: string[]; maskedDirs: string[] };
}

/**
 * Parts of /proc that are the host kernel's, not the sandbox's. When cordon
 * runs as root, the sandbox's uid 0 is host uid 0, and file permissions alone
 * let it write /proc/sys/kernel/core_pattern (a program run as host root on
 * the next crash) or /proc/sysrq-trigger; capabilities do not enter into it.
 * bubblewrap covers /proc/sys only when the folder itself is writable, which
 * it is not (the files in it are). These lists are the OCI runtime defaults
 * (runc's readonlyPaths and maskedPaths) plus the kernel log and key lists:
 * read-only ones are bound from the host read-only; masked files get an
 * empty read-only file and masked folders an empty read-only tmpfs.
 */
const PROC_READ_ONLY = ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/mtrr", "/proc/pressure"];
const PROC_MASKED = [
  "/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/kmsg", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/acpi", "/proc/scsi", "/proc/asound", "/proc/sysvipc",
  "/proc/driver", "/proc/tty/driver",
  // The host's physical memory layout (page flags and counts, slab and
  // vmalloc state): raw material for kernel exploits, readable by uid 0.
  "/proc/kpageflags", "/proc/kpagecount", "/proc/kpagecgroup", "/proc/slabinfo", "/proc/pagetypeinfo",
  "/proc/vmallocinfo",
];

function readProcCovers(): HostFacts["procCovers"] {
  const kind = (p: string): "file" | "dir" | undefined => {
    try {
      return fs.statSync(p).isDirectory() ? "dir" : "file";
    } catch {
      return undefined;
    }
  };
  return {
    readOnly: PROC_READ_ONLY.filter((p) => kind(p) !== undefined),
    maskedFiles: PROC_MASKED.filter((p) => kind(p) === "file"),
    maskedDirs: PROC_MASKED.filter((p) => kind(p) === "dir"),
  };
}

function nodeInstallOf(binDir: string): NonNullable<HostFacts["nodeInstall"]> {
  const prefix = path.dirname(binDir);
  const readOnly = [path.join(binDir, "node"), path.join(prefix, "lib", "node_modules"), path.join(prefix, "include", "node")].filter((p) => fs.existsSync(p));
  const links = ["npm", "npx", "corepack"].flatMap((name) => {
    const link = path.join(binDir, name);
    try {
      return [{ path: link, target: fs.readlinkSync(link) }];
    } catch {
      return [];
    }
  });
  return { readOnly, links };
}

const RUNTIME_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/**
 * The minimum of /etc that ordinary programs need: the dynamic linker's
 * cache, Debian's alternatives links (many /usr/bin commands point there),
 * the CA bundle for TLS, the time zone, the protocol and service databases.
 * Each entry is one bind mount, so the list is kept short. Deliberately not
 * here: passwd/group/hosts (synthesized), shadow, npmrc, gitconfig, ssh, the
 * resolver configuration (there is no resolver inside), machine-id.
 */
const ETC_ENTRIES = [
  "/etc/ld.so.cache", "/etc/alternatives",
  // Certificates only: /etc/ssl/private holds the host's private keys.
  "/etc/ssl/certs", "/etc/ssl/openssl.cnf", "/etc/pki/tls/certs", "/etc/pki/ca-trust", "/etc/crypto-policies",
  "/etc/localtime", "/etc/protocols", "/etc/services", "/etc/os-release",
];

export function readHostFacts(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): HostFacts {
  const info = os.userInfo();
  const runtimeDirs = RUNTIME_DIRS.flatMap((dir): HostFacts["runtimeDirs"] => {
    try {
      const stat = fs.lstatSync(dir);
      if (stat.isSymbolicLink()) return [{ path: dir, symlinkTo: fs.readlinkSync(dir) }];
      return stat.isDirectory() ? [{ path: dir, symlinkTo: undefined }] : [];
    } catch {
      return [];
    }
  });
  const etcEntries = ETC_ENTRIES.filter((entry) => fs.existsSync(entry));
  const nodeBinDir = path.dirname(fs.realpathSync(process.execPath));
  const insideRuntime = runtimeDirs.some((d) => nodeBinDir === d.path || nodeBinDir.startsWith(d.path + "/"));
  return {
    uid: info.uid,
    gid: info.gid,
    userName: info.username,
    homeDir: env.HOME && path.isAbsolute(env.HOME) ? env.HOME : info.homedir,
    cwd,
    arch: process.arch,
    runtimeDirs,
    etcEntries,
    nodeBinDir,
    nodeInstall: insideRuntime ? undefined : nodeInstallOf(nodeBinDir),
    totalMemoryBytes: os.totalmem(),
    env,
    procCovers: readProcCovers(),
  };
}
