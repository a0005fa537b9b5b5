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
  };
}
