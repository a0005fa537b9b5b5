import type { ESTree } from "meriyah";
import type { CallSite } from "../ast/facts.js";
import { walk, type Node } from "../ast/walk.js";
import { atInstallTime, packageFinding, type FileContext, type FileRule, type PackageRule } from "./rule.js";
import { networkCalls, processCalls, PROCESS_CALLEE, stringsMatching } from "./signals.js";

/**
 * Shell one-liners that hand a shell to a remote host, or open a raw TCP
 * connection from the shell (`echo … > /dev/tcp/host/port`, a beacon).
 * None of them has a place in a package: there is no benign reason for a
 * dependency to wire a shell to a socket.
 */
export const REVERSE_SHELL_COMMAND = new RegExp([
  String.raw`\/dev\/(?:tcp|udp)\/[\w.-]+\/\d+`,
  String.raw`\b(?:nc|ncat|netcat)\b[^|;&\n]*\s-[a-zA-Z]*[ec]\s*["']?(?:\/(?:usr\/)?bin\/)?(?:(?:ba|z|da|k)?sh|cmd(?:\.exe)?|powershell(?:\.exe)?)\b`,
  String.raw`\b(?:nc|ncat|netcat|telnet)\s+(?:-\w+\s+)*[\w.-]+\s+\d+\s*\|\s*(?:\/(?:usr\/)?bin\/)?(?:ba|z|da)?sh\b`,
  String.raw`\bmkfifo\b[^\n]*\b(?:nc|ncat|netcat|telnet)\b`,
  String.raw`\bsocat\b[^\n]*\bexec:`,
  String.raw`\b(?:ba|z)?sh\s+-i\s*(?:[0-9]?>&|<&)`,
  String.raw`\bimport\s+socket\b[^\n]*\b(?:subprocess|pty)\b`,
  String.raw`\buse\s+Socket\b[^\n]*\bexec\b`,
  String.raw`Net\.Sockets\.TCPClient`,
  String.raw`\bfsockopen\s*\([^)]*\)[^\n]*\b(?:exec|proc_open|shell_exec|system)\b`,
  String.raw`\bruby\s+-rsocket\b`,
].join("|"), "i");

const SOCKET_CALLEE = /^(?:net\.(?:connect|createConnection|Socket)|tls\.connect)$/;
const SHELL = /^(?:\/(?:usr\/)?bin\/)?(?:ba|z|da|k)?sh$|^cmd(?:\.exe)?$|^(?:powershell|pwsh)(?:\.exe)?$/i;
const HANDLER_CALLEE = /\.(?:on|once|addListener|addEventListener)$/;

/**
 * A shell wired to the network. Three shapes: the classic Node reverse
 * shell (a socket piped into a spawned `sh` or `cmd`), a command channel
 * (a network event handler that passes what it received to `exec`: the
 * socket.io bot), and the shell one-liners above in strings, scripts and
 * package.json. Each one gives a remote party a shell on the machine.
 */
export const reverseShell: FileRule = {
  id: "reverse-shell",
  summary: "wires a shell to the network: socket piped to sh/cmd, commands received over a socket executed, nc/bash /dev/tcp one-liners",
  check(file, report) {
    const piped = socketPipedToShell(file);
    if (piped) {
      report({ severity: "critical", message: "pipes a network socket into a shell it spawned (reverse shell)", node: piped });
      return;
    }
    const command = stringsMatching(file, REVERSE_SHELL_COMMAND)[0];
    const offset = file.ast ? undefined : REVERSE_SHELL_COMMAND.exec(file.text)?.index;
    if (command || offset !== undefined) {
      report({ severity: "critical", message: "spells a reverse shell or raw TCP connection from a shell (nc -e, bash -i >& /dev/tcp/…)", ...(command ? { node: command.node } : { offset: offset! }) });
      return;
    }
    const channel = commandChannel(file);
    if (channel) report({ severity: atInstallTime("high", file.installTime), message: "runs commands it receives over the network (remote command channel)", node: channel });
  },
};

/** The same one-liners in any package.json script: `npm test` runs them as surely as `npm install` does. */
export const reverseShellScripts: PackageRule = {
  id: "reverse-shell",
  summary: reverseShell.summary,
  check(pkg) {
    return Object.entries(pkg.manifest.scripts)
      .filter(([, command]) => REVERSE_SHELL_COMMAND.test(command))
      .slice(0, 1)
      .map(([name, command]) => packageFinding("reverse-shell", "critical", `"${name}" script opens a reverse shell or a raw TCP connection`, `${name}: ${command}`));
  },
};

function socketPipedToShell(file: FileContext): Node | undefined {
  const ast = file.ast;
  if (!ast) return undefined;
  const socket = ast.calls.some((call) => SOCKET_CALLEE.test(call.callee));
  const shell = processCalls(file).find((call) => spawnsShell(file, call));
  if (!socket || !shell) return undefined;
  // Wired with pipe() or util.pump(), or by hand: `socket.on("data", (d) => sh.stdin.write(d))`.
  const pipe = ast.calls.some((call) => isStdioPipe(call) || (/(?:^|\.)pump$/.test(call.callee) && call.args.some(isStdio)) || writesToStdin(call));
  return pipe ? shell.node : undefined;
}

/** `spawn("/bin/sh")`, and `spawn(isWin ? "cmd" : "/bin/sh")`. */
function spawnsShell(file: FileContext, call: CallSite): boolean {
  const command = file.ast!.resolve(call.args[0]);
  const branches = command?.type === "ConditionalExpression" ? [command.consequent as Node, command.alternate as Node] : [command];
  return branches.some((branch) => SHELL.test((file.ast!.stringOf(branch) ?? "").trim()));
}

/** `socket.pipe(sh.stdin)` or `sh.stdout.pipe(socket)`. */
function isStdioPipe(call: CallSite): boolean {
  const callee = call.node.callee;
  if (callee.type !== "MemberExpression" || callee.property.type !== "Identifier" || callee.property.name !== "pipe") return false;
  return isStdio(callee.object as Node) || call.args.some(isStdio);
}

function writesToStdin(call: CallSite): boolean {
  const callee = call.node.callee;
  return callee.type === "MemberExpression" && callee.property.type === "Identifier" && callee.property.name === "write" && isStdio(callee.object as Node)
    && (callee.object as { property: { name?: string } }).property.name === "stdin";
}

function isStdio(node: Node): boolean {
  return node.type === "MemberExpression" && node.property.type === "Identifier" && /^std(?:in|out|err)$/.test(node.property.name);
}

/**
 * `socket.on("exec", (command, cb) => exec(command, …))`: an event handler in
 * a file that talks to the network, passing what it received to a process.
 */
function commandChannel(file: FileContext): Node | undefined {
  const ast = file.ast;
  if (!ast || networkCalls(file).length === 0) return undefined;
  for (const call of ast.calls) {
    if (!HANDLER_CALLEE.test(call.callee)) continue;
    const handler = call.args.find((arg): arg is ESTree.FunctionExpression | ESTree.ArrowFunctionExpression => arg.type === "FunctionExpression" || arg.type === "ArrowFunctionExpression");
    if (!handler) continue;
    const params = new Set(handler.params.filter((param): param is ESTree.Identifier => param.type === "Identifier").map((param) => param.name));
    if (params.size === 0) continue;
    let found: Node | undefined;
    walk(handler.body as Node, (node) => {
      if (found || (node.type !== "CallExpression") || !PROCESS_CALLEE.test(ast.nameOf(node.callee as Node))) return;
      const first = node.arguments[0] as Node | undefined;
      if (first && rootIdentifier(first) !== undefined && params.has(rootIdentifier(first)!)) found = node;
    });
    if (found) return found;
  }
  return undefined;
}

/** `data`, `data.toString()`, `msg.cmd`: the name a value is read from. */
function rootIdentifier(node: Node): string | undefined {
  let current: Node = node;
  for (let depth = 0; depth < 8; depth++) {
    if (current.type === "Identifier") return current.name;
    if (current.type === "MemberExpression") current = current.object as Node;
    else if (current.type === "CallExpression" && current.callee.type === "MemberExpression") current = current.callee.object as Node;
    else return undefined;
  }
  return undefined;
}
