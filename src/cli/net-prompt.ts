import fs from "node:fs";
import readline from "node:readline";
import { destinationLabel, type Destination } from "../net/destination.js";
import type { PromptAnswer } from "../net/egress-gate.js";

/**
 * `--prompt`: asks on the controlling terminal, as Deno does, whether a
 * destination no grant covers may be reached; the connection waits for the
 * answer. Questions are asked one at a time. Without a terminal every
 * question is answered "deny".
 */
export function terminalPrompt(): ((destination: Destination) => Promise<PromptAnswer>) | undefined {
  let tty: fs.WriteStream & { fd: number };
  let input: fs.ReadStream;
  try {
    const fd = fs.openSync("/dev/tty", "r+");
    input = fs.createReadStream("", { fd, autoClose: false });
    tty = fs.createWriteStream("", { fd, autoClose: false }) as fs.WriteStream & { fd: number };
  } catch {
    return undefined;
  }
  const lines = readline.createInterface({ input, terminal: false });
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (destination: Destination): Promise<PromptAnswer> => {
    const answer = queue.then(
      () =>
        new Promise<PromptAnswer>((resolve) => {
          const label = destinationLabel(destination);
          tty.write(`┏ ⚠️  cordon: the sandbox wants to connect to ${label}.\n┗ Allow? [y/n/A] (y = yes, n = no, A = allow all hosts from now on) > `);
          lines.once("line", (line) => {
            const text = line.trim();
            resolve(text === "A" ? "allow-all" : text.toLowerCase() === "y" ? "allow" : "deny");
          });
        }),
    );
    queue = answer;
    return answer;
  };
  return ask;
}
