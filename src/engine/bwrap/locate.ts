import fs from "node:fs";
import path from "node:path";
import { BackendUnavailableError } from "../../errors.js";

/** Finds an executable on the host PATH (cordon's own, not the sandbox's). */
export function findOnHostPath(name: string, searchPath = process.env.PATH ?? ""): string | undefined {
  for (const dir of [...searchPath.split(":"), "/usr/bin", "/bin", "/usr/local/bin"]) {
    if (dir === "" || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch { /* keep looking */ }
  }
  return undefined;
}

export function locateBwrap(): string {
  const found = findOnHostPath("bwrap");
  if (found) return found;
  throw new BackendUnavailableError("bubblewrap (bwrap) is not installed, and cordon's sandbox is built on it.", {
    hint: "Install it: sudo apt-get install -y bubblewrap (Debian/Ubuntu), sudo dnf install bubblewrap (Fedora), sudo pacman -S bubblewrap (Arch). Then check with: cordon doctor",
  });
}
