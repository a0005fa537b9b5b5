import {
  BpfProgram, DATA_ARCH, DATA_NR, dataArgLow,
  SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO,
} from "./bpf.js";
import type { SeccompArch, SyscallName } from "./syscalls.js";

const EPERM = 1;
const ENOSYS = 38;
/** What a kernel without the address family answers: programs fall back cleanly. */
const EAFNOSUPPORT = 97;

/**
 * The socket families a sandbox may open. Everything else fails with
 * EAFNOSUPPORT: AF_VSOCK ignores network namespaces and reaches the
 * hypervisor on the VMs CI and agents run on; AF_PACKET, AF_ALG, AF_BLUETOOTH,
 * AF_XDP and the like are kernel surface no program here needs. Netlink is
 * allowed only for NETLINK_ROUTE (protocol 0), which getifaddrs() and the
 * resolver's address checks use to list the sandbox's own interfaces.
 */
const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16;
const NETLINK_ROUTE = 0;
/** The obsolete SOCK_PACKET type: an AF_INET socket that is really AF_PACKET's code. */
const SOCK_PACKET = 10;
/** socket()'s type argument also carries SOCK_NONBLOCK/SOCK_CLOEXEC; the type is the low nibble. */
const SOCK_TYPE_MASK = 0xf;

/**
 * Calls a sandboxed program never needs and the kernel exploits of the last
 * decade keep reaching for. Each returns EPERM, so a program that probes for
 * them sees a plain refusal and can carry on.
 */
export const DENIED_SYSCALLS: readonly SyscallName[] = [
  // Inspecting or steering another process. The PID namespace already hides
  // host processes; this also stops a sandboxed process tracing its siblings.
  // pidfd_getfd copies a descriptor out of another process (a sibling's
  // sockets or files); kcmp compares them (a way to probe another's table).
  "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
  // The kernel keyring is not namespaced: a sandbox could read or plant keys.
  "keyctl", "add_key", "request_key",
  // Large, frequently exploited kernel surfaces.
  "bpf", "userfaultfd", "perf_event_open", "io_uring_setup", "io_uring_enter", "io_uring_register",
  // Replacing the running kernel or loading code into it.
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
  // Changing the filesystem view or joining or creating namespaces: the view
  // bubblewrap built is the only one the sandbox gets. (bubblewrap's
  // --disable-userns also stops nested user namespaces; this is the second lock.)
  "mount", "umount2", "pivot_root", "unshare", "setns", "chroot",
  "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
  // File handles bypass path-based checks (the "shocker" container escape).
  "open_by_handle_at", "name_to_handle_at",
  // Host administration that capabilities already deny; denied again here.
  "swapon", "swapoff", "reboot", "acct", "syslog", "quotactl", "lookup_dcookie", "vhangup",
  "fanotify_init", "nfsservctl", "uselib", "iopl", "ioperm", "ustat", "sysfs", "quotactl_fd",
];

/**
 * Calls that set a file's mode, with the argument that holds it and, for the
 * open family, the flags argument that says whether a mode is used at all.
 * Set-user-ID and set-group-ID bits are refused: a sandbox run by root writes
 * files as root, and a setuid-root binary left in a writable grant would be a
 * way up for any local user once the sandbox is gone.
 */
const MODE_SETTERS: readonly { name: SyscallName; modeArg: number; flagsArg?: number }[] = [
  { name: "chmod", modeArg: 1 }, { name: "fchmod", modeArg: 1 },
  { name: "fchmodat", modeArg: 2 }, { name: "fchmodat2", modeArg: 2 },
  { name: "creat", modeArg: 1 }, { name: "mknod", modeArg: 1 }, { name: "mknodat", modeArg: 2 },
  { name: "open", modeArg: 2, flagsArg: 1 }, { name: "openat", modeArg: 3, flagsArg: 2 },
];
const SET_ID_BITS = 0o6000;
/** O_CREAT and __O_TMPFILE: the open flags that make the mode argument count. */
const OPEN_WITH_MODE = 0o100 | 0o20000000;

/** ioctl requests that push input into a terminal (keystroke injection). */
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
/** personality() flag that turns off address-space randomization. */
const ADDR_NO_RANDOMIZE = 0x0040000;
/** personality(0xffffffff) only queries the current persona. */
const PERSONALITY_QUERY = 0xffffffff;
/**
 * clone() flags that create namespaces. CLONE_NEWTIME is left out on purpose:
 * its value (0x80) is inside CSIGNAL, the exit-signal byte of clone()'s flags.
 */
const CLONE_NAMESPACE_FLAGS =
  0x00020000 /* NEWNS */ | 0x02000000 /* NEWCGROUP */ | 0x04000000 /* NEWUTS */ |
  0x08000000 /* NEWIPC */ | 0x10000000 /* NEWUSER */ | 0x20000000 /* NEWPID */ | 0x40000000 /* NEWNET */;

/** mmap() flags: a shared anonymous mapping is shared memory (shmem), like memfd. */
const MAP_SHARED = 0x01;
const MAP_ANONYMOUS = 0x20;

export interface SeccompOptions {
  /**
   * Refuse the ways to hold memory that RLIMIT_DATA does not count: memfd,
   * SysV shared memory and shared anonymous mappings (all shmem, unbounded by
   * any tmpfs size). Set when memory is limited per process because no cgroup
   * can be written; with a cgroup every page is charged and nothing is refused.
   */
  denySharedMemory: boolean;
}

/**
 * Builds cordon's seccomp filter for one architecture:
 *
 *   1. A syscall made through another ABI (i386 via int 0x80 on x86_64, or
 *      the x32 ABI) would be looked up in a different number table and slip
 *      past every rule below, so any foreign-ABI call fails with ENOSYS.
 *   2. The calls in DENIED_SYSCALLS fail with EPERM.
 *   3. ioctl(TIOCSTI/TIOCLINUX), personality(ADDR_NO_RANDOMIZE) and
 *      namespace-creating clone() flags fail with EPERM; other uses pass.
 *   4. clone3() and openat2() fail with ENOSYS: their flags and mode live in
 *      memory a filter cannot read, and libc falls back to clone() and
 *      openat(), which the filter can check.
 *   5. chmod, creat, mknod and open with O_CREAT fail with EPERM when the
 *      mode carries set-user-ID or set-group-ID bits (MODE_SETTERS).
 *   6. socket() and socketpair() outside the allowed families fail with
 *      EAFNOSUPPORT (see AF_UNIX above).
 *   7. With denySharedMemory: memfd_create fails with ENOSYS (callers fall
 *      back to files, which the --disk tmpfs bounds), shmget and shared
 *      anonymous mmap() with EPERM.
 *   8. Everything else is allowed; the other layers (namespaces, no
 *      capabilities, no_new_privs) bound what it can do.
 */
export function buildSeccompFilter(arch: SeccompArch, options: SeccompOptions): Buffer {
  const nr = (name: SyscallName): number | undefined => arch.numbers[name];
  const program = new BpfProgram()
    .load(DATA_ARCH)
    .jump("jeq", arch.auditArch, "next", "foreign_abi")
    .load(DATA_NR);
  if (arch.x32Bit !== undefined) program.jump("jge", arch.x32Bit, "foreign_abi");

  const checked: [SyscallName, string][] = [
    ["ioctl", "check_ioctl"], ["personality", "check_personality"], ["clone", "check_clone"], ["clone3", "enosys"],
    ["openat2", "enosys"], ["socket", "check_socket"], ["socketpair", "check_socketpair"],
    ...MODE_SETTERS.map((m): [SyscallName, string] => [m.name, `check_mode_${m.name}`]),
    ...(options.denySharedMemory
      ? ([["memfd_create", "enosys"], ["shmget", "eperm"], ["mmap", "check_mmap"]] as [SyscallName, string][])
      : []),
  ];
  for (const [name, label] of checked) {
    const number = nr(name);
    if (number !== undefined) program.jump("jeq", number, label);
  }
  for (const name of DENIED_SYSCALLS) {
    const number = nr(name);
    if (number !== undefined) program.jump("jeq", number, "eperm");
  }
  program.ret(SECCOMP_RET_ALLOW);

  program.label("check_ioctl")
    .load(dataArgLow(1))
    .jump("jeq", TIOCSTI, "eperm")
    .jump("jeq", TIOCLINUX, "eperm")
    .ret(SECCOMP_RET_ALLOW);

  program.label("check_personality")
    .load(dataArgLow(0))
    .jump("jeq", PERSONALITY_QUERY, "allow")
    .jump("jset", ADDR_NO_RANDOMIZE, "eperm")
    .label("allow")
    .ret(SECCOMP_RET_ALLOW);

  program.label("check_clone")
    .load(dataArgLow(0))
    .jump("jset", CLONE_NAMESPACE_FLAGS, "eperm")
    .ret(SECCOMP_RET_ALLOW);

  program.label("check_socket")
    .load(dataArgLow(0))
    .jump("jeq", AF_UNIX, "allow_socket")
    .jump("jeq", AF_INET, "check_inet_type")
    .jump("jeq", AF_INET6, "check_inet_type")
    .jump("jeq", AF_NETLINK, "next", "eafnosupport")
    .load(dataArgLow(2))
    .jump("jeq", NETLINK_ROUTE, "allow_socket", "eafnosupport");
  program.label("check_inet_type")
    .load(dataArgLow(1))
    .and(SOCK_TYPE_MASK)
    .jump("jeq", SOCK_PACKET, "eafnosupport", "allow_socket");
  // socketpair() exists only for AF_UNIX; refusing the rest keeps the rule one line.
  program.label("check_socketpair")
    .load(dataArgLow(0))
    .jump("jeq", AF_UNIX, "allow_socket", "eafnosupport");
  program.label("allow_socket").ret(SECCOMP_RET_ALLOW);
  program.label("eafnosupport").ret(SECCOMP_RET_ERRNO | EAFNOSUPPORT);

  if (options.denySharedMemory) {
    program.label("check_mmap")
      .load(dataArgLow(3))
      .jump("jset", MAP_ANONYMOUS, "next", "allow_mmap")
      .jump("jset", MAP_SHARED, "eperm", "allow_mmap")
      .label("allow_mmap")
      .ret(SECCOMP_RET_ALLOW);
  }

  for (const setter of MODE_SETTERS) {
    if (nr(setter.name) === undefined) continue;
    program.label(`check_mode_${setter.name}`);
    if (setter.flagsArg !== undefined) {
      program.load(dataArgLow(setter.flagsArg)).jump("jset", OPEN_WITH_MODE, "next", "allow_mode");
    }
    program.load(dataArgLow(setter.modeArg)).jump("jset", SET_ID_BITS, "eperm", "allow_mode");
  }
  program.label("allow_mode").ret(SECCOMP_RET_ALLOW);

  program.label("foreign_abi").label("enosys").ret(SECCOMP_RET_ERRNO | ENOSYS);
  program.label("eperm").ret(SECCOMP_RET_ERRNO | EPERM);
  return program.assemble();
}
