import path from "node:path";
import { readBounded } from "./bounded-read.js";
import { scanGyp, type GypCommand } from "./gyp-file.js";
import { insideFolder, isPlainFile } from "./package-files.js";

export interface GypInfo {
  /** Command expansions found in binding.gyp and the `.gypi` files it includes, with the file each is in. */
  readonly commands: readonly (GypCommand & { file: string })[];
  /** binding.gyp and included gyp files, relative to the package folder. */
  readonly gypFiles: readonly string[];
  /** Other files inside the package that gyp strings name (sources, headers, scripts). */
  readonly referencedFiles: readonly string[];
  readonly malformed: boolean;
}

const GYP_LIMIT = 1024 ** 2;
const MAX_GYP_FILES = 32;
const MAX_REFERENCED = 2000;

/** Reads `binding.gyp` in `dir` if there is one (a regular file, as npm's `isNodeGypPackage` checks). */
export async function gypInfoOf(dir: string): Promise<GypInfo | undefined> {
  if (!(await isPlainFile(path.join(dir, "binding.gyp")))) return undefined;
  const commands: (GypCommand & { file: string })[] = [];
  const gypFiles: string[] = [];
  const referenced = new Set<string>();
  let malformed = false;
  const queue = ["binding.gyp"];
  while (queue.length > 0 && gypFiles.length < MAX_GYP_FILES) {
    const relative = queue.shift() ?? "";
    if (gypFiles.includes(relative)) continue;
    const bytes = await readBounded(path.join(dir, relative), GYP_LIMIT);
    if (bytes === undefined) continue;
    gypFiles.push(relative);
    const scan = scanGyp(bytes.toString("utf8"));
    malformed ||= scan.malformed;
    for (const command of scan.commands) commands.push({ ...command, file: relative });
    const fileDir = path.dirname(path.join(dir, relative));
    // Strings relative to this gyp file's folder (gyp resolves them so): a
    // whole literal (`sources`, `includes`, `inputs`), a `dependencies`
    // entry `other.gyp:target` (followed into other.gyp), and each word of
    // a command (an action's `['node', 'copy.js']` is two literals; a
    // `<!(node tools/x.js)` expansion is one command line).
    const candidates = new Set<string>();
    for (const literal of scan.strings) {
      if (literal.length > 300) continue;
      candidates.add(literal);
      if (/\s/.test(literal)) for (const word of commandWords(literal)) candidates.add(word);
    }
    for (const command of scan.commands) for (const word of commandWords(command.command)) candidates.add(word);
    for (const candidate of candidates) {
      const literal = candidate.replace(/^<\(module_root_dir\)\//, `${path.relative(fileDir, dir) || "."}/`).replace(/(\.gypi?):[^/\\]+$/, "$1");
      if (literal === "" || literal.length > 300 || /[<>^]\(|[*?\n]/.test(literal)) continue;
      const target = insideFolder(dir, path.resolve(fileDir, literal));
      if (target === undefined) continue;
      if (/\.gypi?$/.test(target)) queue.push(target);
      else if (referenced.size < MAX_REFERENCED) referenced.add(target);
    }
  }
  const referencedFiles: string[] = [];
  for (const file of [...referenced].sort()) {
    if (!gypFiles.includes(file) && (await isPlainFile(path.join(dir, file)))) referencedFiles.push(file);
  }
  return { commands, gypFiles, referencedFiles, malformed };
}

/** The words of a command line, quotes taken off (`node "tools/x.js" -p` gives node, tools/x.js, -p). */
function commandWords(command: string): string[] {
  return command.split(/[\s;&|()]+/).map((word) => word.replace(/^['"]+|['"]+$/g, "")).filter((word) => word !== "" && !word.startsWith("-"));
}
