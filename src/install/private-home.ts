import { randomBytes } from "node:crypto";
import { SANDBOX_HOME } from "../engine/plan.js";

/** Something an install script left in its private home, which goes with the sandbox. */
export interface HomeWrite {
  /** As the user would write it: `~/.cache/puppeteer`. */
  readonly path: string;
  readonly bytes: number;
}

/** Folders whose children are what tools own (`~/.cache/puppeteer`, `~/.local/share/x`). */
const SHARED_FOLDERS = new Set([".cache", ".config", ".local/share", ".local/state", ".local/lib"]);
const MAX_REPORTED = 10;

/**
 * The script's argv for `/bin/sh`: npm's `sh -c SCRIPT`, with a prelude and
 * an epilogue run by the sandbox's own shell.
 *
 * The prelude makes each `~/…` write grant appear at the same place under
 * the sandbox's private $HOME (a link to the granted folder, which the
 * sandbox can already write at its host path): a script writing
 * `$HOME/.cache/puppeteer` lands in a granted `~/.cache/puppeteer`. The
 * link gives nothing the grant did not.
 *
 * The epilogue lists, on stderr behind `marker`, what the script left in
 * its private home (`du -x`: links to granted folders are not counted), so
 * cordon can say it was discarded. The marker is visible to the script,
 * which can forge such lines: the report is advice, bounded and sanitized,
 * and decides nothing.
 */
export function withPrivateHomeReport(command: string, writeGrants: readonly string[], hostHome: string): { args: string[]; marker: string } {
  const marker = `cordon-home-${randomBytes(8).toString("hex")}`;
  const homeGrants = writeGrants.filter((w) => w.startsWith("~/") && w.length > 2).map((w) => w.slice(2).replace(/\/+$/, ""));
  const wrapper = [
    'cmd=$1 marker=$2 hosthome=$3',
    "shift 3",
    'for rel in "$@"; do',
    '  case $rel in */*) mkdir -p "$HOME/${rel%/*}" 2>/dev/null;; esac',
    '  ln -sfn "$hosthome/$rel" "$HOME/$rel" 2>/dev/null',
    "done",
    '/bin/sh -c "$cmd"',
    "status=$?",
    'du -akx --max-depth=3 "$HOME" 2>/dev/null | sed "s|^|$marker |" >&2',
    'exit "$status"',
  ].join("\n");
  return { args: ["-c", wrapper, "cordon-install-script", command, marker, hostHome, ...homeGrants], marker };
}

/** Takes the epilogue's lines out of the script's stderr and reads them. */
export function takeHomeReport(stderr: string, marker: string): { stderr: string; writes: HomeWrite[] } {
  const kept: string[] = [];
  const sizes = new Map<string, number>();
  const prefix = `${marker} `;
  for (const line of stderr.split("\n")) {
    if (!line.startsWith(prefix)) {
      kept.push(line);
      continue;
    }
    const match = /^(\d+)\t(.*)$/.exec(line.slice(prefix.length));
    if (!match || !match[2]!.startsWith(`${SANDBOX_HOME}/`)) continue;
    sizes.set(match[2]!.slice(SANDBOX_HOME.length + 1), Number(match[1]) * 1024);
  }
  const writes: HomeWrite[] = [];
  for (const [relative, bytes] of sizes) {
    if (bytes > 0 && isReportedLevel(relative)) writes.push({ path: `~/${relative}`, bytes });
  }
  writes.sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path));
  return { stderr: kept.join("\n"), writes: writes.slice(0, MAX_REPORTED) };
}

/** `~/.npm` and `~/.foorc`, but inside shared folders the tool's own folder: `~/.cache/puppeteer`. */
function isReportedLevel(relative: string): boolean {
  const parts = relative.split("/");
  for (let depth = parts.length - 1; depth >= 1; depth--) {
    if (SHARED_FOLDERS.has(parts.slice(0, depth).join("/"))) return depth === parts.length - 1;
  }
  return parts.length === 1 && !SHARED_FOLDERS.has(relative) && relative !== ".local";
}
