import type { CallSite } from "../ast/facts.js";
import { HOLE, staticString } from "../ast/static-value.js";
import type { Node } from "../ast/walk.js";
import { credentialReads, strongCredentialReads } from "./credential-files.js";
import { envDumps, envEnumerations, secretEnvReads } from "./env-harvest.js";
import { atInstallTime, type FileContext, type FileRule } from "./rule.js";
import { DROP_HOST, RAW_IP_URL, dnsCalls, dnsCommands, downloadCommands, networkCalls, stringsMatching, textMatch } from "./signals.js";

/** Host facts a dependency-confusion probe sends home to learn whose machine ran it. */
const IDENTITY_CALLEE = /^os\.(?:hostname|userInfo)$/;
const CONTEXT_CALLEE = /^os\.(?:homedir|networkInterfaces)$|^process\.cwd$/;

/**
 * A credential source and a network sink in the same file. This is the
 * shape of nearly every npm credential stealer: read tokens, keys or the
 * whole env, then send them out (HTTP, DNS queries, curl). Dependency
 * confusion probes send only hostname, user and folder, usually over DNS.
 * "Same file" is a deliberate approximation of data flow: cheap, and
 * splitting source and sink across files only moves them to the
 * exfiltration-across-files blind spot documented in docs/scan.md.
 */
export const exfiltration: FileRule = {
  id: "exfiltration",
  summary: "sends credentials or host facts to the network, or names a drop host (webhook, paste site, tunnel, raw IP)",
  check(file, report) {
    const dropHosts = stringsMatching(file, DROP_HOST);
    const rawIps = stringsMatching(file, RAW_IP_URL);
    const sinks = [...networkCalls(file).filter((call) => !isStaticDnsLookup(call)), ...downloadCommands(file), ...dnsCommands(file)];
    const secrets = secretSources(file);
    const probes = probeSources(file);
    const covert = dropHosts.length > 0 || rawIps.length > 0 || dnsCalls(file).some((call) => !isStaticDnsLookup(call)) || dnsCommands(file).length > 0;
    if (sinks.length > 0 && secrets.wholeEnv.length + secrets.strong.length + secrets.named.length > 0) {
      const source = secrets.wholeEnv[0] ?? secrets.strong[0] ?? secrets.named[0]!;
      // The whole environment next to a network call is not something
      // benign code does. A token read by name and an HTTP client in one file
      // is also how release and upload tools work (node-pre-gyp and its AWS
      // keys): "high" only at install time or towards a drop host.
      const strongOrCovert = secrets.strong.length > 0 || covert || file.installTime;
      report({
        severity: file.installTime || covert || secrets.wholeEnv.length > 0 ? "critical" : strongOrCovert ? "high" : "medium",
        message: `reads credentials and sends data over the network${covert ? " to a drop host, raw IP or DNS" : ""}`,
        node: sinks[0]!.node,
        evidence: evidenceOf(file, source, sinks[0]!.node),
      });
    } else if (sinks.length > 0 && probes.length >= 2) {
      report({
        severity: file.installTime || covert ? "critical" : "high",
        message: "collects host facts (hostname, user, folders) and sends them out: the dependency-confusion probe pattern",
        node: sinks[0]!.node,
        evidence: evidenceOf(file, probes[0]!, sinks[0]!.node),
      });
    }
    for (const site of dropHosts.slice(0, 1)) {
      report({ severity: atInstallTime("medium", file.installTime), message: "names a host that collects data anonymously (webhook, paste site, tunnel)", node: site.node });
    }
    for (const site of rawIps.slice(0, 1)) {
      report({ severity: atInstallTime("low", file.installTime), message: "talks to a raw public IP address instead of a named host", node: site.node });
    }
    if (!file.ast) checkText(file, report);
  },
};

/**
 * The whole env serialized or packed into an object. Strong sources: credential files. Named: a token
 * variable read by name. Enumerating the env counts only at install time:
 * config loaders (vite, dotenv-expand) do it all day.
 */
function secretSources(file: FileContext): { wholeEnv: Node[]; strong: Node[]; named: Node[] } {
  const enumerations = file.installTime ? envEnumerations(file) : [];
  return { wholeEnv: envDumps(file), strong: [...enumerations, ...strongCredentialReads(file), ...npmrcReads(file)], named: secretEnvReads(file) };
}

/** `dns.lookup("localhost")`: a fixed name carries no data. */
function isStaticDnsLookup(call: CallSite): boolean {
  return /^dns/.test(call.callee) && staticString(call.args[0]) !== undefined && !staticString(call.args[0])!.includes(HOLE);
}

function npmrcReads(file: FileContext): Node[] {
  return credentialReads(file).filter(({ path }) => path.what === "npm token file").map(({ site }) => site);
}

/**
 * Host facts as a probe collects them: who (hostname or user name) plus at
 * least one more fact. Home folder and platform alone are what every
 * installer reads to pick a download.
 */
function probeSources(file: FileContext): Node[] {
  const identity = file.ast?.calls.filter((call) => IDENTITY_CALLEE.test(call.callee)) ?? [];
  const envUser = file.ast?.members.filter((site) => /^process\.env\.(?:USER|USERNAME|LOGNAME|HOSTNAME|COMPUTERNAME)$/.test(site.path)) ?? [];
  const context = file.ast?.calls.filter((call) => CONTEXT_CALLEE.test(call.callee)) ?? [];
  const kinds = new Set([...identity.map((call) => call.callee), ...context.map((call) => call.callee), ...(envUser.length > 0 ? ["user"] : [])]);
  const hasIdentity = identity.length > 0 || envUser.length > 0;
  return hasIdentity && kinds.size >= 2 ? [...identity.map((call) => call.node), ...envUser.map((site) => site.node)] : [];
}

function evidenceOf(file: FileContext, source: Node, sink: Node): string {
  return `${sourceOf(file, source)} … ${sourceOf(file, sink)}`;
}

function sourceOf(file: FileContext, node: Node): string {
  const { start, end } = node as { start?: number; end?: number };
  return start === undefined || end === undefined ? node.type : file.text.slice(start, Math.min(end, start + 70));
}

/** A file too large to parse still gets its drop hosts reported. */
function checkText(file: FileContext, report: Parameters<FileRule["check"]>[1]): void {
  const offset = textMatch(file, DROP_HOST);
  if (offset !== undefined) report({ severity: atInstallTime("medium", file.installTime), message: "names a host that collects data anonymously (webhook, paste site, tunnel)", offset });
}
