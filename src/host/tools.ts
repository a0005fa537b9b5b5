import fs from "node:fs";
import path from "node:path";
import { BackendUnavailableError } from "../errors.js";

/**
 * Folders only root can write on a sane system. They are searched before
 * $PATH: any folder on $PATH that the user (or a package's postinstall, or a
 * sandbox's writable grant) can write could otherwise shadow bubblewrap or a
 * tool cordon runs with the user's full rights, outside every sandbox.
 */
const SYSTEM_DIRS = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/local/sbin"];

/**
 * Finds a host tool cordon itself runs (bubblewrap, prlimit, nsenter, tar):
 * system folders first, then $PATH's absolute entries; always an absolute path.
 */
export function findOnHostPath(name: string, searchPath = process.env.PATH ?? ""): string | undefined {
  for (const dir of [...SYSTEM_DIRS, ...searchPath.split(":")]) {
    if (dir === "" || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch { /* keep looking */ }
  }
  return undefined;
}

/** A host tool cordon needs, as an absolute path (system folders first); never a bare name for $PATH to resolve later. */
export function hostTool(name: string, debianPackage = "coreutils"): string {
  const found = findOnHostPath(name);
  if (found) return found;
  throw new BackendUnavailableError(`cordon needs ${name} on this machine, and it is missing.`, {
    hint: `Install it: sudo apt-get install -y ${debianPackage}`,
  });
}

/**
 * How to run the npm that belongs to the running Node: its npm-cli.js,
 * beside the binary where every installer puts it (nvm's included), run by
 * this very Node. Never through $PATH: run from an npm script, $PATH starts
 * with node_modules/.bin, where any dependency can ship a bin named "npm"
 * or "node" (npm's own shebang is `/usr/bin/env node`).
 */
export function npmCommand(args: readonly string[]): { file: string; args: string[] } {
  const node = fs.realpathSync(process.execPath);
  for (const candidate of [path.join(path.dirname(node), "npm"), ...SYSTEM_DIRS.map((dir) => path.join(dir, "npm"))]) {
    try {
      const cli = fs.realpathSync(candidate);
      if (cli.endsWith(".js")) return { file: node, args: [cli, ...args] };
    } catch { /* not here */ }
  }
  return { file: hostTool("npm", "npm"), args: [...args] };
}
