/**
 * Syscall numbers for the architectures cordon's filter supports, taken from
 * the kernel's uapi headers (asm/unistd_64.h for x86_64, asm-generic/unistd.h
 * for aarch64). Only the calls the filter names are listed.
 */
export type SyscallName =
  | "ioctl" | "clone" | "clone3" | "personality" | "ptrace" | "process_vm_readv" | "process_vm_writev"
  | "keyctl" | "add_key" | "request_key" | "bpf" | "userfaultfd" | "perf_event_open"
  | "io_uring_setup" | "io_uring_enter" | "io_uring_register"
  | "kexec_load" | "kexec_file_load" | "init_module" | "finit_module" | "delete_module"
  | "mount" | "umount2" | "pivot_root" | "unshare" | "setns" | "chroot"
  | "open_tree" | "move_mount" | "fsopen" | "fsconfig" | "fsmount" | "fspick" | "mount_setattr"
  | "open_by_handle_at" | "name_to_handle_at" | "swapon" | "swapoff" | "reboot" | "acct"
  | "syslog" | "quotactl" | "lookup_dcookie" | "vhangup" | "fanotify_init" | "nfsservctl"
  | "uselib" | "iopl" | "ioperm" | "ustat" | "sysfs" | "quotactl_fd"
  | "chmod" | "fchmod" | "fchmodat" | "fchmodat2" | "open" | "openat" | "openat2" | "creat" | "mknod" | "mknodat"
  | "socket" | "socketpair" | "pidfd_getfd" | "kcmp" | "mmap" | "memfd_create" | "shmget";

export interface SeccompArch {
  name: string;
  /** AUDIT_ARCH_* value the kernel reports in seccomp_data.arch. */
  auditArch: number;
  /** x32 syscalls on x86_64 carry this bit; they are a second table to deny. */
  x32Bit: number | undefined;
  numbers: Partial<Record<SyscallName, number>>;
}

export const X86_64: SeccompArch = {
  name: "x86_64",
  auditArch: 0xc000003e,
  x32Bit: 0x40000000,
  numbers: {
    ioctl: 16, clone: 56, ptrace: 101, syslog: 103, uselib: 134, personality: 135, ustat: 136,
    sysfs: 139, vhangup: 153, pivot_root: 155, chroot: 161, acct: 163, mount: 165, umount2: 166,
    swapon: 167, swapoff: 168, reboot: 169, iopl: 172, ioperm: 173, init_module: 175,
    delete_module: 176, quotactl: 179, nfsservctl: 180, lookup_dcookie: 212, kexec_load: 246,
    add_key: 248, request_key: 249, keyctl: 250, unshare: 272, perf_event_open: 298,
    fanotify_init: 300, name_to_handle_at: 303, open_by_handle_at: 304, setns: 308,
    process_vm_readv: 310, process_vm_writev: 311, finit_module: 313, kexec_file_load: 320,
    bpf: 321, userfaultfd: 323, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427,
    open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433,
    clone3: 435, mount_setattr: 442, quotactl_fd: 443,
    open: 2, creat: 85, chmod: 90, fchmod: 91, mknod: 133, openat: 257, mknodat: 259, fchmodat: 268,
    openat2: 437, fchmodat2: 452,
    socket: 41, socketpair: 53, kcmp: 312, pidfd_getfd: 438, mmap: 9, memfd_create: 319, shmget: 29,
  },
};

export const AARCH64: SeccompArch = {
  name: "aarch64",
  auditArch: 0xc00000b7,
  x32Bit: undefined,
  numbers: {
    lookup_dcookie: 18, ioctl: 29, umount2: 39, mount: 40, pivot_root: 41, nfsservctl: 42,
    chroot: 51, vhangup: 58, quotactl: 60, acct: 89, personality: 92, unshare: 97, kexec_load: 104,
    init_module: 105, delete_module: 106, syslog: 116, ptrace: 117, reboot: 142, add_key: 217,
    request_key: 218, keyctl: 219, clone: 220, swapon: 224, swapoff: 225, perf_event_open: 241,
    fanotify_init: 262, name_to_handle_at: 264, open_by_handle_at: 265, setns: 268,
    process_vm_readv: 270, process_vm_writev: 271, finit_module: 273, bpf: 280, userfaultfd: 282,
    kexec_file_load: 294, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427,
    open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433,
    clone3: 435, mount_setattr: 442, quotactl_fd: 443,
    mknodat: 33, fchmod: 52, fchmodat: 53, openat: 56, openat2: 437, fchmodat2: 452,
    socket: 198, socketpair: 199, kcmp: 272, pidfd_getfd: 438, mmap: 222, memfd_create: 279, shmget: 194,
  },
};

export function seccompArchFor(nodeArch: string): SeccompArch | undefined {
  if (nodeArch === "x64") return X86_64;
  if (nodeArch === "arm64") return AARCH64;
  return undefined;
}
