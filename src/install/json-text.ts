/**
 * Re-serializes an edited package.json the way it was written: the same
 * indentation (spaces or tabs, as detected from the first indented line),
 * the same line endings, and a final newline only if there was one. Keys
 * keep their order (JSON.parse preserves insertion order).
 */
export function formatLike(original: string, value: unknown): string {
  const indent = /^[{[][^\S\n]*\r?\n([ \t]+)\S/.exec(original)?.[1] ?? "  ";
  const eol = original.includes("\r\n") ? "\r\n" : "\n";
  const finalNewline = /\n$/.test(original);
  let text = JSON.stringify(value, null, indent);
  if (eol === "\r\n") text = text.replace(/\n/g, "\r\n");
  return finalNewline ? text + eol : text;
}
