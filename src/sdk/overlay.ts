import fs from "node:fs";
import path from "node:path";
import { BackendUnavailableError, ConfigError } from "../errors.js";

/**
 * A stage that runs before bubblewrap: a new user and mount namespace
 * (unprivileged: the user namespace gives the capability to mount, only
 * over what this user already owns) in which the sandbox's home is an
 * overlay: the snapshot read-only below, a private tmpfs above. Writes land
 * in the tmpfs; the snapshot never changes, so any number of sandboxes can
 * start from it at once. bubblewrap is then exec'd in that namespace (same
 * process, descriptors kept) and binds the merged folder.
 *
 * As an ordinary user a second user namespace maps the sandbox's user back
 * to the caller's uid, so files inside look the same as without a snapshot.
 * Needs Linux ≥ 5.11 (overlayfs in user namespaces).
 */
const STAGE = [
  // The writable layer is a size-limited tmpfs, as a plain sandbox's home
  // is: writes are bounded (--disk) and vanish with the sandbox.
  'mount -t tmpfs -o "size=$5,mode=0755" cordon-rw "$2" || exit 125',
  'mkdir "$2/upper" "$2/work" || exit 125',
  'mount -t overlay cordon-home -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work,userxattr" "$3" || exit 125',
  'remap=$4',
  "shift 5",
  'if [ "$remap" != 0:0 ]; then exec /usr/bin/unshare --user --map-user="${remap%:*}" --map-group="${remap#*:}" -- "$@"; fi',
  'exec "$@"',
].join("\n");

export interface OverlayDirs {
  lower: string;
  /** Mount point of the tmpfs holding the upper and work folders. */
  writable: string;
  merged: string;
}

export function overlayDirs(sandboxDir: string, lower: string): OverlayDirs {
  const dirs = { lower, writable: path.join(sandboxDir, "rw"), merged: path.join(sandboxDir, "merged") };
  for (const dir of Object.values(dirs)) {
    // overlayfs splits its options on "," and lowerdir on ":".
    if (/[,:\\\n]/.test(dir)) {
      throw new ConfigError(`root: the data folder path ${dir} contains ",", ":" or "\\", which overlayfs cannot take.`, {
        input: "root",
        hint: "Set CORDON_DATA_DIR (or the dataDir option) to a path without those characters.",
      });
    }
  }
  for (const dir of [dirs.writable, dirs.merged]) fs.mkdirSync(dir, { mode: 0o755 });
  return dirs;
}

export function overlayLauncher(dirs: OverlayDirs, diskBytes: number): { file: string; args: string[] } {
  const unshare = ["/usr/bin/unshare", "/bin/unshare"].find((file) => fs.existsSync(file));
  if (!unshare) {
    throw new BackendUnavailableError("Starting from a snapshot needs util-linux's unshare, which is missing.", {
      hint: "Install util-linux: sudo apt-get install -y util-linux",
    });
  }
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return {
    file: unshare,
    args: ["--user", "--map-root-user", "--mount", "--", "/bin/sh", "-c", STAGE, "cordon-overlay", dirs.lower, dirs.writable, dirs.merged, `${uid}:${gid}`, String(diskBytes)],
  };
}
