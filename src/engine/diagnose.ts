import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { findOnHostPath } from "../host/tools.js";

function readSysctl(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

export interface UserNamespaceCheck {
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Tries the smallest possible bubblewrap sandbox and explains a failure. */
export function checkUserNamespaces(bwrap: string): UserNamespaceCheck {
  const result = spawnSync(bwrap, ["--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--", "/bin/true"], {
    encoding: "utf8",
    timeout: 5000,
    env: {},
  });
  if (result.status === 0) return { ok: true, detail: "user namespaces work for this user" };
  const stderr = (result.stderr ?? "").trim();
  const fixes: string[] = [];
  if (readSysctl("/proc/sys/kernel/unprivileged_userns_clone") === "0") {
    fixes.push("sudo sysctl -w kernel.unprivileged_userns_clone=1");
  }
  if (readSysctl("/proc/sys/user/max_user_namespaces") === "0") {
    fixes.push("sudo sysctl -w user.max_user_namespaces=15000");
  }
  if (readSysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") === "1") {
    fixes.push(
      "AppArmor restricts user namespaces (Ubuntu 23.10+): allow bwrap with an AppArmor profile granting 'userns', " +
        "or, less safely, sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
    );
  }
  return {
    ok: false,
    detail: stderr || `bwrap exited with ${result.status ?? result.signal}`,
    fix: fixes.join("; ") || "Check that your kernel allows unprivileged user namespaces (inside a container, run it with --privileged or a seccomp profile that allows them).",
  };
}

/** The hint attached to a sandbox that failed to start. */
export function explainStartFailure(): string {
  const bwrap = findOnHostPath("bwrap");
  if (!bwrap) return "Install bubblewrap: sudo apt-get install -y bubblewrap";
  const check = checkUserNamespaces(bwrap);
  if (!check.ok) return `User namespaces are not available (${check.detail}). ${check.fix ?? ""} Run 'cordon doctor' for details.`;
  return "Run 'cordon doctor' to see which isolation features work on this machine.";
}

/** `bubblewrap 0.8.0`, as the installed binary reports itself. */
export function bwrapVersion(bwrap: string): string {
  return spawnSync(bwrap, ["--version"], { encoding: "utf8", env: {} }).stdout.trim();
}
