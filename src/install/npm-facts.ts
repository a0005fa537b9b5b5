import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { NpmFacts } from "./lifecycle-env.js";

/**
 * Finds the npm that sits next to a node binary (`<prefix>/lib/node_modules/npm`,
 * the layout of the official builds, Debian's and nvm's), for the
 * `npm_config_node_gyp` and `node-gyp-bin` entries of a script's environment.
 * Returns undefined when npm is not there; the caller then says so.
 */
export function locateNpm(nodeExecPath: string = process.execPath): NpmFacts | undefined {
  const prefix = path.dirname(path.dirname(nodeExecPath));
  for (const npmDir of [path.join(prefix, "lib", "node_modules", "npm"), "/usr/lib/node_modules/npm", "/usr/share/nodejs/npm"]) {
    const manifest = path.join(npmDir, "package.json");
    if (!existsSync(manifest)) continue;
    let version: string;
    try {
      version = String((JSON.parse(readFileSync(manifest, "utf8")) as { version?: unknown }).version ?? "unknown");
    } catch {
      continue;
    }
    return {
      version,
      nodeExecPath,
      nodeGyp: path.join(npmDir, "node_modules", "node-gyp", "bin", "node-gyp.js"),
      nodeGypBinDir: path.join(npmDir, "node_modules", "@npmcli", "run-script", "lib", "node-gyp-bin"),
      execPath: path.join(npmDir, "bin", "npm-cli.js"),
      dir: npmDir,
    };
  }
  return undefined;
}
