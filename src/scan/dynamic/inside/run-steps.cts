/**
 * Runs inside an observation sandbox: the package's install scripts in
 * npm's order (stopping at the first that fails, as npm does), then a load
 * of its entry point, then waits a moment for what they left running.
 * It reports each step as a JSON line on its stdout. The package's
 * processes get pipes of their own, but they run as the same user and could
 * write to this process's stdout through /proc: step results are therefore
 * advisory, and nothing that decides a verdict is taken from them (cordon
 * reads the network, the files and the process list from outside).
 */
import childProcess = require("node:child_process");
import fs = require("node:fs");
import path = require("node:path");

interface Plan {
  /** Extra folders of programs (a tree's node_modules/.bin), searched after the package's own. */
  binDirs: string[];
  packageDir: string;
  projectDir: string;
  packageName: string;
  steps: { event: string; script: string }[];
  load: boolean;
  loadMs: number;
  lingerMs: number;
  npmEnv: Record<string, string>;
}

const OUTPUT_KEPT = 16 * 1024;
const plan = JSON.parse(process.argv[2] ?? "{}") as Plan;

function report(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function runStep(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, killAfterMs: number | undefined): Promise<{ exitCode: number | null; signal: string | null; output: string }> {
  return new Promise((resolve) => {
    let output = "";
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-OUTPUT_KEPT);
    };
    const child = childProcess.spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      resolve({ exitCode: null, signal: null, output: `${output}\n${error.message}` });
    });
    // "exit", not "close": a daemon that keeps the pipes open must not hold the step.
    child.on("exit", (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ exitCode, signal, output });
    });
  });
}

/** Other processes in this PID namespace that are still alive (not init, not this one, not zombies). */
function othersAlive(): number {
  let count = 0;
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || name === "1" || Number(name) === process.pid) continue;
    try {
      const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${name}/status`, "utf8"))?.[1];
      if (state !== "Z" && state !== "X") count += 1;
    } catch { /* gone meanwhile */ }
  }
  return count;
}

async function main(): Promise<void> {
  const binPath = [path.join(plan.packageDir, "node_modules", ".bin"), path.join(plan.projectDir, "node_modules", ".bin"), ...plan.binDirs, process.env.PATH ?? ""].join(":");
  for (const step of plan.steps) {
    const started = Date.now();
    const env = { ...process.env, ...plan.npmEnv, PATH: binPath, npm_lifecycle_event: step.event, npm_lifecycle_script: step.script };
    const result = await runStep("/bin/sh", ["-c", step.script], plan.packageDir, env, undefined);
    report({ type: "step", event: step.event, exitCode: result.exitCode, signal: result.signal, ms: Date.now() - started, output: result.output });
    if (result.exitCode !== 0) break;
  }
  if (plan.load) {
    const started = Date.now();
    // require() first (CommonJS, and what most dependents do); import() for
    // packages that are ES modules only or export only an "import" entry.
    const loader = "const n=process.argv[1];try{require(n)}catch(e){if(e&&/ERR_REQUIRE_ESM|ERR_PACKAGE_PATH_NOT_EXPORTED|ERR_REQUIRE_ASYNC_MODULE/.test(String(e.code)))import(n).catch((x)=>{console.error(x);process.exitCode=1});else throw e}";
    const result = await runStep(process.execPath, ["-e", loader, plan.packageName], plan.projectDir, process.env, plan.loadMs);
    report({ type: "step", event: "load", exitCode: result.exitCode, signal: result.signal, ms: Date.now() - started, output: result.output });
  }
  report({ type: "steps-done", pid: process.pid });
  const until = Date.now() + plan.lingerMs;
  while (Date.now() < until && othersAlive() > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  report({ type: "linger-done", stillRunning: othersAlive() });
}

void main();
