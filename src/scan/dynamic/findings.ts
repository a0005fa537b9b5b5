import type { SinkholeExchange } from "../../net/sinkhole/exchange.js";
import type { Finding, Severity } from "../types.js";
import { findHoneytokens, findHoneytokensInHost, type Sighting } from "./find-tokens.js";
import type { Honeytoken } from "./honeytokens.js";
import type { Observation } from "./observe.js";

/** A honeytoken in one exchange, and where in it. */
export interface Leak {
  exchange: SinkholeExchange;
  token: Honeytoken;
  /** "body", "URL", "header Authorization", "host name", "TLS server name", "bytes". */
  where: string;
  encoding: string;
}

const MAX_FINDINGS_PER_RULE = 12;
const MAX_EVIDENCE = 480;

/**
 * What the package did, as findings under `behaviour/...` rules, weighed on
 * the static scan's scale. What decides "malicious" is proof, not
 * resemblance: a planted secret leaving for a host that is not its own, a
 * downloaded stage that ran, a remote shell answering. A download alone, a
 * build, a failing script are context.
 */
export function behaviourFindings(observation: Observation, entry = "index.js"): Finding[] {
  const at = (exchange: SinkholeExchange): { step: string; file: string } => stepOfExchange(observation, exchange, entry);
  const leaks = findLeaks(observation.exchanges, observation.tokens);
  return [
    ...theft(leaks, at),
    ...credentialUse(leaks, at),
    ...stages(observation),
    ...remoteShell(observation, at),
    ...persistence(observation),
    ...homeTampering(observation),
    ...leftRunning(observation),
    ...directNetwork(observation),
    ...network(observation, at),
    ...notObserved(observation),
  ];
}

/** Every honeytoken in every exchange: host name, URL, headers, body. */
export function findLeaks(exchanges: readonly SinkholeExchange[], tokens: readonly Honeytoken[]): Leak[] {
  const leaks: Leak[] = [];
  for (const exchange of exchanges) {
    const add = (where: string, sightings: Sighting[]): void => {
      for (const s of sightings) if (!leaks.some((l) => l.exchange === exchange && l.token.id === s.token.id)) leaks.push({ exchange, token: s.token, where, encoding: s.encoding });
    };
    add("host name", findHoneytokensInHost(exchange.host, tokens));
    if (exchange.sni && exchange.sni !== exchange.host) add("TLS server name", findHoneytokensInHost(exchange.sni, tokens));
    if (exchange.target) add("URL", findHoneytokens(Buffer.from(exchange.target, "latin1"), tokens));
    for (const [name, value] of exchange.headers ?? []) add(`header ${name.slice(0, 40)}`, findHoneytokens(Buffer.from(value, "latin1"), tokens));
    const encoding = exchange.headers?.find(([name]) => name.toLowerCase() === "content-encoding")?.[1];
    add(exchange.kind === "raw" ? "bytes" : "body", findHoneytokens(exchange.sent, tokens, { contentEncoding: encoding }));
  }
  return leaks;
}

export function isOwnHost(host: string, token: Honeytoken): boolean {
  return token.ownHosts.some((own) => (own.startsWith(".") ? host.endsWith(own) : host === own));
}

function theft(leaks: readonly Leak[], at: (e: SinkholeExchange) => { step: string; file: string }): Finding[] {
  const stolen = leaks.filter((leak) => !isOwnHost(leak.exchange.host, leak.token));
  return byExchange(stolen).slice(0, MAX_FINDINGS_PER_RULE).map(([exchange, found]) => {
    const { step, file } = at(exchange);
    const what = found.length >= 4 ? `${found.length} planted secrets (${found.map((l) => l.token.label).slice(0, 4).join(", ")}, …): the environment or the home folder wholesale` : found.map((l) => l.token.label).join(", ");
    return finding("behaviour/credential-theft", "critical", file,
      `Sent ${what} to ${exchange.host} ${step}: planted, random values that exist nowhere else`,
      `${whereFound(found)} → ${requestLine(exchange)}`);
  });
}

/** "env-NPM_TOKEN, env-GH_TOKEN in URL (hex); npmrc-token in body (base64)": grouped, so many tokens stay short. */
function whereFound(leaks: readonly Leak[]): string {
  const groups = new Map<string, string[]>();
  for (const leak of leaks) {
    const key = `${leak.where}${leak.encoding === "plain" ? "" : ` (${leak.encoding})`}`;
    groups.set(key, [...(groups.get(key) ?? []), leak.token.id]);
  }
  return [...groups].map(([where, ids]) => `${ids.join(", ")} in ${where}`).join("; ");
}

/** A secret sent to its own service (the npm token to the registry): a worm's first step, or a tool doing its job. */
function credentialUse(leaks: readonly Leak[], at: (e: SinkholeExchange) => { step: string; file: string }): Finding[] {
  const used = leaks.filter((leak) => isOwnHost(leak.exchange.host, leak.token));
  return byExchange(used).slice(0, MAX_FINDINGS_PER_RULE).map(([exchange, found]) => {
    const { step, file } = at(exchange);
    const writes = !["GET", "HEAD", undefined].includes(exchange.method);
    const identity = /\/-\/whoami|\/-\/npm\/v1\/(?:user|tokens)|\/-\/user\/|^\/user(?:\/|$|\?)|\/graphql|\/actions\/(?:secrets|runners)/.test(exchange.target ?? "");
    const severity: Severity = writes || identity ? "high" : "medium";
    return finding("behaviour/credential-use", severity, file,
      `Used ${found.map((l) => l.token.label).join(", ")} at ${exchange.host} ${step}${writes ? " to change something (publish, create, push)" : identity ? " to ask whose it is" : ""}`,
      `${whereFound(found)} → ${requestLine(exchange)}`);
  });
}

function stages(observation: Observation): Finding[] {
  return observation.stagesRun.map((kind) => {
    const served = observation.stagesServed.filter((s) => s.kind === kind);
    const name = kind === "js" ? "JavaScript" : kind === "sh" ? "shell script" : "Python script";
    // JavaScript evaluated from a download is a loader; a downloaded program
    // that is run is also what some binary installers do.
    return finding("behaviour/second-stage", kind === "js" ? "critical" : "high", "package.json",
      `Ran code it downloaded: the sinkhole answered with a harmless ${name} and it ran`,
      clip(served.map((s) => `${s.method} ${s.host}${s.target}`).join("; ") || "(served over a channel that was not recorded)"));
  });
}

function remoteShell(observation: Observation, at: (e: SinkholeExchange) => { step: string; file: string }): Finding[] {
  const answered = observation.exchanges.filter((e) => e.kind === "raw" && e.probe && e.sent.toString("latin1").includes(observation.probe.answer));
  const raw = observation.exchanges.filter((e) => e.kind === "raw" && !answered.includes(e));
  return [
    ...answered.slice(0, MAX_FINDINGS_PER_RULE).map((e) => finding("behaviour/reverse-shell", "critical", at(e).file,
      `Gave ${e.host}:${e.port} a shell ${at(e).step}: a command the sinkhole sent was run and its result came back`,
      clip(`sinkhole sent ${JSON.stringify(e.probe)}, got ${JSON.stringify(printable(e.sent))}`))),
    ...raw.slice(0, MAX_FINDINGS_PER_RULE).map((e) => finding("behaviour/raw-channel", e.sentBytes > 0 ? "medium" : "low", at(e).file,
      `Opened a connection to ${e.host}:${e.port} ${at(e).step} that speaks neither HTTP nor TLS`,
      clip(`${e.via} ${e.host}:${e.port}, ${e.sentBytes} bytes: ${JSON.stringify(printable(e.sent))}`))),
  ];
}

/**
 * Files that make code run later: shell start-up files, SSH's authorized
 * keys, autostart and systemd user units, npm and git configuration, editor
 * and agent settings. In the fake home (diffed) and in the project folder
 * (persistence.ts's watch list: git hooks, workflows, husky, .envrc …).
 */
const PERSISTENCE_PATHS = [
  /^\.(?:bashrc|bash_profile|bash_login|bash_logout|profile|zshrc|zshenv|zprofile|zlogin|xinitrc|xprofile|xsessionrc|pam_environment|npmrc|yarnrc|yarnrc\.yml|gitconfig|vimrc|tmux\.conf|inputrc|curlrc|wgetrc)$/,
  /^\.ssh\/(?:authorized_keys2?|config|rc|environment)$/,
  /^\.config\/(?:autostart|systemd\/user|environment\.d|fish|git|nvim|Code\/User|upstart)\//,
  /^\.local\/share\/systemd\//, /^\.local\/bin\//, /^Library\/LaunchAgents\//, /^\.(?:claude|cursor|vscode|git-templates)\//,
];

function persistence(observation: Observation): Finding[] {
  const home = observation.homeChanges.filter((c) => c.change !== "deleted" && PERSISTENCE_PATHS.some((p) => p.test(c.path)));
  return [
    ...home.map((c) => finding("behaviour/persistence", "high", "package.json", `${c.change === "created" ? "Created" : "Changed"} ~/${c.path}, which runs code later, outside any sandbox`, `~/${c.path}`)),
    ...observation.projectPersistence.map((c) => finding("behaviour/persistence", "high", "package.json", `${c.change === "created" ? "Created" : "Changed"} ${c.path} in the project it was installed into, which runs code later`, c.path)),
  ].slice(0, MAX_FINDINGS_PER_RULE);
}

function homeTampering(observation: Observation): Finding[] {
  const deleted = observation.homeChanges.filter((c) => c.change === "deleted");
  const changed = observation.homeChanges.filter((c) => c.change === "changed" && c.kind === "file" && !PERSISTENCE_PATHS.some((p) => p.test(c.path)));
  const created = observation.homeChanges.filter((c) => c.change === "created" && !PERSISTENCE_PATHS.some((p) => p.test(c.path)));
  const list = (changes: typeof deleted): string => clip(changes.map((c) => `~/${c.path}`).join(", "));
  return [
    ...(deleted.length > 0 ? [finding("behaviour/destructive", deleted.length >= 5 ? "critical" : "high", "package.json", `Deleted ${deleted.length} file${deleted.length === 1 ? "" : "s"} of the home folder`, list(deleted))] : []),
    ...(changed.length > 0 ? [finding("behaviour/home-tampering", "medium", "package.json", `Changed ${changed.length} file${changed.length === 1 ? "" : "s"} of the home folder (credentials, browser or wallet stores)`, list(changed))] : []),
    ...(created.length > 0 ? [finding("behaviour/files-written", "low", "package.json", `Wrote ${created.length} new entr${created.length === 1 ? "y" : "ies"} into the home folder`, list(created))] : []),
    ...(!observation.homeChangesComplete ? [finding("behaviour/files-written", "medium", "package.json", "Filled the home folder past what cordon compares (20,000 entries): changes past that are not seen", "")] : []),
  ];
}

function leftRunning(observation: Observation): Finding[] {
  if (observation.leftRunning.length === 0) return [];
  return [finding("behaviour/background-process", "medium", "package.json",
    `Left ${observation.leftRunning.length} process${observation.leftRunning.length === 1 ? "" : "es"} running after its install scripts and entry point had ended`,
    clip(observation.leftRunning.map((p) => p.command).join("; ")))];
}

function directNetwork(observation: Observation): Finding[] {
  if (observation.directAttempts === 0) return [];
  return [finding("behaviour/direct-network", "medium", "package.json",
    `Tried ${observation.directAttempts} time${observation.directAttempts === 1 ? "" : "s"} to reach the network around the proxy (raw sockets, DNS, a client that ignores proxy settings); where to is not known`,
    `${observation.directAttempts} packets with no route`)];
}

/** Context: each host contacted, and TLS the client would not finish with the sinkhole. */
function network(observation: Observation, at: (e: SinkholeExchange) => { step: string; file: string }): Finding[] {
  const byHost = new Map<string, SinkholeExchange[]>();
  for (const exchange of observation.exchanges) byHost.set(exchange.host, [...(byHost.get(exchange.host) ?? []), exchange]);
  return [...byHost].slice(0, 32).map(([host, exchanges]) => {
    const first = exchanges[0] as SinkholeExchange;
    const refused = exchanges.every((e) => e.kind === "tls-refused");
    return finding("behaviour/network", refused ? "low" : "info", at(first).file,
      refused
        ? `Contacted ${host} ${at(first).step} but refused the sinkhole's certificate (a pinned or private trust store): what it sent is not known`
        : `Contacted ${host} ${at(first).step} (${exchanges.length} request${exchanges.length === 1 ? "" : "s"}, ${exchanges.reduce((n, e) => n + e.sentBytes, 0)} bytes sent)`,
      clip(exchanges.slice(0, 3).map(requestLine).join("; ")));
  });
}

function notObserved(observation: Observation): Finding[] {
  const last = observation.steps[observation.steps.length - 1]?.event;
  const pending = observation.plannedSteps.filter((step) => !observation.steps.some((s) => s.event === step));
  return [
    ...(observation.timedOut ? [finding("behaviour/not-observed", "info", "package.json", `The observation reached its time limit${last ? ` after ${last}` : ""}; ${pending.join(", ") || "what came later"} ${pending.length > 1 ? "were" : "was"} not seen to the end`, pending.join(", "))] : []),
    ...observation.notRun.map((text) => finding("behaviour/not-observed", "info", "binding.gyp", "Not run while observing", text)),
  ];
}

/** The step an exchange happened in, by when cordon read each step's end (advisory, for wording only). */
function stepOfExchange(observation: Observation, exchange: SinkholeExchange, entry: string): { step: string; file: string } {
  const step = observation.steps.find((s) => exchange.startedAt <= s.endedAt)?.event ?? observation.plannedSteps[observation.steps.length];
  if (step === undefined) return { step: "after its steps had ended", file: "package.json" };
  if (step === "load") return { step: "when its entry point was loaded", file: entry };
  return { step: `during ${step}`, file: "package.json" };
}

function byExchange(leaks: readonly Leak[]): [SinkholeExchange, Leak[]][] {
  const grouped = new Map<SinkholeExchange, Leak[]>();
  for (const leak of leaks) grouped.set(leak.exchange, [...(grouped.get(leak.exchange) ?? []), leak]);
  return [...grouped];
}

export function requestLine(exchange: SinkholeExchange): string {
  if (exchange.kind === "raw" || exchange.kind === "tls-refused") return `${exchange.kind} ${exchange.host}:${exchange.port}`;
  const scheme = exchange.kind === "https" ? "https" : "http";
  const port = (scheme === "https" && exchange.port === 443) || (scheme === "http" && exchange.port === 80) ? "" : `:${exchange.port}`;
  return clip(`${exchange.method ?? "?"} ${scheme}://${exchange.host}${port}${exchange.target ?? ""}`, 120);
}

function finding(rule: string, severity: Severity, file: string, message: string, evidence: string): Finding {
  return { rule, severity, file, line: 0, column: 0, message, evidence: clip(evidence) };
}

function printable(bytes: Buffer): string {
  return bytes.subarray(0, 120).toString("latin1").replace(/[^\x20-\x7e]/g, ".");
}

function clip(text: string, max = MAX_EVIDENCE): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
