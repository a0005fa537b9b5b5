import type { CallSite } from "../ast/facts.js";
import type { Node } from "../ast/walk.js";
import { atInstallTime, packageFinding, type FileContext, type FileRule, type PackageRule } from "./rule.js";
import { commandLine, processCalls } from "./signals.js";

/**
 * Commands that wipe a home folder, the root file system or a disk, stop
 * the machine, or fork-bomb it. `rm -rf ./dist` is routine; `rm -rf /`,
 * `~` or `$HOME` never is.
 */
export const DESTRUCTIVE_COMMAND = new RegExp([
  String.raw`\brm\s+(?:-{1,2}[\w-]+\s+)*-[a-zA-Z]*[rR][a-zA-Z]*\s+(?:-{1,2}[\w-]+\s+)*["']?(?:\/\*?|~\/?\*?|\$\{?HOME\}?\/?\*?|\/(?:etc|usr|var|home|boot|bin|sbin|lib|opt|root|Users)\/?\*?)["']?(?=$|[\s;&|)])`,
  String.raw`\b(?:shutdown|poweroff|halt)\s+(?:-[a-zA-Z]+|\/[sSrRpPfF]\b|now\b)`,
  String.raw`\bmkfs(?:\.\w+)?\s+\/dev\/`,
  String.raw`\bdd\s+[^\n]*\bof=\/dev\/(?:sd|hd|nvme|xvd|vd|disk)`,
  String.raw`\b(?:del|erase)\s+(?:\/[a-zA-Z]\s+)+[A-Za-z]:\\(?:\*|\s|$)`,
  String.raw`\b(?:rd|rmdir)\s+\/s\s+(?:\/q\s+)?[A-Za-z]:\\(?:\s|$|\*)`,
  String.raw`\bformat\s+[A-Za-z]:(?:\s|$)`,
  String.raw`:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:`,
].join("|"));

/** A shell redirection or copy into a system folder: tampering with the machine, not installing a package. */
const SYSTEM_WRITE = /(?:>>?|\b(?:tee|cp|mv)\s+(?:-\w+\s+)*)\s*["']?\/(?:etc|boot|bin|sbin|usr\/bin|usr\/sbin|lib\/systemd)\//;

const REMOVE_CALLEE = /^(?:fs(?:\.promises)?\.(?:rm|rmSync|rmdir|rmdirSync)|fs-extra\.(?:remove|removeSync|emptyDir|emptyDirSync)|rimraf(?:\.sync|\.rimraf|\.rimrafSync)?|del(?:\.sync|\.deleteSync|\.deleteAsync)?)$/;
const HOME_OR_ROOT = /^(?:\/|~|~\/|[A-Za-z]:\\?|\/home\/?|\/Users\/?|\/etc\/?|\/usr\/?)$/;

/**
 * Payloads that destroy: a recursive delete of the home folder or the root,
 * wiping a disk, shutting the machine down, fork bombs, writes into system
 * folders. Found in code (process command lines, `fs.rmSync(os.homedir(), …)`),
 * in shell scripts, and in every package.json script.
 */
export const destructive: FileRule = {
  id: "destructive",
  summary: "destroys data or the machine: rm -rf of / or ~, disk wipes, shutdown, fork bombs, removing the home folder, writing into system folders",
  check(file, report) {
    const command = processCalls(file).find((call) => DESTRUCTIVE_COMMAND.test(commandLine(file, call)));
    const text = file.ast ? undefined : DESTRUCTIVE_COMMAND.exec(file.text)?.index;
    if (command || text !== undefined) {
      report({ severity: atInstallTime("high", file.installTime), message: "runs a command that wipes files or stops the machine (rm -rf /, shutdown, mkfs …)", ...(command ? { node: command.node } : { offset: text! }) });
      return;
    }
    const removal = homeRemovals(file)[0];
    if (removal) {
      report({ severity: atInstallTime("high", file.installTime), message: "deletes the home folder or the root of the file system", node: removal.node });
      return;
    }
    const write = file.ast ? undefined : SYSTEM_WRITE.exec(file.text)?.index;
    if (write !== undefined) report({ severity: file.installTime ? "critical" : "medium", message: "writes into a system folder (/etc, /bin, /boot …)", offset: write });
  },
};

/** Any package.json script: `npm test` running `sudo rm -rf /*` destroys as much as an install script would. */
export const destructiveScripts: PackageRule = {
  id: "destructive",
  summary: destructive.summary,
  check(pkg) {
    const found = Object.entries(pkg.manifest.scripts).map(([name, command]) => ({ name, command, wipe: DESTRUCTIVE_COMMAND.test(command), write: SYSTEM_WRITE.test(command) }));
    const wipe = found.find((script) => script.wipe);
    if (wipe) return [packageFinding("destructive", "critical", `"${wipe.name}" script wipes files or stops the machine`, `${wipe.name}: ${wipe.command}`)];
    const write = found.find((script) => script.write && /^(?:pre|post)?install$/.test(script.name));
    // An install has no business in /etc or /bin: that is planting persistence or tampering with the system.
    return write ? [packageFinding("destructive", "critical", `"${write.name}" script writes into a system folder`, `${write.name}: ${write.command}`)] : [];
  },
};

/** `fs.rmSync(os.homedir(), { recursive: true })`, `rimraf("/")`. */
function homeRemovals(file: FileContext): CallSite[] {
  const ast = file.ast;
  if (!ast) return [];
  return ast.calls.filter((call) => REMOVE_CALLEE.test(call.callee) && isHomeOrRoot(file, call.args[0]));
}

function isHomeOrRoot(file: FileContext, arg: Node | undefined): boolean {
  const node = file.ast!.resolve(arg);
  if (!node) return false;
  if (node.type === "CallExpression" && /^os\.homedir$/.test(file.ast!.nameOf(node.callee as Node))) return true;
  if (/^process\.env\.(?:HOME|USERPROFILE|HOMEPATH|SystemDrive)$/.test(file.ast!.nameOf(node))) return true;
  const value = file.ast!.stringOf(node);
  return value !== undefined && HOME_OR_ROOT.test(value.trim());
}
