import { collectorAndSecrets } from "./collector-and-secrets.js";
import { credentialFiles } from "./credential-files.js";
import { cryptominer } from "./cryptominer.js";
import { dependencyConfusion } from "./dependency-confusion.js";
import { destructive, destructiveScripts } from "./destructive.js";
import { detachedSpawn } from "./detached-spawn.js";
import { downloadExecute } from "./download-execute.js";
import { envHarvest } from "./env-harvest.js";
import { exfiltration } from "./exfiltration.js";
import { exfiltrationAcrossFiles } from "./exfiltration-across-files.js";
import { geoTargeting } from "./geo-targeting.js";
import { installScripts } from "./install-scripts.js";
import { manifestConfusion } from "./manifest-confusion.js";
import { minifiedInstallScript } from "./minified-install-script.js";
import { nativeBinary } from "./native-binary.js";
import { obfuscation } from "./obfuscation.js";
import { reverseShell, reverseShellScripts } from "./reverse-shell.js";
import type { FileRule, PackageRule } from "./rule.js";
import { targetedPayload } from "./targeted-payload.js";
import { typosquat } from "./typosquat.js";
import { worm } from "./worm.js";

/** Rules that read one JavaScript file (its AST when it parsed, else its text). */
export const FILE_RULES: readonly FileRule[] = [
  envHarvest, credentialFiles, exfiltration, downloadExecute, obfuscation, detachedSpawn, worm, targetedPayload, geoTargeting, cryptominer,
  reverseShell, destructive,
];

/** Rules that read the package as a whole: metadata, file list, per-file summaries. */
export const PACKAGE_RULES: readonly PackageRule[] = [
  installScripts, minifiedInstallScript, manifestConfusion, typosquat, dependencyConfusion, nativeBinary,
  reverseShellScripts, destructiveScripts, collectorAndSecrets, exfiltrationAcrossFiles,
];

/** Findings the scanner itself reports about input it could not fully read. */
export const HOSTILE_INPUT_RULE = { id: "hostile-input", summary: "input built to break or evade a scanner: unparseable or huge files, deep nesting, tarball tricks" } as const;

/** One entry per rule id: a rule may read both files and package.json (reverse-shell, destructive). */
export const ALL_RULES: ReadonlyArray<{ id: string; summary: string }> = [...new Map([...FILE_RULES, ...PACKAGE_RULES, HOSTILE_INPUT_RULE].map((rule) => [rule.id, rule])).values()];
