/**
 * A tolerant reader for `binding.gyp` and `.gypi` files: Python literal
 * syntax (`#` comments, single, double and triple quotes, r/u/b prefixes,
 * adjacent literals concatenated, trailing commas). It does not build the
 * object; it only needs the strings, because the code a gyp file runs lives
 * in strings: command expansions `<!(cmd)`, `<!@(cmd)`, their late forms
 * `>!(…)` / `^!(…)` and `<!pymod_do_main(…)`, all run by `node-gyp
 * configure` before any compiler starts.
 *
 * The file is attacker-controlled; callers bound its size before reading.
 */

export interface GypCommand {
  /** The expansion marker, e.g. `<!@` or `<!pymod_do_main`. */
  readonly expansion: string;
  /** The command text between the parentheses. */
  readonly command: string;
}

export interface GypScan {
  readonly commands: readonly GypCommand[];
  /** Every string literal, after adjacent literals are joined (for `includes` and `sources`). */
  readonly strings: readonly string[];
  /** An unterminated string or bracket: the file is not what gyp would accept as written. */
  readonly malformed: boolean;
}

// gyp's own pattern (pylib/gyp/input.py) for a command expansion: a phase
// character, `!`, an optional `@` (list form), an optional command name such
// as `pymod_do_main`, then `(`.
const EXPANSION = /([<>^]!@?)([-a-zA-Z0-9_.]*)\(/g;

export function scanGyp(text: string): GypScan {
  const { strings, malformed } = stringLiterals(text);
  const commands = new Map<string, GypCommand>();
  const add = (found: GypCommand): void => {
    commands.set(`${found.expansion}\0${found.command}`, found);
  };
  for (const literal of strings) for (const found of expansionsIn(literal)) add(found);
  // Also look at the raw text, so a quirk this reader does not model (an
  // escape, a prefix) cannot hide an expansion that gyp would see.
  for (const found of expansionsIn(text)) {
    if (![...commands.values()].some((c) => c.expansion === found.expansion && found.command.includes(c.command))) add(found);
  }
  return { commands: [...commands.values()], strings, malformed };
}

export function expansionsIn(text: string): GypCommand[] {
  const found: GypCommand[] = [];
  for (const match of text.matchAll(EXPANSION)) {
    const open = (match.index ?? 0) + match[0].length;
    const close = matchingParen(text, open);
    found.push({
      expansion: `${match[1] ?? ""}${match[2] ?? ""}`,
      command: text.slice(open, close ?? text.length).trim(),
    });
  }
  return found;
}

function matchingParen(text: string, from: number): number | undefined {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return undefined;
}

function stringLiterals(text: string): { strings: string[]; malformed: boolean } {
  const strings: string[] = [];
  let malformed = false;
  let joinWithPrevious = false;
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (c === "#") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const prefix = /^[rRuUbB]{1,2}(?=['"])/.exec(text.slice(i, i + 3))?.[0] ?? "";
    const quoteAt = i + prefix.length;
    const quote = text[quoteAt];
    if (quote === "'" || quote === '"') {
      const literal = readString(text, quoteAt, /r/i.test(prefix));
      if (literal.unterminated) malformed = true;
      if (joinWithPrevious && strings.length > 0) strings[strings.length - 1] += literal.value;
      else strings.push(literal.value);
      joinWithPrevious = true;
      i = literal.end;
      continue;
    }
    if (c === "{" || c === "[" || c === "(") depth++;
    if (c === "}" || c === "]" || c === ")") depth--;
    if (depth < 0) malformed = true;
    joinWithPrevious = false;
    i++;
  }
  return { strings, malformed: malformed || depth !== 0 };
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', "\n": "" };

function readString(text: string, at: number, raw: boolean): { value: string; end: number; unterminated: boolean } {
  const quote = text[at] ?? "'";
  const triple = text.startsWith(quote.repeat(3), at);
  const delimiter = triple ? quote.repeat(3) : quote;
  let i = at + delimiter.length;
  let value = "";
  while (i < text.length) {
    if (text.startsWith(delimiter, i)) return { value, end: i + delimiter.length, unterminated: false };
    const c = text[i] ?? "";
    if (!triple && c === "\n") break;
    if (c === "\\" && i + 1 < text.length) {
      const next = text[i + 1] ?? "";
      value += raw ? c + next : ESCAPES[next] ?? c + next;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  return { value, end: i, unterminated: true };
}
