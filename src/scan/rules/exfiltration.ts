import type { CallSite } from "../ast/facts.js";
import { HOLE } from "../ast/static-value.js";
import type { Node } from "../ast/walk.js";
import { credentialReads, discordTokenSearch, stealerReads, strongCredentialReads } from "./credential-files.js";
import { envDumps, envEnumerations, secretEnvReads } from "./env-harvest.js";
import { atInstallTime, type FileContext, type FileRule } from "./rule.js";
import { DROP_HOST, RAW_IP_URL, commandLine, dnsCalls, dnsCommands, downloadCommands, networkCalls, processCalls, stringsMatching, textMatch } from "./signals.js";

/** Host facts a dependency-confusion probe sends home to learn whose machine ran it. */
const IDENTITY_CALLEE = /^os\.(?:hostname|userInfo)$/;
const CONTEXT_CALLEE = /^os\.(?:homedir|networkInterfaces)$|^process\.cwd$|^dns\.getServers$/;
/** What kind of machine: every installer reads these, so they count only at install time, next to an identity. */
const MACHINE_FACT = /^os\.(?:platform|type|release|arch|cpus|totalmem|uptime|version)$|^process\.(?:platform|arch|version|versions)$/;
/** The same facts asked of the shell: `execSync("whoami")`, `exec("curl ifconfig.me")`. */
const IDENTITY_COMMAND = /^\s*(?:whoami|hostname|id|uname(?:\s+-\w+)?)\s*$/;
const CONTEXT_COMMAND = /^\s*(?:pwd|ifconfig|ipconfig|ip\s+a(?:ddr)?)\b/;
/** Services that tell a machine its public address: how a beacon learns whose network it runs in. */
export const PUBLIC_IP_SERVICE = /\b(?:api\d*\.ipify\.org|ifconfig\.(?:me|co)|icanhazip\.com|checkip\.amazonaws\.com|ipecho\.net|myexternalip\.com|ident\.me|ipinfo\.io|ip-api\.com|wtfismyip\.com|api\.myip\.com)\b/i;
/** A public IPv4 address as a whole string (`host: "203.0.113.9"`, `net.connect(4444, "203.0.113.9")`). */
const PUBLIC_IP = /^(?!(?:127|10|0|255)\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|169\.254\.|2(?:2[4-9]|3\d)\.)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** Public resolvers: `dns.setServers(["8.8.8.8"])` is configuration, not a destination. */
const PUBLIC_RESOLVER = /^(?:8\.8\.[48]\.[48]|1\.[01]\.[01]\.1|9\.9\.9\.9|208\.67\.22[02]\.22[02])$/;

/**
 * A credential source and a network sink in the same file. This is the
 * shape of nearly every npm credential stealer: read tokens, keys or the
 * whole env, then send them out (HTTP, DNS queries, curl). Dependency
 * confusion probes send only hostname, user and folder, usually over DNS.
 * "Same file" is a deliberate approximation of data flow: cheap, and
 * splitting source and sink across files is caught by collector-and-secrets
 * when the destination is a collector, and by install-time reach when an
 * install script requires the helper that sends.
 */
export const exfiltration: FileRule = {
  id: "exfiltration",
  summary: "sends credentials or host facts to the network, or names a drop host (webhook, paste site, tunnel, raw IP)",
  check(file, report) {
    const dropHosts = stringsMatching(file, DROP_HOST);
    const sinks = [...networkCalls(file).filter((call) => !isStaticDnsLookup(file, call)), ...downloadCommands(file), ...dnsCommands(file)];
    const rawIps = rawIpSites(file, sinks.length > 0);
    const secrets = secretSources(file);
    const probe = probeSources(file);
    const webhookClients = sinks.filter((call) => /(?:^|\.)WebhookClient$/.test(call.callee));
    const dnsCarrier = dnsCalls(file).some((call) => !isStaticDnsLookup(file, call)) || dnsCommands(file).length > 0;
    const covert = dropHosts.length > 0 || rawIps.length > 0 || webhookClients.length > 0 || dnsCarrier;
    const anySecret = secrets.wholeEnv[0] ?? secrets.stealer[0] ?? secrets.strong[0] ?? secrets.named[0];
    if (sinks.length > 0 && anySecret) {
      // The whole environment next to a network call is not something
      // benign code does, nor is reading a browser's password store or
      // Discord's tokens. A token read by name and an HTTP client in one file
      // is also how release and upload tools work (node-pre-gyp and its AWS
      // keys): "high" only at install time or towards a drop host.
      const conclusive = file.installTime || covert || secrets.wholeEnv.length > 0 || secrets.stealer.length > 0;
      report({
        severity: conclusive ? "critical" : secrets.strong.length > 0 ? "high" : "medium",
        message: `reads credentials and sends data over the network${covert ? " to a drop host, raw IP, webhook or DNS" : ""}`,
        node: sinks[0]!.node,
        evidence: evidenceOf(file, anySecret, sinks[0]!.node),
      });
    } else if (sinks.length > 0 && probe && (probe.kinds >= 2 || dnsCarrier)) {
      // Hostname and user (or folder) sent anywhere, or even the hostname
      // alone spelled into a DNS query: whose machine ran this, which is all
      // a dependency-confusion probe wants to know.
      report({
        severity: file.installTime || covert ? "critical" : "high",
        message: "collects host facts (hostname, user, folders, public IP) and sends them out: the dependency-confusion probe pattern",
        node: sinks[0]!.node,
        evidence: evidenceOf(file, probe.identity, sinks[0]!.node),
      });
    } else if (sinks.length > 0 && file.installTime && (dropHosts.length > 0 || webhookClients.length > 0 || rawIps.length > 0)) {
      // Installing a package has no reason to reach a webhook, a tunnel, an
      // OAST domain or a bare IP address: the request itself is the beacon.
      const collector = dropHosts[0]?.node ?? webhookClients[0]?.node ?? rawIps[0]!.node;
      report({ severity: "critical", message: "contacts a data-collection host or a raw IP address while installing (a beacon)", node: sinks[0]!.node, evidence: evidenceOf(file, collector, sinks[0]!.node) });
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
 * What this file contributes to the package-wide view (collector-and-secrets):
 * a place that collects data, and something worth stealing, each with a
 * short piece of evidence. Either may be missing.
 */
export function exfiltrationLeads(file: FileContext): { collector: string | undefined; secret: string | undefined; secretKind: "env" | "stealer" | "file" | undefined } {
  const collectorNode = stringsMatching(file, DROP_HOST)[0]?.node ?? stringsMatching(file, RAW_IP_URL)[0]?.node
    ?? networkCalls(file).find((call) => /(?:^|\.)WebhookClient$/.test(call.callee))?.node;
  const sources = secretSources(file, { enumerations: true });
  // Tokens read by name do not count here: notifiers read SLACK_TOKEN and post to Slack's webhooks by design.
  const secretNode = sources.wholeEnv[0] ?? sources.stealer[0] ?? sources.strong[0];
  const textCollector = file.ast ? undefined : textMatch(file, DROP_HOST);
  const textSecret = file.ast ? undefined : textMatch(file, TEXT_SECRET);
  return {
    collector: collectorNode ? sourceOf(file, collectorNode) : textCollector === undefined ? undefined : file.text.slice(textCollector, textCollector + 60),
    secret: secretNode ? sourceOf(file, secretNode) : textSecret === undefined ? undefined : file.text.slice(textSecret, textSecret + 60),
    secretKind: sources.wholeEnv.length > 0 ? "env" : sources.stealer.length > 0 ? "stealer" : secretNode || textSecret !== undefined ? "file" : undefined,
  };
}

/** Raw IP URLs anywhere; a bare public IP only where the file talks to the network. */
function rawIpSites(file: FileContext, talks: boolean) {
  const urls = stringsMatching(file, RAW_IP_URL);
  if (!talks) return urls;
  return [...urls, ...(file.ast?.strings.filter((site) => PUBLIC_IP.test(site.value) && !PUBLIC_RESOLVER.test(site.value)) ?? [])];
}

/**
 * The whole env serialized or packed into an object. Strong sources: credential files. Named: a token
 * variable read by name. Enumerating the env counts only at install time:
 * config loaders (vite, dotenv-expand) do it all day.
 */
function secretSources(file: FileContext, options: { enumerations?: boolean } = {}): { wholeEnv: Node[]; stealer: Node[]; strong: Node[]; named: Node[] } {
  const enumerations = file.installTime || options.enumerations ? envEnumerations(file) : [];
  const tokenSearch = discordTokenSearch(file) === undefined ? [] : stealerReads(file).slice(0, 1);
  return {
    wholeEnv: envDumps(file),
    stealer: [...stealerReads(file), ...tokenSearch],
    strong: [...enumerations, ...strongCredentialReads(file), ...npmrcReads(file)],
    named: secretEnvReads(file),
  };
}

/** `dns.lookup("localhost")`: a fixed name carries no data. */
function isStaticDnsLookup(file: FileContext, call: CallSite): boolean {
  const name = file.ast?.stringOf(call.args[0]);
  return /^dns/.test(call.callee) && name !== undefined && !name.includes(HOLE);
}

function npmrcReads(file: FileContext): Node[] {
  return credentialReads(file).filter(({ path }) => path.what === "npm token file").map(({ site }) => site);
}

/**
 * Host facts as a probe collects them: who (hostname or user name) plus at
 * least one more fact (folder, network interfaces, public IP). Home folder
 * and platform alone are what every installer reads to pick a download.
 * Facts count whether the code calls `os.hostname()`, passes `os.hostname`
 * to a helper, or asks the shell (`whoami`, `curl ifconfig.me`).
 */
function probeSources(file: FileContext): { identity: Node; kinds: number } | undefined {
  const ast = file.ast;
  if (!ast) return undefined;
  const identity = [
    ...ast.calls.filter((call) => IDENTITY_CALLEE.test(call.callee)).map((call) => ({ kind: call.callee, node: call.node as Node })),
    ...ast.members.filter((site) => IDENTITY_CALLEE.test(site.path)).map((site) => ({ kind: site.path, node: site.node as Node })),
    ...ast.members.filter((site) => /^process\.env\.(?:USER|USERNAME|LOGNAME|HOSTNAME|COMPUTERNAME)$/.test(site.path)).map((site) => ({ kind: "user", node: site.node as Node })),
    ...shellFacts(file, IDENTITY_COMMAND).map(({ call, command }) => ({ kind: command.trim().split(/\s/)[0]!, node: call.node as Node })),
  ];
  const context = [
    ...ast.calls.filter((call) => CONTEXT_CALLEE.test(call.callee)).map((call) => call.callee),
    ...ast.members.filter((site) => CONTEXT_CALLEE.test(site.path)).map((site) => site.path),
    ...shellFacts(file, CONTEXT_COMMAND).map(({ command }) => command.trim().split(/\s/)[0]!),
    ...(stringsMatching(file, PUBLIC_IP_SERVICE).length > 0 ? ["public-ip"] : []),
    // At install time the install folder names the project (and the company
    // in a dependency-confusion hit), and machine facts complete the picture.
    ...(file.installTime && /\b__(?:dirname|filename)\b/.test(file.text) ? ["folder"] : []),
    ...(file.installTime && (ast.calls.some((call) => MACHINE_FACT.test(call.callee)) || ast.members.some((site) => MACHINE_FACT.test(site.path))) ? ["machine"] : []),
  ];
  const kinds = new Set([...identity.map((fact) => fact.kind.replace(/^os\./, "")), ...context.map((kind) => kind.replace(/^os\./, ""))]);
  return identity.length === 0 ? undefined : { identity: identity[0]!.node, kinds: kinds.size };
}

/** Each command of each process call's command line (`hostname && pwd && whoami` is three) that matches. */
function shellFacts(file: FileContext, pattern: RegExp): Array<{ call: CallSite; command: string }> {
  return processCalls(file).flatMap((call) => commandLine(file, call).split(/&&|\|\||;|\|/).filter((command) => pattern.test(command)).map((command) => ({ call, command })));
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
  const secret = textMatch(file, TEXT_SECRET);
  const sender = secret === undefined ? undefined : textMatch(file, TEXT_SENDER);
  if (secret !== undefined && sender !== undefined) {
    report({ severity: atInstallTime("high", file.installTime), message: "a script reads credentials or the environment and sends them with curl, wget or nc", offset: secret });
  }
  if (offset !== undefined) report({ severity: atInstallTime("medium", file.installTime), message: "names a host that collects data anonymously (webhook, paste site, tunnel)", offset });
}

/** In shell and batch scripts: `cat ~/.ssh/id_rsa`, `$(env)`, `printenv |`, `%USERPROFILE%\.npmrc`. */
export const TEXT_SECRET = /(?:~|\$\{?HOME\}?|%USERPROFILE%|\$env:USERPROFILE)[\\/]\.(?:ssh|aws[\\/]credentials|npmrc|docker[\\/]config\.json|kube[\\/]config|git-credentials|netrc|config[\\/]gh)|\bid_(?:rsa|ed25519|ecdsa)\b|\$\((?:env|printenv)\)|`(?:env|printenv)`|\b(?:env|printenv)\s*\|/;
const TEXT_SENDER = /\b(?:curl|wget|nc|ncat|Invoke-WebRequest|Invoke-RestMethod|iwr|irm)\b/;
