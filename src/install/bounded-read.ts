import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { InstallError } from "./errors.js";

/**
 * Reads a file of at most `limit` bytes without following a final symlink.
 * Package files are attacker-controlled: a multi-gigabyte `binding.gyp` or a
 * `package.json` that is a link to `~/.npmrc` must not be read.
 * Returns undefined when the file does not exist.
 */
export async function readBounded(file: string, limit: number): Promise<Buffer | undefined> {
  return readBoundedSync(file, limit);
}

/**
 * The synchronous form. Package files are small and capped, and thousands of
 * them are read per inventory: direct system calls beat thread-pool round trips.
 */
export function readBoundedSync(file: string, limit: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "ELOOP") throw isLink(file);
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return undefined;
    if (stat.size > limit) throw tooLarge(file, limit);
    const buffer = Buffer.alloc(Math.min(stat.size, limit) + 1);
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > limit) throw tooLarge(file, limit);
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

function isLink(file: string): InstallError {
  return new InstallError(`${file} is a symbolic link; cordon does not follow links inside packages.`, {
    file,
    hint: "Reinstall the package from the registry (npm never extracts links from tarballs), or deny its scripts.",
  });
}

function tooLarge(file: string, limit: number): InstallError {
  return new InstallError(`${file} is larger than ${Math.round(limit / 1024)} KiB, the most cordon reads for this kind of file.`, {
    file,
    hint: "A file this large here is unusual; inspect it, and deny the package's scripts if you do not expect it.",
  });
}

/** Parses JSON text, turning a syntax error into one that names the file and the fix. */
export function parseJsonText(text: string, file: string, fix: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InstallError(`${file} is not valid JSON: ${(error as Error).message}.`, { file, hint: fix, cause: error });
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `Object.hasOwn` lookup, so keys such as `__proto__` or `constructor` in hostile JSON are plain data. */
export function own<T = unknown>(record: Record<string, unknown>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? (record[key] as T) : undefined;
}
