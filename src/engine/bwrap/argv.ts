import type { Mount, SandboxPlan } from "../plan.js";

/** File descriptors the launcher hands bubblewrap, by role. */
export interface BwrapFds {
  seccomp: number;
  status: number;
  block: number | undefined;
  /** One descriptor per "file" or "data" mount, in plan order. */
  files: number[];
  /** One descriptor per bind pinned by descriptor (see bind-sources.ts), in plan order. */
  bindSources: number[];
}

/**
 * Renders a plan as bubblewrap's command line. Every isolation flag is
 * unconditional: a plan cannot ask for less isolation than this.
 */
export function renderBwrapArgs(plan: SandboxPlan, fds: BwrapFds, runningAsRoot: boolean): string[] {
  const args: string[] = [
    // A fresh user namespace even for root: inside it the process has no
    // power over host resources, and it is what lets --disable-userns work.
    "--unshare-user",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    // A new network namespace has only a loopback device: no route out.
    "--unshare-net",
    "--unshare-cgroup-try",
    // Nested user namespaces are how most unprivileged kernel exploits gain
    // the capabilities they need (and how a sandbox could rebuild its view).
    "--disable-userns",
    // cordon killed, by anything, takes the sandbox with it.
    "--die-with-parent",
    // setsid(): the sandbox has no controlling terminal to push keystrokes
    // into with TIOCSTI (the seccomp filter also denies that ioctl).
    "--new-session",
    "--hostname", plan.hostname,
    "--clearenv",
  ];
  // bubblewrap keeps capabilities when it runs as real root; drop them all.
  // (As an ordinary user it already starts the command with none.)
  if (runningAsRoot) args.push("--cap-drop", "ALL");
  for (const [name, value] of plan.env) args.push("--setenv", name, value);

  const nextOf = (list: number[], what: string): (() => number) => {
    let index = 0;
    return () => {
      const fd = list[index++];
      if (fd === undefined) throw new Error(`renderBwrapArgs: fewer descriptors than ${what}`);
      return fd;
    };
  };
  const nextFile = nextOf(fds.files, "file mounts");
  const nextBind = nextOf(fds.bindSources, "pinned binds");
  for (const mount of plan.mounts) args.push(...renderMount(mount, nextFile, nextBind));
  args.push("--chdir", plan.cwd);
  args.push("--seccomp", String(fds.seccomp));
  args.push("--json-status-fd", String(fds.status));
  if (fds.block !== undefined) args.push("--block-fd", String(fds.block));
  args.push("--", plan.command, ...plan.args);
  return args;
}

function renderMount(mount: Mount, nextFileFd: () => number, nextBindFd: () => number): string[] {
  switch (mount.kind) {
    // By descriptor: the object cordon checked, not whatever the name points
    // to by the time bubblewrap mounts it (see bind-sources.ts).
    case "ro-bind":
      return mount.sourceIn === "launcher" ? ["--ro-bind", mount.source, mount.target] : ["--ro-bind-fd", String(nextBindFd()), mount.target];
    case "bind":
      return mount.sourceIn === "launcher" ? ["--bind", mount.source, mount.target] : ["--bind-fd", String(nextBindFd()), mount.target];
    case "tmpfs":
      return ["--perms", mount.mode.toString(8), "--size", String(mount.sizeBytes), "--tmpfs", mount.target];
    case "proc":
      return ["--proc", mount.target];
    case "dev":
      return ["--dev", mount.target];
    case "symlink":
      return ["--symlink", mount.linkTo, mount.target];
    case "file":
      // Written into bubblewrap's root tmpfs, which the plan remounts
      // read-only at the end: cheaper than one bind mount per file.
      return ["--perms", "0444", "--file", String(nextFileFd()), mount.target];
    case "data":
      return ["--perms", "0444", "--ro-bind-data", String(nextFileFd()), mount.target];
    case "remount-ro":
      return ["--remount-ro", mount.target];
  }
}
