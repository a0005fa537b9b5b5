import fs from "node:fs";
import readline from "node:readline";

/**
 * Lines typed on the controlling terminal (/dev/tty, not stdin, which the
 * sandbox may share), read by one reader for the whole session: a reader per
 * question would lose answers typed ahead. Close it when the session ends,
 * or the open terminal keeps the process alive.
 */
export class TerminalLines {
  readonly #lines: string[] = [];
  readonly #waiting: ((line: string | undefined) => void)[] = [];
  #closed = false;
  readonly #tty: fs.ReadStream;
  readonly #reader: readline.Interface;

  private constructor(tty: fs.ReadStream) {
    this.#tty = tty;
    this.#reader = readline.createInterface({ input: tty, terminal: false });
    this.#reader.on("line", (line) => {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(line);
      else this.#lines.push(line);
    });
    this.#reader.on("close", () => {
      this.#closed = true;
      for (const waiter of this.#waiting.splice(0)) waiter(undefined);
    });
  }

  /** Undefined when there is no controlling terminal. */
  static open(): TerminalLines | undefined {
    try {
      return new TerminalLines(fs.createReadStream("", { fd: fs.openSync("/dev/tty", "r") }));
    } catch {
      return undefined;
    }
  }

  /** Asks until `parse` accepts a line; `fallback` when the terminal closes. */
  async ask<T>(question: string, parse: (text: string) => T | undefined, fallback: T): Promise<T> {
    for (;;) {
      process.stderr.write(question);
      const line = this.#lines.shift() ?? (this.#closed ? undefined : await new Promise<string | undefined>((resolve) => this.#waiting.push(resolve)));
      if (line === undefined) return fallback;
      const answer = parse(line.trim());
      if (answer !== undefined) return answer;
    }
  }

  close(): void {
    this.#reader.close();
    this.#tty.destroy();
  }
}
