import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BackendUnavailableError, ConfigError } from "../errors.js";
import type { HostFacts } from "../engine/host-facts.js";
import { planSandbox, SANDBOX_HOME, type Mount } from "../engine/plan.js";
import { toPermissions } from "../sandbox/compose.js";
import { DENO_INSIDE, DENO_ON_PATH, DENO_WRAPPER } from "./deno-binary.js";

/**
 * A sandbox's writable root: each top-level folder of the system it may
 * change is an overlay, the host's read-only system (or cordon's base
 * layer) below, the sandbox's own writable layer above, and snapshot layers
 * in between. Writes land in one size-limited tmpfs (`disk`) and vanish with
 * the sandbox; the host's files never change (overlayfs never writes to a
 * lower layer). Nothing is copied at start: layers, not copies.
 *
 * The mounts are made by a stage that runs before bubblewrap (the engine's
 * `launcherPrefix`): a new user and mount namespace (unprivileged: the user
 * namespace gives the capability to mount, only over what this user owns),
 * then bubblewrap is exec'd in that namespace (same process, descriptors
 * kept) and binds the merged folders by name. As an ordinary user a second
 * user namespace maps the sandbox's user back to the caller's uid. Needs
 * Linux ≥ 5.11 (overlayfs in user namespaces).
 */
const STAGE = [
  'rw=$1 merged=$2 remap=$3 size=$4 folders=$5 count=$6',
  "shift 6",
  // The writable layer is a size-limited tmpfs: writes are bounded (disk)
  // and vanish with the sandbox; nothing reaches the host's disk.
  'mount -t tmpfs -o "size=$size,mode=0755" cordon-rw "$rw" || exit 125',
  // One mkdir for every overlay (each command here is a process on the
  // path to the first byte). $folders is cordon's own words, no spaces.
  '(cd "$rw" && exec mkdir $folders) || exit 125',
  'while [ "$count" -gt 0 ]; do',
  '  name=$1 lower=$2',
  "  shift 2",
  '  count=$((count - 1))',
  '  mount -t overlay "cordon-$name" -o "lowerdir=$lower,upperdir=$rw/upper-$name,workdir=$rw/work-$name,userxattr" "$merged/$name" || exit 125',
  "done",
  'if [ "$remap" != 0:0 ]; then exec /usr/bin/unshare --user --map-user="${remap%:*}" --map-group="${remap#*:}" -- "$@"; fi',
  'exec "$@"',
].join("\n");

/**
 * The folders a sandbox may change. The host's own system folders (/usr,
 * and /bin, /lib, ... where they are not links into /usr) are lower layers
 * as they are; /etc and the rest come from cordon's base layer, never from
 * the host (which holds /etc/shadow, SSH keys, users' homes). The root
 * itself stays bubblewrap's read-only tmpfs: a new top-level folder cannot
 * be made.
 */
const BASE_DIRS = ["etc", "opt", "var", "srv", "mnt", "home"] as const;

/** Folders cordon's base layer puts above the host's /usr, owned by the caller: as an ordinary user, /usr/local is then writable (`npm i -g`, tools). */
const USR_LOCAL = ["bin", "sbin", "lib", "include", "share", "etc", "src"];

/** Bumped when the base layer's shape changes, so an old one is not reused. */
const BASE_VERSION = "2";

export interface Rootfs {
  launcherPrefix: { file: string; args: string[] };
  /** Binds of the merged folders over the engine's read-only ones, then the engine's own mounts they would hide. */
  mounts: Mount[];
  /** Mount point of the writable tmpfs (on the host it stays an empty folder). */
  writable: string;
  /**
   * Where a snapshot's layer comes from: each overlay's upper folder (on the
   * tmpfs, relative to `writable`) and where it goes in the layer (a tree
   * mirroring the sandbox's root).
   */
  layerParts: { upper: string; into: string }[];
}

/**
 * Plans a sandbox's writable root: `layers` are snapshot layers, topmost
 * first (empty for a fresh sandbox). `host` is what the engine will see.
 * Two overlays for a merged-/usr host (each mount is a process in the
 * stage, so they are few): "usr", and "root" holding /etc, /opt, /var,
 * /srv, /mnt and /home, whose folders are bound one by one.
 */
export function planRootfs(sandboxDir: string, dataDir: string, host: HostFacts, layers: readonly string[], diskBytes: number): Rootfs {
  const enginePlan = planSandbox({ command: "/bin/sh", args: [], permissions: toPermissions({}, host.cwd, host.homeDir), host });
  const base = ensureBaseLayer(dataDir, enginePlan.mounts, host);
  const writable = path.join(sandboxDir, "rw");
  const merged = path.join(sandboxDir, "merged");
  const hostDirs = host.runtimeDirs.filter((d) => d.symlinkTo === undefined).map((d) => d.path.slice(1));
  const inLayers = (dir: string): string[] => layers.map((l) => path.join(l, dir)).filter(isDir);
  const overlays = [
    { name: "root", lowers: [...inLayers("."), base], binds: BASE_DIRS.map((dir) => ({ from: dir, to: `/${dir}` })) },
    ...hostDirs.map((dir) => ({
      name: dir,
      lowers: [...inLayers(dir), ...(dir === "usr" ? [path.join(base, "usr")] : []), `/${dir}`],
      binds: [{ from: ".", to: `/${dir}` }],
    })),
  ];
  for (const dir of [writable, merged, ...overlays.flatMap((o) => o.lowers)]) checkOverlayPath(dir);
  fs.mkdirSync(writable, { mode: 0o755 });
  for (const { name } of overlays) fs.mkdirSync(path.join(merged, name), { recursive: true, mode: 0o755 });

  const overlaid = overlays.flatMap((o) => o.binds.map((b) => b.to));
  const mounts: Mount[] = [
    ...overlays.flatMap((o) => o.binds.map((b): Mount => ({ kind: "bind", source: path.join(merged, o.name, b.from), target: b.to, sourceIn: "launcher" }))),
    // The engine's mounts inside an overlaid folder (Node installed under
    // /opt, say) would be hidden by the overlay: they are bound again on
    // top. /etc's are already in the base layer; home's tmpfs is replaced.
    ...enginePlan.mounts.filter((m) => (m.kind === "ro-bind" || m.kind === "symlink") && isStrictlyInside(m.target, overlaid) && !m.target.startsWith("/etc/")),
  ];
  const stage = ["--user", "--map-root-user", "--mount", "--", "/bin/sh", "-c", STAGE, "cordon-rootfs", writable, merged, `${host.uid}:${host.gid}`, String(diskBytes),
    overlays.flatMap((o) => [`upper-${o.name}`, `work-${o.name}`]).join(" "), String(overlays.length)];
  for (const { name, lowers } of overlays) stage.push(name, lowers.join(":"));
  return {
    launcherPrefix: { file: unshareBinary(), args: stage },
    mounts,
    writable,
    layerParts: overlays.map((o) => ({ upper: `upper-${o.name}`, into: o.name === "root" ? "." : o.name })),
  };
}

function isStrictlyInside(target: string, dirs: readonly string[]): boolean {
  return dirs.some((dir) => target.startsWith(`${dir}/`));
}

function isDir(dir: string): boolean {
  try {
    return fs.lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function checkOverlayPath(dir: string): void {
  // overlayfs splits its options on "," and lowerdir on ":".
  if (/[,:\\\n]/.test(dir)) {
    throw new ConfigError(`The data folder path ${dir} contains ",", ":" or "\\", which overlayfs cannot take.`, {
      input: "dataDir",
      hint: "Set CORDON_DATA_DIR (or the dataDir option) to a path without those characters.",
    });
  }
}

function unshareBinary(): string {
  const unshare = ["/usr/bin/unshare", "/bin/unshare"].find((file) => fs.existsSync(file));
  if (!unshare) {
    throw new BackendUnavailableError("A sandbox's writable root needs util-linux's unshare, which is missing.", {
      hint: "Install util-linux: sudo apt-get install -y util-linux",
    });
  }
  return unshare;
}

/**
 * cordon's base layer: /etc as the engine would show it (its read-only
 * binds copied, its generated files written: passwd, group, hosts, ...),
 * empty /opt, /var, /srv, /mnt, /home/sandbox, and /usr/local's folders.
 * Built once per distinct /etc view into `dataDir/base/<hash>` and shared by
 * every sandbox: the hash covers the generated contents and each copied
 * entry's inode, size and change time, so a host update makes a new one.
 */
function ensureBaseLayer(dataDir: string, engineMounts: readonly Mount[], host: HostFacts): string {
  const etc = engineMounts.filter((m) => m.target.startsWith("/etc/"));
  const hash = createHash("sha256").update(BASE_VERSION).update(DENO_WRAPPER).update(`${host.uid}:${host.gid}\0`);
  for (const mount of etc) {
    hash.update(JSON.stringify(mount));
    if (mount.kind === "ro-bind" || mount.kind === "bind") {
      const stat = fs.lstatSync(mount.source, { throwIfNoEntry: false });
      hash.update(stat ? `${stat.ino}:${stat.size}:${stat.ctimeMs}` : "missing");
    }
  }
  const baseDir = path.join(dataDir, "base");
  const dir = path.join(baseDir, hash.digest("hex").slice(0, 16));
  if (isDir(dir)) return dir;
  fs.mkdirSync(baseDir, { recursive: true, mode: 0o700 });
  const staged = path.join(baseDir, `.staging-${randomBytes(6).toString("hex")}`);
  try {
    buildBaseLayer(staged, etc);
    fs.renameSync(staged, dir);
  } catch (error) {
    fs.rmSync(staged, { recursive: true, force: true });
    // Another create() built the same layer first: use it.
    if (!isDir(dir)) throw error;
  }
  return dir;
}

function buildBaseLayer(root: string, etc: readonly Mount[]): void {
  fs.mkdirSync(root, { mode: 0o755 });
  for (const dir of [...BASE_DIRS, "usr", "usr/local"]) fs.mkdirSync(path.join(root, dir), { mode: 0o755 });
  for (const dir of USR_LOCAL) fs.mkdirSync(path.join(root, "usr/local", dir), { mode: 0o755 });
  // Deno: `deno` on PATH, and the mount point its read-only binary is bound on.
  fs.mkdirSync(path.join(root, path.dirname(DENO_INSIDE)), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(root, DENO_INSIDE), "", { mode: 0o555 });
  fs.writeFileSync(path.join(root, DENO_ON_PATH), DENO_WRAPPER, { mode: 0o555 });
  fs.mkdirSync(path.join(root, SANDBOX_HOME), { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.join(root, "var/tmp"), { mode: 0o755 });
  fs.chmodSync(path.join(root, "var/tmp"), 0o1777);
  for (const mount of etc) {
    const target = path.join(root, mount.target);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    switch (mount.kind) {
      case "ro-bind":
      case "bind":
        // Symlinks are copied as links (their targets are in /usr), never followed.
        fs.cpSync(mount.source, target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, force: true });
        break;
      case "file":
      case "data":
        fs.writeFileSync(target, mount.content, { mode: 0o644 });
        break;
      case "symlink":
        fs.symlinkSync(mount.linkTo, target);
        break;
      default:
        break;
    }
  }
}
