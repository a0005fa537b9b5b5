import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Sandbox } from "../src/sdk/index.js";
import { median, percentile, round, type Figure } from "./stats.js";

/** Milliseconds from Sandbox.create() to the first byte of `echo hi`'s output. */
async function firstByte(options: Parameters<typeof Sandbox.create>[0]): Promise<number> {
  const started = performance.now();
  const sandbox = await Sandbox.create(options);
  const child = await sandbox.spawn("echo", { args: ["hi"], stdin: "null", stdout: "piped", stderr: "null" });
  const reader = child.stdout!.getReader();
  await reader.read();
  const elapsed = performance.now() - started;
  reader.releaseLock();
  await sandbox.close();
  return elapsed;
}

async function samples(rounds: number, options: Parameters<typeof Sandbox.create>[0]): Promise<number[]> {
  for (let i = 0; i < 3; i += 1) await firstByte(options);
  const out: number[] = [];
  for (let i = 0; i < rounds; i += 1) out.push(await firstByte(options));
  return out;
}

/** Milliseconds for `fn` each time, after a warm-up. */
async function timed(rounds: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 2; i += 1) await fn();
  const out: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const started = performance.now();
    await fn();
    out.push(performance.now() - started);
  }
  return out;
}

/** Deno in a sandbox: a program's output, deno.eval() through a fresh REPL, and one eval in a live REPL. */
async function denoFigures(dataDir: string, rounds: number): Promise<{ run: number[]; evalFresh: number[]; evalLive: number[] }> {
  await using sandbox = await Sandbox.create({ dataDir });
  const run = await timed(rounds, async () => {
    const child = await sandbox.spawn("deno", { args: ["eval", "console.log(1)"], stdout: "piped", stderr: "null" });
    await child.output();
  });
  const evalFresh = await timed(rounds, () => sandbox.deno.eval("1 + 1"));
  await using repl = await sandbox.deno.repl();
  const evalLive = await timed(rounds * 3, () => repl.eval("1 + 1"));
  return { run, evalFresh, evalLive };
}

/** The sandbox service: create() with a timeout → first byte (service already running), and connect() → first byte. */
async function serviceFigures(dataDir: string, rounds: number): Promise<{ create: number[]; connect: number[] }> {
  await using keeper = await Sandbox.create({ dataDir, timeout: "10m" });
  const firstByte = async (sandbox: Sandbox): Promise<void> => {
    const child = await sandbox.spawn("echo", { args: ["hi"], stdout: "piped", stderr: "null" });
    await child.stdout!.getReader().read();
  };
  const create = await timed(rounds, async () => {
    const sandbox = await Sandbox.create({ dataDir, timeout: "1m" });
    await firstByte(sandbox);
    await sandbox.kill();
  });
  const connect = await timed(rounds, async () => {
    const sandbox = await Sandbox.connect(keeper.id, { dataDir });
    await firstByte(sandbox);
    await sandbox.close();
  });
  await keeper.kill();
  return { create, connect };
}

/** Kilobytes of a field (VmRSS in status, Pss in smaps_rollup) of one process. */
function kb(file: string, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(file, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The PIDs of a process and all its descendants. */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const walk = (p: number): void => { out.push(p); for (const c of children.get(p) ?? []) walk(c); };
  walk(pid);
  return out;
}

function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** Live sandboxes, each running one `sleep`: per-sandbox memory, and how many started within the time bound. */
async function idleMemory(dataDir: string, target: number, timeBoundMs: number): Promise<{ alive: number; rssKb: number; pssKb: number; hostKb: number; processes: number }> {
  const sandboxes: Sandbox[] = [];
  const hostBefore = process.memoryUsage().rss;
  const until = Date.now() + timeBoundMs;
  try {
    while (sandboxes.length < target && Date.now() < until && os.freemem() > 2 * 1024 ** 3) {
      const batch = await Promise.all(Array.from({ length: Math.min(10, target - sandboxes.length) }, async () => {
        const sandbox = await Sandbox.create({ dataDir, memory: "256MiB" });
        await sandbox.spawn("sleep", { args: ["3600"], stdin: "null", stdout: "null", stderr: "null" });
        return sandbox;
      }));
      sandboxes.push(...batch);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    let rss = 0;
    let pss = 0;
    let processes = 0;
    // Everything a sandbox costs on the host: bubblewrap's outer process, the
    // sandbox's PID 1, the agent, the waiting shell and the process itself.
    for (const sandbox of sandboxes) {
      const pids = tree(parentOf(await sandbox.hostPid()));
      processes += pids.length;
      for (const pid of pids) {
        rss += kb(`/proc/${pid}/status`, "VmRSS");
        pss += kb(`/proc/${pid}/smaps_rollup`, "Pss");
      }
    }
    const n = sandboxes.length;
    return { alive: n, rssKb: rss / n, pssKb: pss / n, hostKb: (process.memoryUsage().rss - hostBefore) / 1024 / n, processes: processes / n };
  } finally {
    await Promise.all(sandboxes.map((s) => s.close()));
  }
}

export async function benchSdk(rounds = 30): Promise<Figure[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-bench-sdk-"));
  try {
    const plain = await samples(rounds, { dataDir });
    {
      await using base = await Sandbox.create({ dataDir, memory: "1GiB" });
      // 100 MB in 400 files of 256 KiB, as a project with dependencies would be.
      await base.sh`mkdir -p project && i=0; while [ $i -lt 400 ]; do head -c 262144 /dev/urandom > project/f$i; i=$((i+1)); done`;
      await base.snapshot("bench-100mb");
    }
    const fromSnapshot = await samples(Math.max(10, Math.floor(rounds / 2)), { dataDir, root: "bench-100mb" });
    const deno = await denoFigures(dataDir, Math.max(5, Math.floor(rounds / 3)));
    const service = await serviceFigures(dataDir, Math.max(5, Math.floor(rounds / 3)));
    const idle = await idleMemory(dataDir, 200, 90_000);
    return [
      { name: "sdk: create() → first byte of echo hi, median", value: round(median(plain)), unit: "ms", note: "goal ≤ 50 ms" },
      { name: "sdk: create() → first byte of echo hi, p95", value: round(percentile(plain, 95)), unit: "ms" },
      { name: "sdk: from a 100 MB snapshot, median", value: round(median(fromSnapshot)), unit: "ms", note: "overlayfs, nothing copied" },
      { name: "sdk: from a 100 MB snapshot, p95", value: round(percentile(fromSnapshot, 95)), unit: "ms" },
      { name: "sdk: deno eval 'console.log(1)' in a sandbox → output, median", value: round(median(deno.run)), unit: "ms", note: "spawn to exit" },
      { name: "sdk: sandbox.deno.eval('1 + 1') (a fresh REPL each), median", value: round(median(deno.evalFresh)), unit: "ms" },
      { name: "sdk: repl.eval('1 + 1') in a live REPL, median", value: round(median(deno.evalLive)), unit: "ms" },
      { name: "sdk: create({ timeout }) → first byte, service running, median", value: round(median(service.create)), unit: "ms", note: "owned by the sandbox service" },
      { name: "sdk: connect(id) → first byte, median", value: round(median(service.connect)), unit: "ms" },
      { name: "sdk: sandboxes alive at once (1 process each)", value: idle.alive, unit: "", note: "goal ≥ 200 (bounded at 200 / 90 s)" },
      { name: "sdk: idle memory per sandbox (RSS sum)", value: round(idle.rssKb / 1024), unit: "MiB", note: `goal ≤ 15 MiB; ${round(idle.processes, 1)} processes each` },
      { name: "sdk: idle memory per sandbox (PSS sum)", value: round(idle.pssKb / 1024), unit: "MiB", note: "shared pages split" },
      { name: "sdk: host Node memory per sandbox", value: round(idle.hostKb / 1024), unit: "MiB", note: "cordon's own bookkeeping" },
    ];
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
