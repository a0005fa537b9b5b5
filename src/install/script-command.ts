/**
 * A best-effort reading of a lifecycle script's shell text: which programs
 * it starts and with which arguments. It is for showing a reviewer what a
 * script runs and for choosing which files a pin covers, never for deciding
 * whether a script is safe: a script can always build a command at run time.
 */

export interface SimpleCommand {
  /** Words after quote removal, leading `NAME=value` assignments dropped. */
  readonly words: readonly string[];
}

const OPERATORS = ["&&", "||", ";;", ";", "|", "&", "\n", "(", ")"];
const MAX_COMMANDS = 200;

/** Splits shell text into simple commands (quote-aware; `$(…)` and backquotes are not entered). */
export function simpleCommands(script: string): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: string[] = [];
  let word: string | undefined;
  const endWord = (): void => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = (): void => {
    endWord();
    const withoutAssignments = dropAssignments(words);
    if (withoutAssignments.length > 0 && commands.length < MAX_COMMANDS) commands.push({ words: withoutAssignments });
    words = [];
  };
  let i = 0;
  while (i < script.length) {
    const c = script[i] ?? "";
    const operator = OPERATORS.find((op) => script.startsWith(op, i));
    if (operator !== undefined) {
      endCommand();
      i += operator.length;
    } else if (c === " " || c === "\t" || c === "\r") {
      endWord();
      i++;
    } else if (c === "#" && word === undefined) {
      const end = script.indexOf("\n", i);
      i = end < 0 ? script.length : end;
    } else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      const stop = end < 0 ? script.length : end;
      word = (word ?? "") + script.slice(i + 1, stop);
      i = stop + 1;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      while (j < script.length && script[j] !== '"') {
        if (script[j] === "\\" && j + 1 < script.length) j++;
        text += script[j];
        j++;
      }
      word = (word ?? "") + text;
      i = j + 1;
    } else if (c === "\\" && i + 1 < script.length) {
      word = (word ?? "") + (script[i + 1] === "\n" ? "" : script[i + 1]);
      i += 2;
    } else {
      word = (word ?? "") + c;
      i++;
    }
  }
  endCommand();
  return commands;
}

function dropAssignments(words: readonly string[]): string[] {
  let start = 0;
  while (start < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[start] ?? "")) start++;
  const rest = words.slice(start);
  // `env A=1 cmd`, `exec cmd`, `cross-env A=1 cmd`, `nice cmd` start the command that follows.
  if (rest.length > 1 && ["env", "exec", "cross-env", "nice", "nohup", "time"].includes(rest[0] ?? "")) {
    let next = 1;
    while (rest[0] === "env" && (rest[next] ?? "").startsWith("-")) next++;
    return dropAssignments(rest.slice(next));
  }
  return rest;
}

/** Node options that take the next word as their value. */
const NODE_OPTIONS_WITH_VALUE = new Set(["-r", "--require", "--import", "--loader", "--experimental-loader", "--conditions", "-C", "--title", "--stack-size", "--max-old-space-size", "--env-file", "--input-type"]);

export type Interpreted =
  | { kind: "file"; file: string }
  | { kind: "inline"; code: string }
  | { kind: "preload"; file: string };

/** What `node …` runs: a script file, inline code (`-e`, `-p`), plus any `-r`/`--import` preloads. */
export function nodeArguments(args: readonly string[]): Interpreted[] {
  const found: Interpreted[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "-e" || arg === "--eval" || arg === "-p" || arg === "--print") {
      found.push({ kind: "inline", code: args[i + 1] ?? "" });
      return found;
    }
    if (NODE_OPTIONS_WITH_VALUE.has(arg)) {
      const value = args[++i];
      if (value !== undefined && (arg === "-r" || arg === "--require" || arg === "--import")) found.push({ kind: "preload", file: value });
      continue;
    }
    if (arg === "--") continue;
    if (arg.startsWith("-")) continue;
    found.push({ kind: "file", file: arg });
    return found;
  }
  return found;
}

/** What `sh …` / `bash …` runs: a script file, or `-c` text. */
export function shellArguments(args: readonly string[]): Interpreted[] {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "-c") return [{ kind: "inline", code: args[i + 1] ?? "" }];
    if (arg.startsWith("-")) continue;
    return [{ kind: "file", file: arg }];
  }
  return [];
}
