import { execFileSync } from "node:child_process";
import { npmCommand } from "../../host/tools.js";

let cached: URL | undefined;

/**
 * The registry this machine's npm uses (`npm config get registry`), read
 * once: the honeytoken home's `.npmrc` names it and npm's variables point at
 * it, as on the machine the package would really be installed on, and a
 * token sent there is use, not theft.
 */
export function configuredRegistry(): URL {
  if (cached === undefined) {
    const npm = npmCommand(["config", "get", "registry"]);
    let text = "";
    try {
      text = execFileSync(npm.file, npm.args, { encoding: "utf8", timeout: 30_000 }).trim();
    } catch { /* no npm: a placeholder name that belongs to nobody */ }
    try {
      cached = new URL(text);
    } catch {
      cached = new URL("https://registry.invalid/");
    }
  }
  return cached;
}
