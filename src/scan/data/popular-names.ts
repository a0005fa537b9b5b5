import fs from "node:fs";

/**
 * The 10,000 most-downloaded npm package names, most downloaded first, one a
 * line in data/popular-names.txt (monthly downloads, from the project's
 * registry snapshot; regenerate with eval/make-popular-names.sh). The first
 * 3,000 are what typosquats imitate; all of them are trusted as spelled.
 * Read on first use, once.
 */
const FILE = new URL("../../../../data/popular-names.txt", import.meta.url);

let cached: { list: readonly string[]; set: ReadonlySet<string> } | undefined;

export function popularNames(): { list: readonly string[]; set: ReadonlySet<string> } {
  if (cached === undefined) {
    const list = fs.readFileSync(FILE, "utf8").split("\n").filter(Boolean);
    cached = { list, set: new Set(list) };
  }
  return cached;
}
