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
    let fd: number | undefined;
    try {
      fd = openSync(ref.absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
      const { size } = fstatSync(fd);
      let kind = { isJavaScript: ref.isJavaScript, shellScript: ref.shellScript };
      let whole = kind.isJavaScript || kind.shellScript;
      if (!whole) {
        // A file without a code extension is still code when it starts
        // with a shebang: bin scripts (`bin/cli`) and scripts a package
        // runs by name. Their first line says which interpreter.
        kind = scriptByShebang(this.#readAll(fd, Math.min(size, SHEBANG_BYTES))) ?? kind;
        whole = kind.isJavaScript || kind.shellScript;
      }
      const limit = whole ? SCAN_LIMITS.maxReadBytes : HEAD_BYTES;
      if (whole && size > limit) return unreadable(ref, size, `larger than ${limit >> 20} MiB: not read`);
      const bytes = this.#readAll(fd, Math.min(size, limit));
      const input: FileInput = { path: ref.path, bytes, installTime: ref.installTime, ...kind };
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

const SHEBANG_BYTES = 128;

function scriptByShebang(head: Uint8Array): { isJavaScript: boolean; shellScript: boolean } | undefined {
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const line = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString("latin1").split("\n")[0]!;
  if (/\b(?:node|nodejs|bun|deno)\b/.test(line)) return { isJavaScript: true, shellScript: false };
  if (/\/(?:env\s+)?(?:ba|z|da|k)?sh\b/.test(line)) return { isJavaScript: false, shellScript: true };
  return undefined;
}

/** What a file that was never analyzed (unreadable, timed out, crashed a worker) reports. */
export function unreadable(ref: FileRef, size: number, why: string): FileAnalysis {
  return {
    summary: { path: ref.path, size, isJavaScript: ref.isJavaScript, minified: false, binary: undefined },
    findings: [hostile(ref.installTime ? "high" : "medium", ref.path, why)],
    parsed: false,
  };
}
