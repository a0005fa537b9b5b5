import { styleText } from "node:util";

type Style = Parameters<typeof styleText>[0];

/** Colours only when stderr is a terminal that wants them. */
export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stderr): string {
  if (!stream.isTTY || process.env.NO_COLOR !== undefined) return text;
  return styleText(style, text);
}

/**
 * Text that came from a sandbox, a package or the user's input is hostile
 * until proven otherwise: terminal escape sequences, other control characters
 * and bidirectional overrides are removed before it is printed.
 */
export function sanitizeForTerminal(text: string): string {
  return text
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, "")
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "")
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "");
}

export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function warn(line: string): void {
  say(`${paint("yellow", "cordon: warning:")} ${sanitizeForTerminal(line)}`);
}
