import { staticString } from "../ast/static-value.js";
import { atInstallTime, type FileContext, type FileRule } from "./rule.js";
import type { CallSite } from "../ast/facts.js";
import type { Node } from "../ast/walk.js";
import { commandLine, downloadCommands, networkCalls, processCalls, stringsMatching, textMatch } from "./signals.js";

/** `curl … | sh`, `wget -O- … | bash`, `iwr … | iex`: run whatever a server sends. */
const PIPE_TO_SHELL = /\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|\b(?:iwr|Invoke-WebRequest|irm|Invoke-RestMethod)\b[^|;\n]*\|\s*(?:iex|Invoke-Expression)\b/i;
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
    if (!file.ast) {
      checkScriptText(file, report);
      return;
    }
    const downloads = [...networkCalls(file), ...downloadCommands(file)];
    if (downloads.length === 0) return;
    const evaluations = codeRunners(file);
    if (evaluations.length > 0) {
      report({ severity: atInstallTime("medium", file.installTime), message: "fetches from the network and evaluates code in the same file", node: evaluations[0]! });
      return;
    }
    const chmods = executableModes(file);
    const spawns = processCalls(file).filter((call) => !/^\s*(?:curl|wget)\b/.test(commandLine(call)));
    if (chmods.length > 0 && spawns.length > 0) {
      // Not escalated at install time: this is also how native-binary
      // installers fetch a missing platform build (esbuild's install.js).
      report({ severity: "medium", message: "downloads a file, makes it executable and starts a process", node: chmods[0]! });
    }
  },
};

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
  const chmods = ast.calls.filter((call) => CHMOD_CALLEE.test(call.callee) || (call.callee.startsWith("child_process.") && /\bchmod\b/.test(commandLine(call))));
  const modes = ast.strings.filter((site) => /^chmod\s+(?:\+x|[0-7]*7[0-7]{2})\b/.test(site.value));
  return [...chmods.map((call) => call.node), ...modes.map((site) => site.node)];
}
