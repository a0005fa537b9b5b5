/**
 * Quotes one value as exactly one POSIX shell word. Single quotes make
 * every byte literal ($, `, \, newlines, globs); a single quote itself is
 * closed, escaped and reopened. The result is safe for dash and bash alike.
 */
export function quoteShellWord(value: string): string {
  if (value.includes("\0")) throw new TypeError("A shell word cannot contain a NUL byte.");
  if (value !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * Renders an interpolated template value the way `@deno/sandbox`'s `sh`
 * does: an array becomes several words, anything else one word.
 */
export function quoteInterpolation(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => quoteShellWord(stringOf(item))).join(" ");
  return quoteShellWord(stringOf(value));
}

function stringOf(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof URL) return value.href;
  if (typeof value === "object" && "toString" in value && typeof value.toString === "function") return String(value.toString());
  return String(value);
}
