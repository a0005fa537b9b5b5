#!/usr/bin/env node
import module from "node:module";
import { isCordonError } from "../errors.js";
import { EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_SANDBOX_FAILED } from "../engine/exit-codes.js";
import { paint, sanitizeForTerminal, say } from "./terminal.js";

const USAGE = `cordon: run code you do not trust with least privilege

Usage:
  cordon run [grants] [limits] -- COMMAND [ARGS...]   run a command in a sandbox
  cordon install [PACKAGE...] | cordon ci              npm install where only approved scripts run, sandboxed
  cordon approve NAME | cordon deny NAME               decide a package's install scripts
  cordon policy ls | cordon policy prune               show or tidy the install policy
  cordon audit                                         print the install audit log
  cordon scan [PATH | npm:SPEC | FILE.tgz]             find malicious packages before any of their code runs
  cordon snapshot ls|rm NAME, cordon volume ls|create|rm NAME   the SDK's snapshots and volumes
  cordon doctor                                        show what this machine enforces
  cordon help [COMMAND]

Run 'cordon run --help' for grants and limits.`;

type Command = (args: string[]) => Promise<number>;

/** Subcommands load lazily so 'cordon run' pays only for what it uses. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import("./commands/run.js")).runCommand,
  doctor: async () => (await import("./commands/doctor.js")).doctorCommand,
  install: async () => (await import("./commands/install.js")).installCommandFor("install"),
  ci: async () => (await import("./commands/install.js")).installCommandFor("ci"),
  approve: async () => (await import("./commands/policy.js")).approveCommand,
  deny: async () => (await import("./commands/policy.js")).denyCommand,
  policy: async () => (await import("./commands/policy.js")).policyCommand,
  audit: async () => (await import("./commands/audit.js")).auditCommand,
  scan: async () => (await import("./commands/scan.js")).scanCommand,
  snapshot: async () => (await import("./commands/snapshot.js")).snapshotCommand,
  volume: async () => (await import("./commands/volume.js")).volumeCommand,
};

// Node >= 22 can cache compiled code between runs; start-up is most of what
// `cordon run` costs. (A no-op on Node 20, which lacks it.)
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    if (rest[0] !== undefined && COMMANDS[rest[0]]) return (await COMMANDS[rest[0]]!())(["--help"]);
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (name === "--version") {
    process.stdout.write("cordon 0.1.0\n");
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    say(`${paint("red", "cordon:")} unknown command "${sanitizeForTerminal(name)}".`);
    say(`  Commands: ${Object.keys(COMMANDS).join(", ")}. See 'cordon help'.`);
    return EXIT_SANDBOX_FAILED;
  }
  return (await load())(rest);
}

function exitCodeForError(error: unknown): number {
  if (isCordonError(error) && error.exitCode !== undefined) return error.exitCode;
  if (isCordonError(error) && error.code === "E_COMMAND_NOT_FOUND") {
    return error.message.includes("not an executable") ? EXIT_NOT_EXECUTABLE : EXIT_NOT_FOUND;
  }
  return EXIT_SANDBOX_FAILED;
}

/**
 * When the command is done, cordon is done: anything still holding the event
 * loop (a name lookup a sandbox started through the proxy, which Node cannot
 * cancel) must not keep it running past its --timeout. Output already
 * written drains first; this timer only fires if something else is left.
 */
function exitSoon(): void {
  setTimeout(() => process.exit(), 500).unref();
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    exitSoon();
  },
  (error: unknown) => {
    if (isCordonError(error)) {
      say(`${paint("red", "cordon:")} ${sanitizeForTerminal(error.message)}`);
      if (error.hint) say(`  ${sanitizeForTerminal(error.hint)}`);
    } else {
      say(`${paint("red", "cordon: internal error:")} ${error instanceof Error ? error.message : String(error)}`);
      if (process.env.CORDON_DEBUG && error instanceof Error) say(error.stack ?? "");
      else say("  This is a bug in cordon. Run again with CORDON_DEBUG=1 for details and report it.");
    }
    process.exitCode = exitCodeForError(error);
    exitSoon();
  },
);
