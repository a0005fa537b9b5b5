import { run } from "../../sandbox/run.js";
import { findOnHostPath } from "../../host/tools.js";
import { bwrapVersion, checkUserNamespaces } from "../../engine/diagnose.js";
import { probeCgroups } from "../../engine/limits/cgroup.js";
import { DENIED_SYSCALLS } from "../../engine/seccomp/filter.js";
import { seccompArchFor } from "../../engine/seccomp/syscalls.js";
import { paint } from "../terminal.js";

type Check = { ok: boolean | "partial"; what: string; detail: string };

/**
 * Reports what this machine really enforces, by starting a sandbox and
 * reading the kernel's own account of it, not by reading configuration.
 */
export async function doctorCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    process.stdout.write("Usage: cordon doctor\n\nChecks bubblewrap, user namespaces, seccomp and limits on this machine.\n");
    return 0;
  }
  const checks: Check[] = [];
  const bwrap = findOnHostPath("bwrap");
  if (!bwrap) {
    checks.push({ ok: false, what: "bubblewrap", detail: "not installed: sudo apt-get install -y bubblewrap" });
    return print(checks);
  }
  const version = bwrapVersion(bwrap);
  checks.push({ ok: true, what: "bubblewrap", detail: `${version} at ${bwrap}` });
  const userns = checkUserNamespaces(bwrap);
  checks.push({ ok: userns.ok, what: "user namespaces", detail: userns.ok ? userns.detail : `${userns.detail}. Fix: ${userns.fix}` });
  if (!userns.ok) return print(checks);

  const arch = seccompArchFor(process.arch);
  const probe = await run("/bin/sh", ["-c", "cat /proc/self/status; echo INTERFACES; tail -n +3 /proc/net/dev | cut -d: -f1"], {});
  const status = probe.stdout.toString();
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1]?.trim() ?? "?";
  checks.push({ ok: field("CapEff") === "0000000000000000", what: "capabilities", detail: `effective set ${field("CapEff")} (all dropped)` });
  checks.push({ ok: field("NoNewPrivs") === "1", what: "no_new_privs", detail: `NoNewPrivs: ${field("NoNewPrivs")}` });
  checks.push({
    ok: field("Seccomp") === "2",
    what: "seccomp filter",
    detail: `mode ${field("Seccomp")} (2 = filter), ${DENIED_SYSCALLS.length} calls denied on ${arch?.name ?? process.arch}`,
  });
  const interfaces = (status.split("INTERFACES\n")[1] ?? "").split("\n").map((l) => l.trim()).filter(Boolean);
  const loopbackOnly = interfaces.length === 1 && interfaces[0] === "lo";
  checks.push({
    ok: loopbackOnly,
    what: "namespaces",
    detail: `user, pid, ipc, uts, mount, net (${loopbackOnly ? "loopback only" : `interfaces: ${interfaces.join(", ") || "none"}`}), cgroup; new session; die-with-parent`,
  });
  const cgroups = probeCgroups();
  checks.push(
    cgroups.layout
      ? { ok: true, what: "memory and pids limits", detail: `cgroup v${cgroups.layout.version}, one budget per sandbox, OOM kills reported` }
      : { ok: "partial", what: "memory and pids limits", detail: `rlimit fallback (per process), because ${cgroups.reason}` },
  );
  checks.push({ ok: true, what: "disk limit", detail: "size-limited tmpfs for $HOME, /tmp and /dev/shm; the rest is read-only" });
  checks.push({ ok: true, what: "timeout", detail: "the whole PID namespace is killed" });
  return print(checks);
}

function print(checks: Check[]): number {
  for (const check of checks) {
    const mark = check.ok === true ? paint("green", "✔", process.stdout) : check.ok === "partial" ? paint("yellow", "▲", process.stdout) : paint("red", "✘", process.stdout);
    process.stdout.write(`${mark} ${check.what.padEnd(24)} ${check.detail}\n`);
  }
  return checks.every((c) => c.ok !== false) ? 0 : 1;
}
