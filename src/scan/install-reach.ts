import { join, posix } from "node:path";
import { readHead } from "./package-files.js";

/** Files followed from the install scripts at most: enough for any real setup script, bounded for a hostile one. */
const MAX_REACHED_FILES = 200;
/**
 * How many hops (`require`, a named script) from a file an install script
 * names. In a small package, three: the whole chain of script → helper →
 * sender that real malware uses. In a large one, one: nx's post-install
 * reaches 200 files statically, almost all of them loaded lazily or never
 * during an install, and weighing all of them as install-time code turns
 * every `.npmrc` string in a CLI into a finding.
 */
const HOPS_SMALL = 3;
const HOPS_LARGE = 1;
const SMALL_PACKAGE_CODE_FILES = 100;
/** Data and documentation: named by code all the time (`require("./package.json")`), never run by it. */
const NOT_CODE = /\.(?:json|md|markdown|txt|map|ts|mts|cts|tsx|css|scss|less|html?|ya?ml|svg|png|jpe?g|gif|ico|webp|woff2?|ttf|eot|lock)$/i;
/** Only code is searched for the files it names; a binary's bytes name nothing. */
const CODE_FILE = /\.(?:c|m)?js$|\.(?:sh|bash|bat|cmd|ps1)$|^[^.]+$/i;
/**
 * A quoted relative path (`require("./lib/setup")`, `import "./x.js"`,
 * `exec("/bin/bash preinstall.sh")`), or a bare script name after a space
 * (`nohup node update.js &`).
 */
const NAMED_FILE = /["'`]((?:\.{1,2}\/)?[\w@./-]+)(?=["'`\s])|\s((?:\.\/)?[\w@.-]+\.(?:sh|bat|cmd|ps1|js|cjs|mjs|exe))\b/g;

/**
 * Code an install script reaches runs at install time too: the files an
 * install-time file names, and the files those name, inside the package.
 * An attacker who moves the payload into a helper module the install script
 * requires (`require("./lib/env")`) gains nothing: the helper is judged as
 * install-time code. Paths outside the package are never followed.
 */
export function installTimeClosure(dir: string, roots: ReadonlySet<string>, paths: ReadonlySet<string>): Set<string> {
  const reached = new Set(roots);
  const queue = [...roots].map((file) => ({ file, hops: 0 }));
  const codeFiles = [...paths].filter((path) => /\.(?:c|m)?js$/i.test(path)).length;
  const maxHops = codeFiles <= SMALL_PACKAGE_CODE_FILES ? HOPS_SMALL : HOPS_LARGE;
  while (queue.length > 0 && reached.size < MAX_REACHED_FILES) {
    const { file, hops } = queue.shift()!;
    if (hops >= maxHops || !CODE_FILE.test(posix.basename(file))) continue;
    for (const named of filesNamedIn(dir, file, paths)) {
      if (reached.has(named) || NOT_CODE.test(named)) continue;
      reached.add(named);
      queue.push({ file: named, hops: hops + 1 });
    }
  }
  return reached;
}

function filesNamedIn(dir: string, file: string, paths: ReadonlySet<string>): string[] {
  let text: string;
  try {
    text = Buffer.from(readHead(join(dir, file), 1 << 20).bytes).toString("utf8");
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const match of text.matchAll(NAMED_FILE)) {
    const resolved = resolveInPackage(file, match[1] ?? match[2]!, paths);
    if (resolved) found.push(resolved);
  }
  return found;
}

/** A path or module specifier written in `file`, as a file of the package (never outside it). */
export function resolveInPackage(file: string, specifier: string, paths: ReadonlySet<string>): string | undefined {
  const named = posix.normalize(posix.join(posix.dirname(file), specifier));
  if (named.startsWith("../") || named === "..") return undefined;
  return [named, `${named}.js`, `${named}.cjs`, `${named}.mjs`, `${named}/index.js`].find((candidate) => paths.has(candidate));
}
