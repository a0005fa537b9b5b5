import { ConfigError } from "../../errors.js";
import { AuditLog } from "../../install/audit-log.js";
import { checkInstallScripts } from "../../install/check.js";
import { InstallCodeStore } from "../../install/install-code-store.js";
import { asPolicyCommandError, findProjectDir } from "../../install/install.js";
import { approvePackages, denyPackages, prunePolicy, type GrantsInput, type PolicyEdit } from "../../install/policy-edit.js";
import { listPolicy } from "../../install/policy-list.js";
import { parseCommandFlags } from "../flags.js";
import { paint, sanitizeForTerminal, say } from "../terminal.js";

const APPROVE_HELP = `Usage: cordon approve NAME[@VERSION]... [grants]
       cordon deny NAME...

approve lets a package's install scripts run (sandboxed) and pins its install
code: a later version with byte-identical install code stays approved, one
whose code changed needs review again. package.json gets one line per package
(npm's own "allowScripts"); pins and the grants given here are recorded in
.cordon/policy.json (commit it; a "cordon" section left in package.json by an
older cordon moves there on the first write):
  --allow-net=HOST,...   hosts it may reach (e.g. a prebuilt binary's download host)
  --allow-write=PATH,... extra writable paths (relative to the package folder)
  --allow-env=NAME,...   host variables it may read
  --timeout=20m --memory=8G
deny makes npm and cordon skip its scripts, silently, from now on.`;

export const approveCommand = policyCommandOf(approve);
export const denyCommand = policyCommandOf(deny);
export const policyCommand = policyCommandOf(policy);

/** Runs a policy command in the project npm finds from here (a workspace's folder: the workspace root), its user errors exiting 2. */
function policyCommandOf(run: (argv: string[], projectDir: () => Promise<string>) => Promise<number>): (argv: string[]) => Promise<number> {
  return async (argv) => {
    try {
      return await run(argv, () => findProjectDir(process.cwd()));
    } catch (error) {
      throw asPolicyCommandError(error);
    }
  };
}

async function approve(argv: string[], projectDir: () => Promise<string>): Promise<number> {
  const { values, positionals } = parseCommandFlags("approve", {
    args: argv,
    allowPositionals: true,
    options: {
      "allow-net": { type: "string", multiple: true },
      "allow-write": { type: "string", multiple: true },
      "allow-env": { type: "string", multiple: true },
      timeout: { type: "string" },
      memory: { type: "string" },
      "no-pin": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return help(APPROVE_HELP);
  requireNames(positionals, "approve");
  const dir = await projectDir();
  const check = await checkInstallScripts(dir);
  const list = (v: string[] | undefined): string[] | undefined => v?.flatMap((x) => x.split(","));
  const grants: GrantsInput = {
    net: list(values["allow-net"]),
    write: list(values["allow-write"]),
    env: list(values["allow-env"]),
    timeout: values.timeout,
    memory: values.memory,
  };
  const edit = await approvePackages(dir, positionals, check.inventory, {
    grants: Object.values(grants).some((v) => v !== undefined) ? grants : undefined,
    pin: !values["no-pin"],
    store: new InstallCodeStore(dir),
  });
  return report(edit, "approve", positionals, dir);
}

async function deny(argv: string[], projectDir: () => Promise<string>): Promise<number> {
  const { values, positionals } = parseCommandFlags("deny", { args: argv, allowPositionals: true, options: { help: { type: "boolean", short: "h" } } });
  if (values.help) return help(APPROVE_HELP);
  requireNames(positionals, "deny");
  const dir = await projectDir();
  const check = await checkInstallScripts(dir);
  return report(await denyPackages(dir, positionals, check.inventory), "deny", positionals, dir);
}

async function policy(argv: string[], projectDir: () => Promise<string>): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "ls" || sub === "list") {
    const listing = listPolicy(await checkInstallScripts(await projectDir()));
    if (listing.packages.length === 0) process.stdout.write("No installed package wants to run code at install time.\n");
    for (const entry of listing.packages) {
      const grants = [...entry.grants.net.map((h) => `net ${h}`), ...entry.grants.write.map((p) => `write ${p}`), ...entry.grants.env.map((e) => `env ${e}`)];
      process.stdout.write(
        `${sanitizeForTerminal(`${entry.name}@${entry.version ?? "?"}`).padEnd(36)} ${entry.decision.padEnd(9)} ${entry.pinned ? "pinned " : "       "}${grants.join(", ")}\n` +
          entry.scripts.map((s) => `    ${sanitizeForTerminal(s)}\n`).join(""),
      );
    }
    for (const stale of listing.stale) process.stdout.write(`stale entry (no such package installed): ${sanitizeForTerminal(stale)}  (cordon policy prune)\n`);
    for (const warning of listing.warnings) process.stdout.write(`warning: ${sanitizeForTerminal(warning)}\n`);
    return 0;
  }
  if (sub === "prune") {
    void rest;
    const dir = await projectDir();
    const check = await checkInstallScripts(dir);
    return report(await prunePolicy(dir, check.inventory), "prune", [], dir);
  }
  throw new ConfigError(`cordon policy: unknown subcommand "${sub ?? ""}".`, { hint: "Use cordon policy ls or cordon policy prune." });
}

function report(edit: PolicyEdit, action: string, names: string[], projectDir: string): number {
  if (!edit.changed) say(`  the policy already says this; ${edit.file} and ${edit.policyFile} unchanged`);
  for (const line of edit.summary) say(`  ${paint("green", "✔")} ${sanitizeForTerminal(line)}`);
  if (edit.changed) AuditLog.forProject(projectDir).write({ type: "policy", action, packages: names });
  return 0;
}

function requireNames(names: string[], verb: string): void {
  if (names.length === 0) throw new ConfigError(`cordon ${verb}: name at least one package.`, { hint: `e.g. cordon ${verb} esbuild (see cordon policy ls).` });
}

function help(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}
