import { posix } from "node:path";
import { installScriptsOf } from "../package-meta.js";
import { packageFinding, type FileContext, type FileSummary, type PackageContext, type PackageRule } from "./rule.js";
import { commandLine, processCalls } from "./signals.js";
import type { Finding } from "../types.js";

/** Loaded into a process, not started as one: how native addons ship (sharp, better-sqlite3). */
const LIBRARY = /\.(?:node|so(?:\.\d+)*|dll|dylib)$/i;

/**
 * Prebuilt executables and libraries cannot be read by this scanner. Many
 * good packages ship them (esbuild, sharp's platform packages), so they are
 * listed for review. Starting one from an install script is different:
 * native addons are loaded, platform tools are downloaded or come from a
 * platform package, and validating a binary is done on the one a package
 * just built or fetched. A package that starts a Windows program it carries
 * the moment it is installed is a dropper (the "Cursed" packages, ac-addon);
 * an ELF or Mach-O started so weighs "high".
 */
export const nativeBinary: PackageRule = {
  id: "native-binary",
  summary: "bundled native executables or libraries (ELF, PE, Mach-O); install scripts or install-time code starting one",
  check(pkg) {
    const binaries = pkg.files.filter((file) => file.binary !== undefined);
    if (binaries.length === 0) return [];
    const findings: Finding[] = [packageFinding(
      "native-binary", "info", `ships ${binaries.length} native binar${binaries.length === 1 ? "y" : "ies"} this scanner cannot read`,
      binaries.slice(0, 3).map((file) => `${file.path} (${file.binary})`).join(", "), binaries[0]!.path,
    )];
    const executables = binaries.filter((file) => !LIBRARY.test(file.path));
    for (const file of executables.filter((candidate) => startedAtInstall(pkg, candidate)).slice(0, 3)) {
      const windows = file.binary === "pe";
      findings.push(packageFinding("native-binary", windows ? "critical" : "high", `install-time code starts a bundled ${windows ? "Windows program" : "native executable"}`, file.path, file.path));
    }
    const runTime = executables.find((file) => !startedAtInstall(pkg, file) && startedBy(pkg.files, file));
    if (runTime) findings.push(packageFinding("native-binary", "medium", "code in the package starts a bundled native executable", runTime.path, runTime.path));
    return findings;
  },
};

/**
 * Scripts npm runs without being asked besides the install ones: uninstall
 * scripts (npm 6 and earlier ran them; the "Cursed" packages used
 * preuninstall) and prepare (run for git dependencies).
 */
const LIFECYCLE_EXTRA = ["preuninstall", "uninstall", "postuninstall", "prepare"] as const;

/** Named by an install command (`"postinstall": "lib.exe"`), or launched by install-time code. */
function startedAtInstall(pkg: PackageContext, binary: FileSummary): boolean {
  const name = posix.basename(binary.path);
  const commands = [...installScriptsOf(pkg.manifest).map(({ command }) => command), ...LIFECYCLE_EXTRA.map((script) => pkg.manifest.scripts[script] ?? "")];
  const named = commands.some((command) => command.split(/[\s"'&|;()]+/).some((word) => word === binary.path || posix.basename(word.replace(/\\/g, "/")) === name));
  return named || startedBy(pkg.files.filter((file) => pkg.installTimeFiles.has(file.path)), binary);
}

function startedBy(files: readonly FileSummary[], binary: FileSummary): boolean {
  const name = posix.basename(binary.path);
  return files.some((file) => file.launches?.includes(name) === true);
}

/**
 * The file names a file's process calls start or pass along
 * (`exec("lib.exe")`, `exec(dir + "\\extension.exe /shtml out.html")`),
 * base names only: the path is usually built at run time.
 */
export function launchedNames(file: FileContext): string[] {
  const names = new Set<string>();
  for (const call of processCalls(file).slice(0, 50)) {
    for (const word of commandLine(file, call).split(/[\s"']+/)) {
      const name = posix.basename(word.replace(/\\/g, "/"));
      if (/^[\w.-]+\.[\w]+$|^[\w-]+$/.test(name)) names.add(name);
    }
  }
  return [...names].slice(0, 100);
}
