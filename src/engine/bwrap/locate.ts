import { BackendUnavailableError } from "../../errors.js";
import { findOnHostPath } from "../../host/tools.js";

export function locateBwrap(): string {
  const found = findOnHostPath("bwrap");
  if (found) return found;
  throw new BackendUnavailableError("bubblewrap (bwrap) is not installed, and cordon's sandbox is built on it.", {
    hint: "Install it: sudo apt-get install -y bubblewrap (Debian/Ubuntu), sudo dnf install bubblewrap (Fedora), sudo pacman -S bubblewrap (Arch). Then check with: cordon doctor",
  });
}
