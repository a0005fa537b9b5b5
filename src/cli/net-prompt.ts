import { destinationLabel, type Destination } from "../net/destination.js";
import type { PromptAnswer } from "../net/egress-gate.js";
import { TerminalLines } from "./terminal-lines.js";

/**
 * `--prompt`: asks on the controlling terminal, as Deno does, whether a
 * destination no grant covers may be reached; the connection waits for the
 * answer. Questions are asked one at a time. Undefined without a terminal
 * (then every such destination is refused).
 */
export function terminalPrompt(): { decide: (destination: Destination) => Promise<PromptAnswer>; close: () => void } | undefined {
  const terminal = TerminalLines.open();
  if (!terminal) return undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const decide = (destination: Destination): Promise<PromptAnswer> => {
    const question =
      `┏ ⚠️  cordon: the sandbox wants to connect to ${destinationLabel(destination)}.\n` +
      "┗ Allow? [y/n/A] (y = yes, n = no, A = allow all hosts from now on) > ";
    const answer = queue.then(() =>
      terminal.ask<PromptAnswer>(question, (text) => (text === "A" ? "allow-all" : /^y(es)?$/i.test(text) ? "allow" : /^n(o)?$/i.test(text) ? "deny" : undefined), "deny"),
    );
    queue = answer;
    return answer;
  };
  return { decide, close: () => terminal.close() };
}
