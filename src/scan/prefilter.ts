/**
 * Decides from a file's bytes alone whether any file rule could report
 * something that matters, so that most of a real node_modules is never
 * decoded, let alone parsed. It mirrors the rules: a token that fires a rule
 * on its own (an obfuscator's `_0x` names, a drop host, worm strings, a
 * pipe to a shell) lets a file through alone; a network client lets it
 * through only together with something to send or run (named secrets,
 * credential paths, host identity, eval, chmod, a geolocation service),
 * because a network call by itself is not a finding. `process.env.NODE_ENV`
 * alone does not count: nearly every file has it.
 *
 * Speed: one pass of a multi-needle automaton (needles.ts) over the bytes
 * finds which groups of literal hints occur; the precise expressions below
 * run only on the few files with hints, over a latin1 string (one byte one
 * character: every token here is ASCII).
 *
 * A rule that starts looking for a new token must add it here; the rule
 * tests run every malicious fixture through this filter to catch a miss.
 * Files that an install script runs are always parsed.
 */
import { NeedleSet } from "./needles.js";
import { DESTRUCTIVE_COMMAND } from "./rules/destructive.js";
import { PUBLIC_IP_SERVICE } from "./rules/exfiltration.js";
import { REVERSE_SHELL_COMMAND } from "./rules/reverse-shell.js";

const HINTS = new NeedleSet({
  standalone: [
    "_0x", "process.env)", "function(p,a,c,k,e,", " ".repeat(64),
    "webhook.site", "api/webhooks", "hooks.slack", "api.telegram", "pastebin", "paste.ee", "hastebin", "ghostbin", "requestbin", "pipedream", "beeceptor",
    "ngrok", "trycloudflare", "serveo", "localtunnel", "loca.lt", "interact.sh", "oast.", "burpcollaborator", "canarytokens", "dnslog", "ceye.io",
    "transfer.sh", "file.io", "ipinfo.io", "bashupload", "oastify", "requestcatcher", "hookbin", "ptsv2", "ptsv3", "postb.in", "webhook-test",
    "trufflehog", "trufflesecurity", "bun.sh", "setup_bun", "bun_environment", "oven-sh", "/-/whoami", "/-/npm/v1", "/-/v1/search", "user/repos", "workflows",
    "npm publish", "npm pack", "npm version", "curl", "wget", "iwr ", "irm ", "Invoke-WebRequest", "Invoke-RestMethod", "nslookup", "dig ", "Resolve-DnsName",
    "certutil", "bitsadmin", "xmrig", "XMRig", "stratum+", "donate-level", "rig-id", "cpu-max-threads-hint", "minexmr", "supportxmr", "nanopool",
    "moneroocean", "hashvault", "c3pool", "2miners", "f2pool", "herominers", "unmineable", "nicehash",
    ...Array.from({ length: 10 }, (_, digit) => `://${digit}`),
    "hookb.in", "mockbin", "requestinspector", "rentry.co", "termbin", "gofile.io", "catbox.moe", "anonfiles", "bore.pub", "localhost.run", "pagekite", "requestrepo", "webhook.cool",
  ],
  // Each group below has its own precise expression, run only when one of its needles is there.
  shell: [
    "/dev/tcp", "/dev/udp", "mkfifo", "socat", " -i >&", " -i 0>&", "-e /bin/", "-e cmd", "TCPClient", "import socket", "use Socket", "fsockopen", "-rsocket",
    "rm -", "shutdown", "poweroff", "halt ", "mkfs", "of=/dev/", ":|:&", "rd /s", "rmdir /s", "del /", "erase /", "format ",
    "| /bin/", "|/bin/", "| sh", "| bash", "| python", "| perl", "| node", "| ruby", "| php",
  ],
  stealer: [
    "Local Storage", "Login Data", "Local Extension Settings", "Local State", "discord_desktop_core", "wallet.dat", "WebhookClient", "{84}", "{27}",
    "key4.db", "logins.json", "cookies.sqlite", "Opera Software", "YandexBrowser", "Edge/User Data", "Edge\\\\User Data", "discordapp", "stringify(process)",
  ],
  publicIp: ["ipify", "ifconfig.", "icanhazip", "checkip.amazonaws", "ipecho", "myexternalip", "ident.me", "ipinfo.io", "ip-api.com", "wtfismyip", "api.myip"],
  // Credential files: parsed even without a network client, so that a
  // reader in one file and a collector in another meet (collector-and-secrets).
  credential: [".ssh", "id_rsa", "id_ed25519", ".aws", ".npmrc", ".docker", ".kube", "git-credentials", ".netrc"],
  envAlias: ["= process.env", "=process.env", "process['en", "process[\"en"],
  network: [
    "'http'", "\"http\"", "'https'", "\"https\"", "'node:http", "\"node:http", "'http2'", "\"http2\"", "'net'", "\"net\"", "'node:net'", "\"node:net\"",
    "'tls'", "\"tls\"", "'node:tls'", "\"node:tls\"", "'dns", "\"dns", "'node:dns", "\"node:dns", "fetch(", "XMLHttpRequest", "WebSocket",
    "axios", "'got'", "\"got\"", "needle", "undici", "superagent", "node-fetch", "curl", "wget",
    "http.get", "https.get", "http.request", "https.request", "dns.", "net.connect", "net.Socket",
  ],
  // Something worth sending or running. Credential paths and geolocation
  // services count only next to a network client: alone they weigh "medium" at most.
  payload: [
    ":process.env", ": process.env", "process.env[", "npm_package_",
    "TOKEN", "SECRET", "PASSWORD", "CREDENTIALS", "_KEY",
    "eval(", "eval (", "Function(", "Function (", "vm.", "'vm'", "\"vm\"", "node:vm", "_compile", "chmod", ".npmrc", ".hostname(", "userInfo(",
    "child_process", "resolvedOptions",
    ".ssh", "id_rsa", "id_ed25519", ".aws", ".docker", ".kube", "gh/hosts", "'gh'", "\"gh\"", ".netrc", "git-credentials", "gcloud", "User Data", ".mozilla",
    "Login Data", "Local Extension", "Web Data", "wallet.dat", "electrum", "Exodus", "ethereum", "keystore", "nkbihf", "bfnaelm", "solana",
    "ipgeolocation", "ip-api.com", "ipapi.co", "ipwho.is", "freegeoip", "geolocation-db", "api.2ip", "country.is",
    "os.hostname", "whoami", "networkInterfaces", "WebhookClient", "'env'", "\"env\"",
  ],
  childProcess: ["child_process"],
  program: [".exe", ".bat", ".cmd"],
  // A module of the package: a file that sends may get what it sends from one (exfiltration-across-files).
  localModule: ["require('./", "require(\"./", "require('../", "require(\"../", "from './", "from \"./", "from '../", "from \"../"],
  background: ["detached", "nohup", "setsid"],
  decipher: ["createDecipher"],
  codeRunner: ["eval", "Function"],
  evalCall: ["eval(", "Function("],
  decoder: ["atob", "fromCharCode", "Buffer.from", "unescape", "decodeURIComponent"],
  timeZone: ["resolvedOptions"],
  destructive: ["writeFile", "rmSync", ".rm(", "unlink", "truncate"],
  removal: ["rmSync", "rmdir", "rimraf", ".remove(", "removeSync", "emptyDir", ".rm("],
  home: ["homedir", "HOME", "USERPROFILE"],
});

const STANDALONE = new RegExp([
  String.raw`_0x[0-9a-fA-F]{3}`, String.raw`JSON\.stringify\(\s*(?:globalThis\.|global\.)?process\.env\s*\)`, String.raw`eval\s*\(\s*function\s*\(\s*p\s*,`, String.raw`[^ \t][ \t]{150}`,
  String.raw`oastify\.com|requestcatcher\.com|hookbin\.com|ptsv[23]\.com|postb\.in|webhook-test\.com|\b(?:nslookup|dig|Resolve-DnsName)\s|webhook\.site|api\/webhooks|hooks\.slack|api\.telegram|pastebin|paste\.ee|hastebin|ghostbin|requestbin|pipedream|beeceptor|ngrok|trycloudflare|serveo|localtunnel|loca\.lt|interact\.sh|\boast\.(?:fun|me|pro|live|site|online)|burpcollaborator|canarytokens|dnslog|ceye\.io|transfer\.sh|\bfile\.io\b|ipinfo\.io|bashupload|hookb\.in|mockbin\.|requestinspector|rentry\.co|termbin|gofile\.io|catbox\.moe|anonfiles|bore\.pub|localhost\.run|pagekite|requestrepo|webhook\.cool`,
  String.raw`:\/\/(?!(?:127|10|0)\.|192\.168\.)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`,
  String.raw`trufflehog|trufflesecurity|bun\.sh|setup_bun|bun_environment|oven-sh|\/-\/(?:whoami|npm\/v1|v1\/search)|user\/repos|\.github[\\/]workflows|\bnpm\s+(?:publish|pack|version)\b`,
  String.raw`\bcertutil(?:\.exe)?\s+-urlcache|\bbitsadmin\b|\b(?:xmrig|XMRig|XMRIG)\b|stratum\+|--(?:donate-level|rig-id|cpu-max-threads-hint)\b|(?:minexmr|supportxmr|nanopool|moneroocean|hashvault|c3pool|2miners|f2pool|herominers|unmineable|nicehash)\.`,
  String.raw`\b(?:curl|wget)\b[^\n]{0,200}\|\s*(?:sudo\s+)?\w*sh\b|\b(?:iwr|irm|Invoke-WebRequest|Invoke-RestMethod)\b[^\n]{0,200}\|\s*(?:iex|Invoke-Expression)\b`,
].join("|"));

const SHELL_COMMAND = new RegExp([
  REVERSE_SHELL_COMMAND.source, DESTRUCTIVE_COMMAND.source,
  String.raw`\b(?:curl|wget)\b[^\n]{0,200}\|\s*(?:sudo\s+)?(?:\w*sh|python[23]?|perl|ruby|node|php)\b`,
].join("|"), "i");
const STEALER = /key4\.db|logins\.json|cookies\.sqlite|Opera Software|YandexBrowser|Edge[\\/]+User Data|Local Storage|Login Data|Local Extension Settings|Local State|discord_desktop_core|wallet\.dat|WebhookClient|\{2[57]\}|\{84\}|discordapp\.(?:com|net)\/attachments|JSON\.stringify\(\s*process\s*\)/;
const CREDENTIAL = /\.ssh[\\/]|['"]\.(?:ssh|aws|docker|kube)['"]|\bid_(?:rsa|ed25519)\b|\.aws[\\/]credentials|\.npmrc\b|\.docker[\\/]config|\.kube[\\/]config|git-credentials|\.netrc\b/;

const NETWORK = /['"](?:node:)?(?:https?|http2|net|tls|dns(?:\/promises)?|axios|got|needle|undici|superagent|node-fetch|cross-fetch|ws)['"]|\bfetch\(|new\s+(?:XMLHttpRequest|WebSocket)\b|\baxios(?:\.\w+)?\(|\b(?:curl|wget)\b|\b(?:https?|dns|net)\.(?:request|get|lookup|resolve\w*|connect|Socket)\b/;
const PAYLOAD = new RegExp([
  String.raw`\b(?:exec|execSync|spawn|spawnSync)\(\s*['"](?:env|printenv|whoami|hostname)['"]`,
  String.raw`\bos\.hostname\b|\bwhoami\b|networkInterfaces|WebhookClient|:\s*process\.env\s*[,}\n]|process\.env\.\w*(?:TOKEN|SECRET|KEY|PASSWORD|CREDENTIALS|npm_package_)|process\.env\[|(?<![\w$.])eval\s*\(|(?<![\w$.])Function\s*\(|\bvm\.|['"](?:node:)?vm['"]|_compile\s*\(|chmod(?:Sync)?\s*\(|chmod\s+(?:\+x|[0-7]{3})|\.npmrc|\.hostname\s*\(\s*\)|userInfo\s*\(|child_process`,
  String.raw`\.ssh\b|id_rsa|id_ed25519|\.aws\b|\.docker\b|\.kube\b|\.config[\\/]gh|['"]gh['"]|\.netrc|git-credentials|gcloud|User Data|\.mozilla[\\/]firefox|Login Data|Local Extension|Web Data|wallet\.dat|electrum|Exodus|ethereum|keystore|nkbihf|bfnaelm|solana`,
  String.raw`ipgeolocation|ip-api\.com|ipapi\.co|ipwho\.is|freegeoip|geolocation-db|api\.2ip|country\.is`,
].join("|"));
/** The event-stream shape needs a decipher and either the host package's metadata or a compile step. */
const DECIPHER_USE = /npm_package_|_compile|(?<![\w$.])eval\s*\(|(?<![\w$.])Function\s*\(/;
/** `eval(atob(...))`, `new Function(Buffer.from(...))`: only direct nesting, which is what the rule recognises. */
const EVAL_OF_DECODED = /\b(?:eval|Function)\s*\(\s*(?:[\w$.]+\s*\(\s*)*(?:atob|Buffer\.from|String\.fromCharCode|unescape|decodeURIComponent)\b/;

const SMALL_SENDER_BYTES = 32 * 1024;
const SMALL_CARRIER_BYTES = 256 * 1024;

/** A long hex or base64 run: code carried as data (hidden-code.ts decodes it when the file also evaluates something). */
const LONG_ENCODED = /(?:[0-9a-fA-F]{2}){64}|[A-Za-z0-9+/]{128}/;

/**
 * `var data = process.env || {}` … `JSON.stringify(data)`: the env under a
 * local name, then serialized. Checked by name, because `const env =
 * process.env` alone is in half the bundles that also hold an HTTP client.
 */
function serializesEnvAlias(text: string): boolean {
  // Names of three characters or more: minifiers reuse `e` and `t` in every function, hand-written payloads do not.
  for (const match of text.matchAll(/\b(?:var|let|const)\s+([\w$]{3,})\s*=\s*(?:globalThis\.|global\.)?process(?:\.env\b|\[\s*['"]en)/g)) {
    const name = match[1]!.replace(/\$/g, "\\$");
    if (new RegExp(`\\b(?:stringify|inspect|encode)\\(\\s*${name}\\s*[,)]`).test(text)) return true;
  }
  return false;
}

export function mayMatter(text: string): boolean {
  return mayMatterBytes(Buffer.from(text, "utf8"));
}

export function mayMatterBytes(bytes: Uint8Array): boolean {
  const found = HINTS.scan(bytes);
  if (found === 0) return false;
  const has = (group: Parameters<typeof HINTS.bit>[0]): boolean => (found & HINTS.bit(group)) !== 0;
  let decoded: string | undefined;
  const text = (): string => (decoded ??= Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1"));
  if (has("standalone") && STANDALONE.test(text())) return true;
  if (has("shell") && SHELL_COMMAND.test(text())) return true;
  if (has("stealer") && STEALER.test(text())) return true;
  if (has("credential") && CREDENTIAL.test(text())) return true;
  if (has("publicIp") && PUBLIC_IP_SERVICE.test(text())) return true;
  if (has("envAlias") && has("network") && serializesEnvAlias(text())) return true;
  if (has("network") && has("payload") && NETWORK.test(text()) && PAYLOAD.test(text())) return true;
  // Small files only: a sender that loads a collecting helper is a short hand-written module, not a bundle.
  if (bytes.length < SMALL_SENDER_BYTES && has("network") && has("localModule") && NETWORK.test(text())) return true;
  if (has("childProcess") && (has("background") || has("program"))) return true;
  if (has("decipher") && DECIPHER_USE.test(text())) return true;
  if (has("codeRunner") && has("decoder") && EVAL_OF_DECODED.test(text())) return true;
  // Below a quarter megabyte: payloads carried encoded are small; bundles with base64 fonts and wasm are not.
  if (bytes.length < SMALL_CARRIER_BYTES && (has("evalCall") || has("childProcess")) && has("decoder") && LONG_ENCODED.test(text())) return true;
  if (has("removal") && has("home")) return true;
  return has("timeZone") && has("destructive");
}
