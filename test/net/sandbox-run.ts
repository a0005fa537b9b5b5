import fs from "node:fs";
import path from "node:path";
import { run } from "../../src/sandbox/run.js";
import { EgressProxy, SANDBOX_PROXY_PORT } from "../../src/net/egress-proxy.js";
import type { EgressEvent } from "../../src/net/events.js";
import { nodeProxyPreload, proxyEnvironment } from "../../src/net/proxy-env.js";
import { parseNetGrants } from "../../src/policy/net-grant.js";
import { SANDBOX_PATH, startBwrapSandbox } from "./support.js";

export interface SandboxRunOptions {
  grants: string[];
  pins?: ReadonlyMap<string, string>;
  command: string[];
  env?: Record<string, string>;
  home: string;
  timeoutMs?: number;
}

export interface SandboxRun {
  code: number | null;
  stdout: string;
  stderr: string;
  events: EgressEvent[];
  attachMs: number;
}

/**
 * Runs a command in a bubblewrap sandbox with only loopback, cordon's proxy
 * attached to its network namespace at SANDBOX_PROXY_PORT and the proxy
 * variables set, as the engine will.
 */
export async function runWithProxy(options: SandboxRunOptions): Promise<SandboxRun> {
  const events: EgressEvent[] = [];
  await using proxy = new EgressProxy({ grants: parseNetGrants(options.grants), resolve: options.pins, onEvent: (event) => events.push(event) });
  const env = new Map([
    ["PATH", SANDBOX_PATH],
    ["HOME", options.home],
    ...proxyEnvironment(SANDBOX_PROXY_PORT, { nodePreload: nodeProxyPreload().preload }),
    ...Object.entries(options.env ?? {}),
  ]);
  const sandbox = startBwrapSandbox(options.command, env, [options.home]);
  const timer = setTimeout(() => sandbox.kill(), options.timeoutMs ?? 60_000);
  try {
    const pid = await sandbox.pid;
    const started = performance.now();
    await proxy.attachToNetns(pid);
    const attachMs = performance.now() - started;
    sandbox.release();
    const result = await sandbox.result;
    // Connections end a moment after the program: wait for their events.
    await proxy.idle();
    return { ...result, events, attachMs };
  } finally {
    clearTimeout(timer);
    sandbox.kill();
  }
}

/**
 * The same, through cordon's engine: `run()` with `allowNet`, so the proxy is
 * attached, the variables set and the preload mounted exactly as for
 * `cordon run`. `home` is granted writable and used as $HOME (tests keep
 * their CA files and git config there).
 */
export async function runThroughEngine(options: SandboxRunOptions): Promise<Omit<SandboxRun, "attachMs">> {
  const events: EgressEvent[] = [];
  const [file, ...args] = options.command;
  // The files a test names (its CA bundle, a Node 24 binary) are granted
  // read-only, as a user would grant them.
  const named = [...options.command, ...Object.values(options.env ?? {})]
    .flatMap((value) => [value, ...(value.match(/\/[\w.+-]+(?:\/[\w.+-]+)+/g) ?? [])])
    .filter((value) => path.isAbsolute(value) && fs.existsSync(value) && !value.startsWith(options.home))
    .map((value) => (fs.statSync(value).isDirectory() ? value : path.dirname(value)))
    .filter((dir) => !["/usr", "/bin", "/usr/bin"].some((system) => dir === system || dir.startsWith(`${system}/`)));
  const result = await run(
    file!,
    args,
    {
      allowNet: options.grants,
      allowRead: [...new Set(named)],
      allowWrite: [options.home],
      env: { ...options.env, HOME: options.home },
      timeout: options.timeoutMs ?? 60_000,
    },
    { hostEnv: {}, hostCwd: options.home, network: { resolve: options.pins, onEvent: (event) => events.push(event) } },
  );
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString(), events };
}
