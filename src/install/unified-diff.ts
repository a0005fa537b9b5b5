/**
 * A bounded unified diff of two texts, for showing a reviewer how install
 * code changed. The texts come from packages and are hostile: the caller
 * strips terminal escapes before printing. Large inputs give a summary
 * instead of a quadratic computation; the output is cut at `maxBytes`.
 */
export interface DiffOptions {
  /** Output bytes at most (default 64 KiB). */
  maxBytes?: number;
  /** Lines of context around each change (default 3). */
  context?: number;
}

const MAX_CELLS = 4_000_000;

export function unifiedDiff(beforeName: string, afterName: string, before: string | undefined, after: string | undefined, options: DiffOptions = {}): string {
  const maxBytes = options.maxBytes ?? 64 * 1024;
  const header = `--- ${beforeName}\n+++ ${afterName}\n`;
  if (isBinary(before) || isBinary(after)) return `${header}(binary file changed)\n`;
  const a = splitLines(before);
  const b = splitLines(after);
  if (a.length * b.length > MAX_CELLS) {
    return `${header}(too large to diff here: ${a.length} lines before, ${b.length} lines after)\n`;
  }
  const ops = diffLines(a, b);
  const body = hunks(ops, options.context ?? 3).join("");
  const text = header + body;
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return Buffer.from(text).subarray(0, maxBytes).toString("utf8").replace(/\uFFFD?$/, "") + `\n… (diff cut at ${Math.round(maxBytes / 1024)} KiB)\n`;
}

function isBinary(text: string | undefined): boolean {
  return text !== undefined && text.includes("\0");
}

function splitLines(text: string | undefined): string[] {
  if (text === undefined || text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

type Op = { kind: " " | "-" | "+"; line: string; a: number; b: number };

/** Longest-common-subsequence line diff (bounded by MAX_CELLS above). */
function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const table = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] = a[i] === b[j] ? table[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(table[(i + 1) * (m + 1) + j]!, table[i * (m + 1) + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ kind: " ", line: a[i++]!, a: i, b: ++j });
    // Deletions before insertions, as diff(1) prints them.
    else if (i < n && (j === m || table[(i + 1) * (m + 1) + j]! >= table[i * (m + 1) + j + 1]!)) ops.push({ kind: "-", line: a[i++]!, a: i, b: j });
    else ops.push({ kind: "+", line: b[j++]!, a: i, b: j });
  }
  return ops;
}

function hunks(ops: readonly Op[], context: number): string[] {
  const out: string[] = [];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.kind === " ") {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    let quiet = 0;
    while (end < ops.length && quiet <= 2 * context) {
      quiet = ops[end]!.kind === " " ? quiet + 1 : 0;
      end++;
    }
    end = Math.min(ops.length, end - Math.max(0, quiet - context));
    const slice = ops.slice(start, end);
    const aStart = slice.find((o) => o.kind !== "+")?.a ?? (ops[start - 1]?.a ?? 0) + 1;
    const bStart = slice.find((o) => o.kind !== "-")?.b ?? (ops[start - 1]?.b ?? 0) + 1;
    const aCount = slice.filter((o) => o.kind !== "+").length;
    const bCount = slice.filter((o) => o.kind !== "-").length;
    out.push(`@@ -${aCount === 0 ? aStart - 1 : aStart},${aCount} +${bCount === 0 ? bStart - 1 : bStart},${bCount} @@\n`);
    for (const op of slice) out.push(`${op.kind}${op.line}\n`);
    k = end;
  }
  return out;
}
