import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { analyzeInDepth, triageFile, type FileAnalysis, type FileInput } from "./analyze-file.js";
import { SCAN_LIMITS } from "./limits.js";
import { hostile } from "./package-files.js";

/** A file of a package to analyze, named by path so a worker can read it itself. */
export interface FileRef {
  /** Path inside the package, forward slashes. */
  path: string;
  absolute: string;
  installTime: boolean;
  /** By extension or because an install script runs it; other files get only a binary check. */
  isJavaScript: boolean;
  /** .sh, .bat, .cmd, .ps1: text-only checks. */
  shellScript: boolean;
}

/** Only the first bytes of other files are read: enough to recognise an executable. */
const HEAD_BYTES = 4096;

/**
 * Reads, triages and (when triage lets it through) analyzes files, one at a
 * time, into one reusable read buffer: most files are read, tested against
 * the pre-filter and dropped, and a fresh buffer for each would be most of
 * the garbage a scan makes. One per thread (each worker has its own).
 */
export class FileAnalyzer {
  #scratch: Buffer = Buffer.allocUnsafe(1 << 20);

  analyze(ref: FileRef): FileAnalysis {
    const whole = ref.isJavaScript || ref.shellScript;
    const limit = whole ? SCAN_LIMITS.maxReadBytes : HEAD_BYTES;
    let fd: number | undefined;
    try {
      fd = openSync(ref.absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
      const { size } = fstatSync(fd);
      if (whole && size > limit) return unreadable(ref, size, `larger than ${limit >> 20} MiB: not read`);
      const bytes = this.#readAll(fd, Math.min(size, limit));
      const input: FileInput = { path: ref.path, bytes, installTime: ref.installTime, isJavaScript: ref.isJavaScript, shellScript: ref.shellScript };
      // analyzeInDepth copies what it keeps (the text), so the buffer can be reused.
      return triageFile(input) ?? analyzeInDepth(input);
    } catch (error) {
      return unreadable(ref, 0, `could not be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  #readAll(fd: number, length: number): Uint8Array {
    if (this.#scratch.length < length) this.#scratch = Buffer.allocUnsafe(Math.max(length, this.#scratch.length * 2));
    let offset = 0;
    while (offset < length) {
      const read = readSync(fd, this.#scratch, offset, length - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return this.#scratch.subarray(0, offset);
  }
}

/** What a file that was never analyzed (unreadable, timed out, crashed a worker) reports. */
export function unreadable(ref: FileRef, size: number, why: string): FileAnalysis {
  return {
    summary: { path: ref.path, size, isJavaScript: ref.isJavaScript, minified: false, binary: undefined },
    findings: [hostile(ref.installTime ? "high" : "medium", ref.path, why)],
    parsed: false,
  };
}
