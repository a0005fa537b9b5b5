import { HOLE, staticString } from "../ast/static-value.js";
import { atInstallTime, type FileContext, type FileRule } from "./rule.js";
import type { CallSite } from "../ast/facts.js";
import type { Node } from "../ast/walk.js";
import { DROP_HOST, RAW_IP_URL, commandLine, downloadCommands, networkCalls, processCalls, stringsMatching, textMatch } from "./signals.js";

/** `curl … | sh`, `wget -O- … | bash`, `iwr … | iex`: run whatever a server sends. */
const PIPE_TO_SHELL = /\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:(?:ba|z|da)?sh|python[23]?|perl|ruby|node|php)\b|\b(?:iwr|Invoke-WebRequest|irm|Invoke-RestMethod)\b[^|;\n]*\|\s*(?:iex|Invoke-Expression)\b/i;
const CODE_RUNNER = /^(?:eval|Function|vm\.runIn(?:New|This)?Context|vm\.Script|vm\.compileFunction|module\._compile|Module\._compile)$|\._compile$/;
const CHMOD_CALLEE = /^fs(?:\.promises)?\.(?:chmod|chmodSync)$/;

/**
 * Downloads something and runs it. A pipe to a shell is conclusive on its own;
 * otherwise a network call plus code evaluation, or a download plus making a
 * file executable plus starting a process, in one file. Native-binary
 * installers (esbuild's fallback download) do the last one legitimately,
 * which is why that shape weighs only "medium" outside install time.
 */
export const downloadExecute: FileRule = {
  id: "download-execute",
  summary: "downloads code or a program and runs it (curl | sh, fetch then eval, download then chmod +x and spawn)",
  check(file, report) {
    const piped = stringsMatching(file, PIPE_TO_SHELL)[0];
    const pipedOffset = file.ast ? undefined : textMatch(file, PIPE_TO_SHELL);
    if (piped || pipedOffset !== undefined) {
      report({ severity: atInstallTime("high", file.installTime), message: "pipes a download straight into a shell", ...(piped ? { node: piped.node } : { offset: pipedOffset! }) });
      return;
    }
    const chained = chainedCommand(file);
    if (chained) {
      // From a bare IP address there is not even a name to answer for it.
      const fromRawIp = /\b(?:curl|wget)\b[^\n]*?(?:https?:\/\/)?(?!(?:127|10|0)\.|192\.168\.)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/.test(chained.command);
      report({ severity: fromRawIp ? "critical" : atInstallTime("high", file.installTime), message: "downloads a program and runs it in one command line", ...chained.at });
      return;
    }
    if (!file.ast) {
      checkScriptText(file, report);
      return;
    }
    const downloads = [...networkCalls(file), ...downloadCommands(file)];
    const dropped = writtenThenRun(file, downloads.length > 0);
    if (dropped) {
      // Where esbuild's fallback writes into its own package folder and
      // runs `bin --version`, a dropper writes to /tmp, C:\, the home folder
      // or a temp folder, runs what it wrote with an interpreter, or writes a
      // batch file that downloads. Fetched from a raw IP or a drop host, the
      // last doubt is gone.
      const covert = stringsMatching(file, RAW_IP_URL).length > 0 || stringsMatching(file, DROP_HOST).length > 0;
      report({
        severity: !dropped.outside ? "medium" : covert ? "critical" : atInstallTime("high", file.installTime),
        message: dropped.outside ? "downloads a program to a temporary, home or system folder (or as a script) and runs it" : "writes a file and runs it after a download",
        node: dropped.node,
      });
      return;
    }
    if (downloads.length === 0) return;
    const loaded = evaluatesDownload(file);
    if (loaded) {
      // What runs is what the server sent: a loader, whatever the rest of the file does.
      report({ severity: "critical", message: "evaluates the body of a download as code (a loader)", node: loaded });
      return;
    }
    const evaluations = codeRunners(file);
    if (evaluations.length > 0) {
      // Bundles hold an HTTP client and a template compiler side by side; a
      // short hand-written script that does both is a loader.
      const small = file.text.length < SMALL_SCRIPT;
      report({ severity: atInstallTime(small ? "high" : "medium", file.installTime), message: "fetches from the network and evaluates code in the same file", node: evaluations[0]! });
      return;
    }
    const chmods = executableModes(file);
    const spawns = processCalls(file).filter((call) => !/^\s*(?:curl|wget)\b/.test(commandLine(file, call)));
    if (chmods.length > 0 && spawns.length > 0) {
      // Not escalated at install time: this is also how native-binary
      // installers fetch a missing platform build (esbuild's install.js).
      report({ severity: "medium", message: "downloads a file, makes it executable and starts a process", node: chmods[0]! });
    }
  },
};

/** A download, then one of its files started: `wget …/m.pl -P /var/tmp && perl /var/tmp/m.pl`, `curl -o /tmp/x … && chmod +x /tmp/x`. */
export function downloadsThenRuns(command: string): boolean {
  const segments = command.split(/&&|\|\||;|\n/);
  const at = segments.findIndex((segment) => /\b(?:curl|wget|Invoke-WebRequest|iwr)\b/i.test(segment));
  if (at < 0) return false;
  const fetched = new Set(segments[at]!.split(/[\s"'=]+/).map(baseName).filter((name) => name.length > 1 && !/^-|^(?:curl|wget)$/i.test(name)));
  return segments.slice(at + 1).some((segment) => {
    const words = segment.trim().split(/\s+/);
    const runs = /^(?:sudo|perl|python[23]?|ruby|node|php|(?:ba|z|da)?sh|start|open|cmd|powershell|rundll32|regsvr32|mshta|wscript|cscript|msiexec)$/i.test(words[0] ?? "") || /^(?:\.|\/|[A-Za-z]:)[\\/]/.test(words[0] ?? "");
    return runs && words.some((word) => fetched.has(baseName(word)));
  });
}

function baseName(word: string): string {
  return word.replace(/\\/g, "/").replace(/[?#].*$/, "").split("/").pop() ?? "";
}

function chainedCommand(file: FileContext): { at: { node: Node } | { offset: number }; command: string } | undefined {
  if (file.ast) {
    const call = processCalls(file).find((candidate) => downloadsThenRuns(commandLine(file, candidate)));
    if (call) return { at: { node: call.node }, command: commandLine(file, call) };
    const site = stringsMatching(file, /\b(?:curl|wget)\b/).find((candidate) => downloadsThenRuns(candidate.value));
    return site ? { at: { node: site.node }, command: site.value } : undefined;
  }
  let offset = 0;
  for (const line of file.text.split("\n")) {
    if (downloadsThenRuns(line)) return { at: { offset }, command: line };
    offset += line.length + 1;
  }
  return undefined;
}

const WRITE_CALLEE = /^fs(?:\.promises)?\.(?:writeFile|writeFileSync|createWriteStream|appendFile|appendFileSync)$|^fs-extra\.(?:outputFile|outputFileSync|writeFile|writeFileSync)$/;
/** Places outside the package where droppers put what they fetched. */
const OUTSIDE = /^(?:\/tmp\/|\/var\/tmp\/|\/dev\/shm\/|<tmp>|<home>|[A-Za-z]:[\\/]|%(?:TEMP|TMP|APPDATA|LOCALAPPDATA|USERPROFILE)%|\$\{?(?:TMPDIR|HOME)\}?)/i;
const INTERPRETER = /^\s*(?:node|sh|bash|python[23]?|perl|ruby|php|powershell(?:\.exe)?|cmd(?:\.exe)?\s+\/c|start|wscript|cscript)\b/i;

/**
 * A file written and then started by the same file: the write's target
 * and the process's command name the same variable or the same path.
 */
function writtenThenRun(file: FileContext, downloads: boolean): { node: Node; outside: boolean } | undefined {
  const ast = file.ast!;
  const processes = processCalls(file);
  const writes = ast.calls.filter((call) => WRITE_CALLEE.test(call.callee));
  for (const write of writes) {
    const target = write.args[0];
    if (!target) continue;
    // A batch or shell script written out with a download in it is a download, wherever it lands.
    const dropper = TEXT_DOWNLOAD.test(ast.stringOf(write.args[1]) ?? "");
    if (!downloads && !dropper) continue;
    const name = target.type === "Identifier" ? target.name : undefined;
    const path = pathOf(file, target);
    const run = processes.find((call) => (name !== undefined && mentions(call.args[0], name)) || (path !== undefined && !path.includes(HOLE) && commandLine(file, call).includes(path)));
    // `require(dest)` of what was just written runs it as surely as `node dest`.
    const required = name === undefined ? undefined : ast.calls.find((call) => call.callee === "require" && mentions(call.args[0], name));
    if (required) return { node: required.node, outside: true };
    if (!run) continue;
    const outside = dropper || (path !== undefined && OUTSIDE.test(path)) || INTERPRETER.test(commandLine(file, run));
    return { node: run.node, outside };
  }
  // The download written through a helper (`download(url, dest)`), then a
  // program started from a temporary or home folder.
  if (!downloads || writes.length === 0) return undefined;
  const started = processes.find((call) => {
    const path = call.args[0] ? pathOf(file, call.args[0]) : undefined;
    return path !== undefined && OUTSIDE.test(path) && EXECUTABLE.test(path);
  });
  return started ? { node: started.node, outside: true } : undefined;
}

/** Below this size a file is one hand-written script, not a bundle of libraries. */
const SMALL_SCRIPT = 8192;

const EXECUTABLE = /\.(?:exe|scr|bat|cmd|ps1|vbs|sh|py|pl|jar|msi)$/i;

/** `const res = await axios.get(u); eval(res.data)`: what is evaluated was just downloaded. */
function evaluatesDownload(file: FileContext): Node | undefined {
  const ast = file.ast!;
  for (const call of ast.calls.filter((candidate) => CODE_RUNNER.test(candidate.callee))) {
    const root = rootName(codeArgument(call));
    let init = root === undefined ? undefined : ast.resolve({ type: "Identifier", name: root } as Node);
    for (let depth = 0; init && init.type !== "Identifier" && depth < 6; depth++) {
      if (init.type === "AwaitExpression") init = init.argument as Node;
      else if (init.type === "CallExpression" && NETWORK_RESULT.test(ast.nameOf(init.callee as Node))) return call.node;
      else if (init.type === "CallExpression" && init.callee.type === "MemberExpression") init = init.callee.object as Node;
      else if (init.type === "MemberExpression") init = init.object as Node;
      else break;
    }
  }
  return undefined;
}

const NETWORK_RESULT = /^(?:fetch|node-fetch|axios(?:\.\w+)?|got(?:\.\w+)?|undici\.(?:fetch|request)|request-promise(?:-native)?|sync-request|needle(?:\.\w+)?|superagent(?:\.\w+)?)$/;

function rootName(node: Node | undefined): string | undefined {
  let current = node;
  for (let depth = 0; current && depth < 8; depth++) {
    if (current.type === "Identifier") return current.name;
    if (current.type === "MemberExpression") current = current.object as Node;
    else return undefined;
  }
  return undefined;
}

/** `x`, `"node " + x`, `` `${x} /s` ``: the command is, or is built from, the variable. */
function mentions(node: Node | undefined, name: string): boolean {
  if (!node) return false;
  if (node.type === "Identifier") return node.name === name;
  if (node.type === "BinaryExpression") return mentions(node.left as Node, name) || mentions(node.right as Node, name);
  if (node.type === "TemplateLiteral") return node.expressions.some((expression) => mentions(expression as Node, name));
  return false;
}

/** A path as far as it is static, with `os.tmpdir()` and `os.homedir()` spelled `<tmp>` and `<home>`. */
function pathOf(file: FileContext, node: Node, depth = 0): string | undefined {
  const ast = file.ast!;
  const value = ast.resolve(node);
  if (!value || depth > 4) return undefined;
  const envName = /^process\.env\.(\w+)$/.exec(ast.nameOf(value))?.[1];
  if (envName && /^(?:TEMP|TMP|TMPDIR)$/i.test(envName)) return "<tmp>";
  if (envName && /^(?:HOME|USERPROFILE|APPDATA|LOCALAPPDATA)$/i.test(envName)) return "<home>";
  if (value.type === "CallExpression") {
    const callee = ast.nameOf(value.callee as Node);
    if (callee === "os.tmpdir") return "<tmp>";
    if (callee === "os.homedir") return "<home>";
    if (/^path\.(?:posix\.|win32\.)?(?:join|resolve)$/.test(callee)) {
      return value.arguments.map((arg) => pathOf(file, arg as Node, depth + 1) ?? HOLE).join("/");
    }
  }
  return ast.stringOf(value);
}

/** Scripts and unparsed files: a download tool, then making something executable or starting it in the background. */
const TEXT_DOWNLOAD = /\b(?:curl|wget|bitsadmin|Invoke-WebRequest|iwr)\b|\bcertutil(?:\.exe)?\s+-urlcache\b/i;
const TEXT_EXECUTE = /\bchmod\s+(?:\+x|[0-7]*7[0-7]{2})\b|\bstart\s+\/b\b|^\s*\.[\\/][\w.-]+/im;

function checkScriptText(file: FileContext, report: Parameters<FileRule["check"]>[1]): void {
  const download = TEXT_DOWNLOAD.exec(file.text);
  const execute = download ? TEXT_EXECUTE.exec(file.text) : null;
  if (download && execute) {
    report({ severity: atInstallTime("medium", file.installTime), message: "downloads a program, makes it executable or starts it", offset: execute.index });
  }
}

function codeRunners(file: FileContext) {
  return file.ast?.calls.filter((call) => CODE_RUNNER.test(call.callee) && call.args.length > 0 && staticString(codeArgument(call)) === undefined).map((call) => call.node) ?? [];
}

/** The argument that holds the code: the first for eval and vm, the last for `Function(arg1, ..., body)`. */
export function codeArgument(call: CallSite): Node | undefined {
  return call.callee === "Function" ? call.args[call.args.length - 1] : call.args[0];
}

function executableModes(file: FileContext) {
  const ast = file.ast;
  if (!ast) return [];
  const chmods = ast.calls.filter((call) => CHMOD_CALLEE.test(call.callee) || (call.callee.startsWith("child_process.") && /\bchmod\b/.test(commandLine(file, call))));
  const modes = ast.strings.filter((site) => /^chmod\s+(?:\+x|[0-7]*7[0-7]{2})\b/.test(site.value));
  return [...chmods.map((call) => call.node), ...modes.map((site) => site.node)];
}
