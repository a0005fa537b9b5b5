import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { SCAN_LIMITS } from "./limits.js";
import type { Finding } from "./types.js";

export interface ListedFile {
  /** Relative, forward slashes. */
  path: string;
  absolute: string;
}

export interface PackageListing {
  files: ListedFile[];
  findings: Finding[];
}

/**
 * Lists a package folder without following links: a symlink in a package can
 * point at `~/.ssh` or loop forever, so links are reported, never entered.
 * Nested `node_modules` are separate packages (scanned on their own by
 * scanTree) unless the caller asks to include them (bundled dependencies).
 * Iterative, with depth and count limits.
 */
export async function listPackageFiles(root: string, options: { includeNodeModules: boolean }): Promise<PackageListing> {
  const files: ListedFile[] = [];
  const findings: Finding[] = [];
  const pending: Array<{ relative: string; depth: number }> = [{ relative: "", depth: 0 }];
  while (pending.length > 0) {
    const { relative, depth } = pending.pop()!;
    // Synchronous on purpose: a listing is thousands of tiny calls, and a
    // round trip through libuv's thread pool for each costs more than the call.
    let entries;
    try {
      entries = readdirSync(join(root, relative), { withFileTypes: true });
    } catch (error) {
      if (relative === "") throw error;
      findings.push(hostile("medium", relative, `a folder that could not be listed (${(error as NodeJS.ErrnoException).code ?? "error"}): not scanned`));
      continue;
    }
    for (const entry of entries) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isSymbolicLink()) {
        findings.push(hostile("low", path, "a symbolic link inside the package (not followed)"));
      } else if (entry.isDirectory()) {
        if (entry.name === "node_modules" && !options.includeNodeModules) continue;
        if (depth + 1 > SCAN_LIMITS.maxDepth) findings.push(hostile("medium", path, `folders nested deeper than ${SCAN_LIMITS.maxDepth} levels (not scanned)`));
        else pending.push({ relative: path, depth: depth + 1 });
      } else if (entry.isFile()) {
        if (files.length >= SCAN_LIMITS.maxFilesPerPackage) {
          findings.push(hostile("medium", path, `more than ${SCAN_LIMITS.maxFilesPerPackage} files: the rest were not scanned`));
          return { files, findings };
        }
        files.push({ path, absolute: join(root, path) });
      }
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { files, findings };
}

/** Reads at most `limit` bytes; `O_NOFOLLOW` so a link swapped in after listing is not followed. */
export function readHead(absolute: string, limit: number): { bytes: Uint8Array; size: number } {
  const fd = openSync(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = fstatSync(fd);
    const bytes = new Uint8Array(Math.min(size, limit));
    let offset = 0;
    while (offset < bytes.length) {
      const read = readSync(fd, bytes, offset, bytes.length - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return { bytes: bytes.subarray(0, offset), size };
  } finally {
    closeSync(fd);
  }
}

export function hostile(severity: Finding["severity"], file: string, message: string, evidence = file): Finding {
  return { rule: "hostile-input", severity, file, line: 0, column: 0, message, evidence };
}
