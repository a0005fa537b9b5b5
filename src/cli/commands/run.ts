import { ConfigError } from "../../errors.js";
import { run } from "../../sandbox/run.js";
import { formatBytes, formatDuration } from "../../policy/units.js";
import { parsePermissions, type Permissions, type PermissionsInput } from "../../policy/permissions.js";
import { readHostFacts } from "../../engine/host-facts.js";
import { composeSandbox, type ComposeOptions } from "../../sandbox/compose.js";
import fs from "node:fs";
import { BlockedDestinations } from "../../net/events.js";
import { parseSecretFlag } from "../../net/secrets/secret-grant.js";
import { terminalPrompt } from "../net-prompt.js";
import { parseCommandFlags } from "../flags.js";
import { sanitizeForTerminal, say, warn } from "../terminal.js";

export const RUN_HELP = `Usage: cordon run [grants] [limits] -- COMMAND [ARGS...]

Runs COMMAND in a sandbox that sees no host files, no environment and no
network unless granted. Grants take comma-separated lists.

Grants:
  --allow-read=PATH,...    read these files or folders
  --allow-write=PATH,...   read and write these (write implies read)
  --allow-env=NAME,...     pass these host variables (a prefix: NAME_*)
  --env=NAME=VALUE         set a variable inside (repeatable)
  --cwd=PATH               start in PATH (must be granted, or under /tmp or $HOME)
  --allow-net=HOST,...     reach these hosts through cordon's proxy: host, host:port,
                           *.domain, an IPv4 address, [IPv6] (default: no network)
  --resolve=HOST:ADDR      pin a name to an address, as curl's --resolve
  --prompt                 ask on the terminal about hosts no grant covers
  --audit=FILE             append every allowed and blocked connection (JSON lines)
  --secret=NAME@HOST,...   the sandbox gets a placeholder in $NAME; cordon's proxy puts
                           your real $NAME into requests to HOST only (HTTPS)
  --secret=NAME=@FILE@HOST,...   the same, with the value read from FILE

Limits:
  --timeout=10s            wall clock; the whole process tree is killed (exit 124)
  --memory=512M            memory for the whole sandbox (exit 123 when killed)
  --pids=256               number of processes and threads
  --disk=1G                size of each private writable space ($HOME, /tmp; default 1G)
  --output=10M             cap on output; the sandbox is killed past it (exit 122)

Other:
  --explain                print what the sandbox would see and enforce, and exit

Exit status: the command's own, or 124 timeout, 123 memory, 122 output,
125 the sandbox could not start, 126 not executable, 127 not found.`;

const GRANT_FLAGS = ["--allow-read", "--allow-write", "--allow-env", "--allow-net"];

export async function runCommand(argv: string[]): Promise<number> {
  const separator = argv.indexOf("--");
  const own = separator < 0 ? argv : argv.slice(0, separator);
  const command = separator < 0 ? [] : argv.slice(separator + 1);
  for (const arg of own) {
    if (GRANT_FLAGS.includes(arg)) {
      throw new ConfigError(`${arg} needs a list: ${arg}=VALUE,VALUE.`, {
        input: arg,
        hint: arg === "--allow-env"
          ? "cordon never passes the whole environment (it holds tokens). Name the variables: --allow-env=LANG,TZ."
          : arg === "--allow-net"
            ? "Name the hosts: --allow-net=api.example.com."
            : `cordon never grants the whole filesystem. Name the paths: ${arg}=. for the current folder.`,
      });
    }
  }
  const { values } = parseRunFlags(own);
  if (values.help) {
    process.stdout.write(`${RUN_HELP}\n`);
    return 0;
  }
  const [file, ...args] = command;
  if (file === undefined) {
    throw new ConfigError("No command given.", { hint: "Put the command after --: cordon run --allow-read=. -- node script.js" });
  }
  const input: PermissionsInput = {
    allowRead: values["allow-read"],
    allowWrite: values["allow-write"],
    allowEnv: values["allow-env"],
    allowNet: values["allow-net"],
    env: values.env,
    cwd: values.cwd,
    timeout: values.timeout,
    memory: values.memory,
    pids: values.pids,
    disk: values.disk,
    output: values.output,
  };
  const host = readHostFacts();
  const permissions = parsePermissions(input, { baseDir: host.cwd, homeDir: host.homeDir });
  const resolve = parseResolveFlags(values.resolve ?? []);
  const secrets = (values.secret ?? []).map(parseSecretFlag);
  if (values.explain) return explain(file, args, permissions, { network: { resolve }, secrets, capturingOutput: permissions.limits.outputBytes !== undefined });

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    controller.abort();
    process.exitCode = signal === "SIGINT" ? 130 : 143;
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let prompt: ReturnType<typeof terminalPrompt>;
  let audit: number | undefined;
  try {
    const capped = permissions.limits.outputBytes !== undefined;
    const blocked = new BlockedDestinations();
    audit = values.audit === undefined ? undefined : fs.openSync(values.audit, "a");
    prompt = values.prompt ? terminalPrompt() : undefined;
    if (values.prompt && !prompt) warn("--prompt needs a terminal; hosts no grant covers are refused.");
    const decide = prompt?.decide;
    const result = await run(file, args, permissions, {
      requireMemoryBound: permissions.limits.memoryBytes !== undefined,
      onPlan: (plan) => {
        for (const message of plan.warnings) {
          warn(message);
          if (audit !== undefined) fs.writeSync(audit, `${JSON.stringify({ v: 1, type: "warning", message })}\n`);
        }
      },
      secrets,
      onSecretEvent: (event) => {
        if (event.type === "secret-exfiltration") {
          say(`cordon: ${event.name}'s placeholder was sent to ${sanitizeForTerminal(event.host)} (in the ${event.where}), which it is not bound to: it stayed a placeholder. This looks like an exfiltration attempt.`);
        } else if (event.type === "exchange-refused") {
          say(`cordon: ${sanitizeForTerminal(event.reason)}`);
        } else if (event.type === "upstream-certificate") {
          say(`cordon: the real ${sanitizeForTerminal(event.host)} presented a certificate that does not verify (${event.reason}); nothing was sent.`);
        }
        if (audit !== undefined) fs.writeSync(audit, `${JSON.stringify({ v: 1, ...event })}\n`);
      },
      network: {
        resolve,
        decide,
        onEvent: (event) => {
          const line = blocked.report(event);
          if (line) say(sanitizeForTerminal(line));
          if (event.type === "bypassed") {
            say(`cordon: the program tried ${event.attempts} time${event.attempts === 1 ? "" : "s"} to reach the network directly, around cordon's proxy; those attempts cannot leave the sandbox. (A client that ignores HTTP_PROXY/HTTPS_PROXY gets no network.)`);
          }
          if (audit !== undefined && event.type !== "connection-limit") fs.writeSync(audit, `${JSON.stringify({ v: 1, ...event })}\n`);
        },
      },
      signal: controller.signal,
      stdin: "inherit",
      // Output goes straight to the terminal unless it must be counted.
      stdout: capped ? "capture" : "inherit",
      stderr: capped ? "capture" : "inherit",
      onStdout: capped ? (chunk) => process.stdout.write(chunk) : undefined,
      onStderr: capped ? (chunk) => process.stderr.write(chunk) : undefined,
    });
    if (!result.persistenceChecked) {
      say("cordon: the program left more files in the writable folders than cordon checks for planted git hooks, CI workflows and rc files; treat those folders as untrusted until you have looked.");
      if (audit !== undefined) fs.writeSync(audit, `${JSON.stringify({ v: 1, type: "persistence-unchecked" })}\n`);
    }
    if (result.persistence.length > 0) {
      say("cordon: the program created or changed files that make code run later, outside any sandbox (git hooks and config, CI workflows, .envrc, editor tasks, rc files). Read them before you run git, open the folder in an editor or cd into it:");
      for (const item of result.persistence) {
        say(`  ${item.change.padEnd(8)} ${sanitizeForTerminal(item.path)}`);
        if (audit !== undefined) fs.writeSync(audit, `${JSON.stringify({ v: 1, type: "persistence", ...item })}\n`);
      }
    }
    for (const item of result.enforcement) {
      // Only for limits the user asked for; defaults are shown by --explain and doctor.
      const asked = item.limit === "memory" ? permissions.limits.memoryBytes : item.limit === "pids" ? permissions.limits.pids : undefined;
      if (item.scope === "per-process" && item.note && asked !== undefined) warn(`--${item.limit} is weaker here: ${item.note}.`);
    }
    if (result.limitHit) say(limitMessage(result.limitHit, permissions.limits));
    if (controller.signal.aborted) return process.exitCode as number;
    return result.exitCode;
  } finally {
    prompt?.close();
    if (audit !== undefined) fs.closeSync(audit);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function limitMessage(limit: string, limits: { timeoutMs?: number; memoryBytes?: number; outputBytes?: number }): string {
  switch (limit) {
    case "timeout":
      return `cordon: killed after the ${formatDuration(limits.timeoutMs ?? 0)} timeout; raise it with --timeout=…`;
    case "memory":
      return `cordon: killed for using more than ${formatBytes(limits.memoryBytes ?? 0)} of memory; raise it with --memory=…`;
    case "output":
      return `cordon: killed for writing more than ${formatBytes(limits.outputBytes ?? 0)} of output; raise it with --output=…`;
    default:
      return `cordon: stopped by the ${limit} limit`;
  }
}

/**
 * Prints the plan a run would execute, composed exactly as a run composes it
 * (secrets resolved and checked, the proxy's variables and files, limits as
 * this machine enforces them), then releases it: nothing runs.
 */
async function explain(file: string, args: string[], permissions: Permissions, options: ComposeOptions): Promise<number> {
  const composed = await composeSandbox(file, args, permissions, options);
  await composed.close();
  const { plan } = composed;
  const out: string[] = [`command: ${[file, ...args].join(" ")}`, `cwd: ${plan.cwd}`, "filesystem:"];
  for (const mount of plan.mounts) {
    switch (mount.kind) {
      case "ro-bind": out.push(`  read-only  ${mount.target}`); break;
      case "bind": out.push(`  writable   ${mount.target}`); break;
      case "tmpfs": out.push(`  private    ${mount.target} (empty, ${formatBytes(mount.sizeBytes)})`); break;
      case "symlink": out.push(`  link       ${mount.target} -> ${mount.linkTo}`); break;
      case "file": out.push(`  generated  ${mount.target}`); break;
      case "data": out.push(`  generated  ${mount.target} (read-only)`); break;
      case "proc": out.push(`  private    ${mount.target} (this sandbox's processes only)`); break;
      case "dev": out.push(`  private    ${mount.target} (null, zero, random, tty only)`); break;
      case "remount-ro": break;
    }
  }
  out.push(`environment: ${[...plan.env.keys()].sort().join(" ")}`);
  out.push(plan.network === undefined
    ? "network: none (loopback only)"
    : `network: through cordon's proxy at ${plan.network.proxy} to ${plan.network.grants.length === 0 ? "no host (attempts reported)" : plan.network.grants.map(describeGrant).join(", ")}`);
  for (const secret of plan.secrets) out.push(`secret: ${secret.name} (a placeholder inside; the real value only to ${secret.hosts.join(", ")})`);
  out.push(`seccomp: cordon's filter${plan.seccomp.denySharedMemory ? ", shared memory refused (memory is limited per process)" : ""}`);
  out.push("limits:");
  for (const item of plan.limitStrategy.enforcement) {
    const value = item.limit === "timeout" ? formatDuration(item.value) : item.limit === "pids" ? String(item.value) : formatBytes(item.value);
    out.push(`  ${item.limit.padEnd(8)} ${value.padEnd(8)} by ${item.mechanism} (${item.scope})${item.note ? `: ${item.note}` : ""}`);
  }
  for (const message of plan.warnings) out.push(`warning: ${message}`);
  process.stdout.write(`${out.join("\n")}\n`);
  return 0;
}

function parseRunFlags(args: string[]) {
  return parseCommandFlags("run", {
    args,
    strict: true,
    allowPositionals: false,
    options: {
      "allow-read": { type: "string", multiple: true },
      "allow-write": { type: "string", multiple: true },
      "allow-env": { type: "string", multiple: true },
      "allow-net": { type: "string", multiple: true },
      env: { type: "string", multiple: true },
      cwd: { type: "string" },
      timeout: { type: "string" },
      memory: { type: "string" },
      pids: { type: "string" },
      disk: { type: "string" },
      output: { type: "string" },
      explain: { type: "boolean" },
      resolve: { type: "string", multiple: true },
      prompt: { type: "boolean" },
      audit: { type: "string" },
      secret: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  }, "Put cordon's flags before -- and the command after it: cordon run --allow-read=. -- node script.js. See cordon run --help.");
}

/** `--resolve=HOST:ADDR` (ADDR may be [IPv6]); the proxy validates both parts. */
function parseResolveFlags(entries: readonly string[]): Map<string, string> {
  const pins = new Map<string, string>();
  for (const entry of entries) {
    const at = entry.indexOf(":");
    const host = entry.slice(0, at);
    let address = entry.slice(at + 1);
    if (at <= 0 || address === "") {
      throw new ConfigError(`--resolve: "${entry}" is not HOST:ADDRESS.`, { input: "--resolve", hint: "Pin a name as curl does: --resolve=api.example.com:127.0.0.1 (or :[::1])." });
    }
    if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
    pins.set(host.toLowerCase(), address);
  }
  return pins;
}

function describeGrant(grant: ReturnType<typeof parsePermissions>["net"][number]): string {
  const host = grant.kind === "host" ? grant.host : grant.kind === "wildcard" ? `*.${grant.suffix}` : grant.family === 6 ? `[${grant.address}]` : grant.address;
  return grant.port === undefined ? host : `${host}:${grant.port}`;
}
