import { installScriptsOf } from "../package-meta.js";
import type { Severity } from "../types.js";
import { packageFinding, type PackageContext, type PackageRule } from "./rule.js";
import { downloadsThenRuns } from "./download-execute.js";
import { DROP_HOST } from "./signals.js";

interface CommandShape {
  /** A regular expression, or any test over the command line. */
  pattern: { test(command: string): boolean };
  severity: Severity;
  why: string;
}

/** What an install command does, worst first. The first match wins. */
const SHAPES: CommandShape[] = [
  {
    pattern: /\b(?:host|nslookup|dig|drill|curl|wget|ping|nc)\b[^|;&\n]*(?:\$\((?:hostname|whoami|pwd|id|uname)\b[^)]*\)|`(?:hostname|whoami|pwd|id|uname)\b[^`]*`|\$\{?(?:HOSTNAME|USER|USERNAME|PWD|HOME)\b)/,
    severity: "critical", why: "sends host facts (hostname, user, folder) out in a request or DNS query",
  },
  { pattern: DROP_HOST, severity: "critical", why: "contacts a data-collection host (webhook, tunnel, OAST domain)" },
  { pattern: /\b(?:env|printenv)\b\s*\|\s*(?:curl|wget|nc)\b|\b(?:curl|wget)\b[^|;&\n]*(?:\$\((?:env|printenv)\)|@(?:~|\$HOME|\/etc)\/)/, severity: "critical", why: "sends the environment or a local file with curl or wget" },
  { pattern: /\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:(?:ba|z|da)?sh|python[23]?|perl|ruby|node|php)\b|\b(?:iwr|irm|Invoke-WebRequest)\b[^|]*\|\s*iex\b/i, severity: "critical", why: "pipes a download into a shell" },
  { pattern: /base64\s+(?:-d|--decode)[^|]*\|\s*(?:ba)?sh\b|\beval\s+"?\$\(/i, severity: "critical", why: "decodes and runs hidden shell code" },
  { pattern: { test: downloadsThenRuns }, severity: "critical", why: "downloads a program and runs it" },
  { pattern: /\b(?:curl|wget|Invoke-WebRequest|iwr)\b/i, severity: "high", why: "downloads at install time" },
  { pattern: /\b(?:nohup|setsid|disown)\b|\bstart\s+\/b\b|&\s*$/i, severity: "high", why: "leaves a background process running after the install" },
  { pattern: /\bnode(?:js)?\s+(?:-\S+\s+)*[\w./\\-]+\.(?:md|markdown|txt|json|png|jpe?g|gif|ico|css|html?|ya?ml|svg|lock|log|dat)\b/i, severity: "high", why: "runs a file disguised as documentation or data with node" },
  { pattern: /\bnode(?:js)?\s+(?:-\S+\s+)*(?:-e|--eval|-p|--print)\b/, severity: "medium", why: "runs inline code with node -e" },
  { pattern: /\b(?:python3?|perl|ruby|bun|deno)\s+(?:-c|-e|x|run)?\b/, severity: "medium", why: "runs a second interpreter" },
];

/**
 * `node -e "try{require('./postinstall')}catch(e){}"` (core-js, nx): inline
 * code that only loads one of the package's files, which is then analyzed
 * as install-time code on its own.
 */
const REQUIRE_WRAPPER = /^\s*node\s+-e\s+(["'])\s*(?:try\s*\{\s*)?require\(\s*\\?['"]\.{1,2}\/[\w./-]+\\?['"]\s*\);?\s*(?:\}\s*catch\s*(?:\(\s*\w*\s*\))?\s*\{\s*\})?\s*\1\s*$/;

/** Commands that only build the package's own native code or print a message. */
const ROUTINE = /^(?:node-gyp(?:-build)?\s+(?:rebuild|build|configure)|prebuild-install(?:\s+\|\|\s+node-gyp\s+rebuild)?(?:\s+.*)?|node-gyp-build(?:-optional-packages)?|opencollective-postinstall|husky(?:\s+install)?|echo\s.*|exit\s+0|true)$/;

/**
 * Install-time code runs with the user's full rights the moment they type
 * `npm install`, before anyone has read it. Every lifecycle script is listed
 * (low) so a review shows it; its command weighs more when it downloads,
 * pipes to a shell or detaches. `binding.gyp` runs too: npm calls node-gyp
 * for it even without a script, and gyp's `<!(...)` expands shell commands.
 */
export const installScripts: PackageRule = {
  id: "install-scripts",
  summary: "lifecycle scripts, implicit node-gyp, and shell commands in binding.gyp",
  check(pkg) {
    const findings = installScriptsOf(pkg.manifest).map(({ name, command }) => {
      const shape = REQUIRE_WRAPPER.test(command) ? undefined : SHAPES.find((candidate) => candidate.pattern.test(command));
      const severity = shape?.severity ?? (ROUTINE.test(command.trim()) ? "info" : "low");
      return packageFinding("install-scripts", severity, `"${name}" script ${shape ? shape.why : "runs at install time"}`, `${name}: ${command}`);
    });
    if (pkg.bindingGyp !== undefined) findings.push(...gypFindings(pkg));
    return findings;
  },
};

const ROUTINE_GYP = /^node\s+-[pe]\s+['"]?require\(['"][\w@/.-]+['"]\)(?:\.\w+)*['"]?$|^node\s+-p\s+['"]?process\.\w+(?:\.\w+)*['"]?$|^(?:pkg-config|uname|echo)\b[^|;&`$]*$|^python3?\s+-c\s+['"]import\s+sys;\s*print\(sys\.\w+\)['"]$/;

const GYP_DANGER = /child_process|exec|spawn|https?|fetch|net\b|dns|eval|Function|Buffer|base64|writeFile|curl|wget/;

function gypFindings(pkg: PackageContext) {
  const hasInstallScript = installScriptsOf(pkg.manifest).some(({ name }) => name === "install" || name === "preinstall");
  const findings = hasInstallScript ? [] : [packageFinding("install-scripts", "low", "binding.gyp makes npm run node-gyp at install time (no script needed)", "binding.gyp", "binding.gyp")];
  for (const expansion of gypExpansions(pkg.bindingGyp!)) {
    const command = expansion.command.replace(/\\(["'\\])/g, "$1").trim();
    const shape = ROUTINE_GYP.test(command) ? undefined : SHAPES.find((candidate) => candidate.pattern.test(command));
    // gyp files ask node for versions and include paths all the time; inline
    // code weighs "high" only when it reaches for processes, network or decoding.
    const inlineNode = shape?.severity === "medium" && !GYP_DANGER.test(command);
    const severity: Severity = shape ? (inlineNode ? "low" : shape.severity === "medium" ? "high" : shape.severity) : ROUTINE_GYP.test(command) ? "info" : "medium";
    findings.push(packageFinding("install-scripts", severity, `binding.gyp runs a shell command while building${shape ? `: it ${shape.why}` : ""}`, expansion.text, "binding.gyp"));
  }
  return findings;
}

/** gyp's `<!(cmd)` and `<!@(cmd)`, with nested parentheses balanced. */
function gypExpansions(gyp: string): Array<{ text: string; command: string }> {
  const found: Array<{ text: string; command: string }> = [];
  for (let at = gyp.indexOf("<!"); at !== -1 && found.length < 100; at = gyp.indexOf("<!", at + 2)) {
    const open = gyp.indexOf("(", at);
    if (open < 0 || open > at + 3) continue;
    let depth = 0;
    let end = open;
    for (; end < gyp.length; end++) {
      if (gyp[end] === "(") depth++;
      else if (gyp[end] === ")" && --depth === 0) break;
    }
    found.push({ text: gyp.slice(at, end + 1), command: gyp.slice(open + 1, end) });
  }
  return found;
}
