import { spawn } from "node:child_process";
import path from "node:path";
import { run } from "../src/sandbox/run.js";
import { median, percentile, round, timeInterleaved, type Figure } from "./stats.js";

function exitOf(file: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: "ignore" });
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
}

/**
 * The baseline: bubblewrap with the same namespaces and a minimal view
 * (/usr, the merged-/usr links, /proc, /dev), spawned from Node the same
 * way cordon spawns it. What cordon adds on top is its plan, the seccomp
 * filter, the synthesized /etc, the private tmpfs mounts and bookkeeping.
 */
const BARE_BWRAP = [
  "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try",
  "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
  "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev",
  "--", "/usr/bin/true",
];

export async function benchEngine(rounds = 60): Promise<Figure[]> {
  const library = await timeInterleaved(
    rounds,
    () => run("true", [], {}, { stdout: "ignore", stderr: "ignore" }),
    () => exitOf("bwrap", BARE_BWRAP),
  );
  const cli = path.resolve("dist/src/cli/main.js");
  const cliRounds = Math.max(10, Math.floor(rounds / 3));
  const endToEnd = await timeInterleaved(
    cliRounds,
    () => exitOf(process.execPath, [cli, "run", "--", "true"]),
    () => exitOf(process.execPath, ["-e", ""]),
  );
  const limited = await timeInterleaved(
    Math.floor(rounds / 2),
    () => run("true", [], { memory: "256M", pids: 128 }, { stdout: "ignore", stderr: "ignore" }),
    () => exitOf("bwrap", BARE_BWRAP),
  );
  return [
    { name: "engine: run(true) median", value: round(median(library.a)), unit: "ms", note: "goal ≤ 15 ms" },
    { name: "engine: run(true) p95", value: round(percentile(library.a, 95)), unit: "ms" },
    { name: "engine: bare bwrap median (baseline)", value: round(median(library.b)), unit: "ms" },
    { name: "engine: run(true) / bare bwrap", value: round(median(library.a) / median(library.b)), unit: "×", note: "goal ≤ 1.3×" },
    { name: "engine: run(true) with --memory/--pids median", value: round(median(limited.a)), unit: "ms", note: "cgroup or rlimit setup included" },
    { name: "engine: with limits / bare bwrap", value: round(median(limited.a) / median(limited.b)), unit: "×" },
    { name: "cli: cordon run -- true median", value: round(median(endToEnd.a)), unit: "ms" },
    { name: "cli: node -e '' median (baseline)", value: round(median(endToEnd.b)), unit: "ms" },
    { name: "cli: cordon run / node -e ''", value: round(median(endToEnd.a) / median(endToEnd.b)), unit: "×", note: "goal ≤ 1.5×" },
  ];
}
