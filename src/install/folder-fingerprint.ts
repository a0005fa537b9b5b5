import { createHash } from "node:crypto";
import { walkPackageFolder } from "./folder-walk.js";

/**
 * A digest of what a package folder holds now: every file, folder and link
 * (nested `node_modules` excepted: those are other packages) with its mode,
 * size and modification time to the nanosecond. It is what a finished install
 * script is recorded against: a fresh extraction by npm (`npm ci`, `rm -rf
 * node_modules`, a new clone) lacks the script's outputs and differs; a
 * tree copied with its times kept (`cp -a`, a CI cache) matches, and its
 * outputs are indeed there. Like git's index, it trusts size and time: it
 * tells a rebuilt tree from a fresh one, not a forger from an honest tree.
 * Undefined when the folder is missing or too large to walk.
 */
export function fingerprintFolder(dir: string): string | undefined {
  const hash = createHash("sha256");
  const complete = walkPackageFolder(dir, ({ name, kind, stat, target }) => {
    if (kind === "dir") hash.update(`d\0${name}\0`);
    else hash.update(`${kind === "link" ? `l${target}` : kind === "file" ? "f" : "o"}\0${name}\0${stat.mode}\0${stat.size}\0${stat.mtimeNs}\0`);
  });
  return complete ? `sha256-${hash.digest("base64")}` : undefined;
}
