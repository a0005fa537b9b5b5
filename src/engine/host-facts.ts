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
  /** The folder holding the running Node binary, when it is outside the runtime folders. */
  nodeBinDir: string;
  nodePrefix: string | undefined;
  totalMemoryBytes: number;
  env: NodeJS.ProcessEnv;
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
  "/etc/ssl", "/etc/pki", "/etc/crypto-policies",
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
    nodePrefix: insideRuntime ? undefined : path.dirname(nodeBinDir),
    totalMemoryBytes: os.totalmem(),
    env,
  };
}
