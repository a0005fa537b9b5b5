import type { CallSite } from "../ast/facts.js";
import type { Node } from "../ast/walk.js";
import { atInstallTime, type FileContext, type FileRule } from "./rule.js";
import { commandLine, networkCalls, processCalls } from "./signals.js";

/**
 * The whole environment serialized or walked: that is where CI tokens and
 * cloud keys live. Reading one variable by name is normal; taking all of them
 * is what credential stealers do (Shai-Hulud dumped `process.env` to a repo).
 * A spread `{ ...process.env, X: 1 }` is the everyday way to pass env to a
 * child process, so it is deliberately not flagged.
 */
export const envHarvest: FileRule = {
  id: "env-harvest",
  summary: "serializes or enumerates the whole process environment",
  check(file, report) {
    for (const site of envDumps(file)) {
      report({ severity: atInstallTime("medium", file.installTime), message: "serializes the whole environment (where tokens and keys live)", node: site });
    }
    for (const site of envEnumerations(file)) {
      report({ severity: atInstallTime("low", file.installTime), message: "enumerates every environment variable", node: site });
    }
    for (const site of secretEnvReads(file)) {
      report({ severity: atInstallTime("info", file.installTime), message: "reads a credential from the environment by name", node: site });
    }
  },
};

const ENUMERATORS = /^Object\.(?:keys|entries|values|getOwnPropertyNames|assign)$/;
const SECRET_NAME = /^(?:NPM_TOKEN|NODE_AUTH_TOKEN|NPM_AUTH_TOKEN|npm_config__authToken|GITHUB_TOKEN|GH_TOKEN|GITLAB_TOKEN|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN|AZURE_CLIENT_SECRET|GOOGLE_APPLICATION_CREDENTIALS|CIRCLE_TOKEN|SLACK_TOKEN|OPENAI_API_KEY|ANTHROPIC_API_KEY)$/;

export function isWholeEnv(file: FileContext, node: Node | undefined): boolean {
  return node !== undefined && file.ast?.nameOf(node) === "process.env";
}

/**
 * The whole env serialized, or packed as a value into an object
 * (`{ e: process.env }`) that will be. `{ env: process.env }` and
 * `{ processEnv: process.env }` are how child processes and config loaders
 * take it and do not count; neither do spreads.
 */
export function envDumps(file: FileContext): Node[] {
  const ast = file.ast;
  if (!ast) return [];
  // `JSON.stringify(process)` carries the environment too (process.env is one of its fields).
  const serialized = ast.calls.filter((call) => SERIALIZER.test(call.callee) && (isWholeEnv(file, call.args[0]) || ast.nameOf(call.args[0]) === "process" || holdsEnv(file, call.args[0]))).map((call) => call.node);
  const handedOver = ast.envValues.filter((site) => !/env/i.test(site.key)).map((site) => site.node);
  // `axios.post(url, process.env)`, `fetch(u, { body: { env: process.env } })`: the env as what a request sends.
  const sent = networkCalls(file).filter((call) => call.args.some((arg) => isWholeEnv(file, arg) || holdsEnv(file, arg))).map((call) => call.node);
  // `execSync("env")`: the same dump, asked of the shell.
  const printed = processCalls(file).filter((call) => /^\s*(?:env|printenv|set)\s*$/.test(commandLine(file, call))).map((call) => call.node);
  return [...serialized, ...handedOver, ...sent, ...printed];
}

/** Turn a value into text or bytes to send. */
const SERIALIZER = /^(?:JSON\.stringify|querystring\.(?:stringify|encode)|qs\.stringify|util\.inspect|URLSearchParams|btoa|Buffer\.from)$/;

/** An object literal with the whole env as one of its values, under any key (`{ env: process.env }` too). */
function holdsEnv(file: FileContext, node: Node | undefined): boolean {
  const value = file.ast?.resolve(node);
  return value?.type === "ObjectExpression" && value.properties.some((property) => property.type === "Property" && isWholeEnv(file, property.value as Node));
}

export function envEnumerations(file: FileContext): Node[] {
  const ast = file.ast;
  if (!ast) return [];
  // `Object.assign({}, process.env, extra)` is a copy for a child process, like a spread.
  const copies = (call: CallSite) => call.callee === "Object.assign" && call.args[0]?.type === "ObjectExpression";
  const calls = ast.calls.filter((call) => ENUMERATORS.test(call.callee) && !copies(call) && call.args.some((arg, i) => isWholeEnv(file, arg) && !(call.callee === "Object.assign" && i === 0)));
  const loops = ast.forInOver.filter((site) => site.path === "process.env");
  return [...calls.map((call) => call.node), ...loops.map((site) => site.node)];
}

export function secretEnvReads(file: FileContext): Node[] {
  return file.ast?.members.filter((site) => site.path.startsWith("process.env.") && SECRET_NAME.test(site.path.slice(12))).map((site) => site.node) ?? [];
}
