import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, posix, relative, sep } from "node:path";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { ScanError } from "../errors.js";
import { SCAN_LIMITS } from "../limits.js";
import { hostile } from "../package-files.js";
import type { Finding } from "../types.js";
import { readTar } from "./tar-reader.js";

const gunzipAsync = promisify(gunzip);

export interface Extracted {
  /** Findings about the archive itself: traversal, links, bombs. */
  findings: Finding[];
  /** Set when the archive could not be unpacked at all (a bomb, a corrupt archive). */
  unreadable: boolean;
}

/**
 * Unpacks an npm tarball into `destination` (a fresh, empty folder the
 * caller owns). Only regular files are written, each with `wx` (never over
 * an existing path) and mode 0644; links, devices and paths that leave the
 * package (`..`, absolute) are reported and skipped. Because nothing but
 * plain files and folders is ever created, no later entry can write through
 * a link. Like npm, the first path component ("package/") is dropped.
 */
export async function extractTarball(tarball: string, destination: string): Promise<Extracted> {
  const { size } = await stat(tarball);
  if (size > SCAN_LIMITS.maxTarballBytes) {
    throw new ScanError(`${tarball} is ${size} bytes; the limit for a package tarball is ${SCAN_LIMITS.maxTarballBytes >> 20} MiB.`, { input: tarball });
  }
  const archive = await unzipBounded(await readFile(tarball));
  if ("finding" in archive) return { findings: [archive.finding], unreadable: true };
  const findings: Finding[] = [];
  const madeDirs = new Set<string>();
  let written = 0;
  try {
    for (const entry of readTar(archive.bytes, SCAN_LIMITS.maxTarEntries)) {
      const path = safePath(entry.path);
      if (path === undefined) {
        findings.push(hostile("critical", entry.path, "tarball entry escapes the package folder (path traversal)"));
        continue;
      }
      if (entry.kind === "symlink" || entry.kind === "link") {
        findings.push(hostile("high", path, `tarball contains a ${entry.kind === "link" ? "hard link" : "symbolic link"} (not extracted)`, `${path} -> ${entry.linkTarget}`));
        continue;
      }
      if (entry.kind === "other") {
        findings.push(hostile("medium", path, "tarball contains a device, FIFO or other special file (not extracted)"));
        continue;
      }
      if (path === "" || entry.kind === "directory") continue;
      const target = join(destination, path);
      if (relative(destination, target).split(sep).includes("..")) continue;
      if (!madeDirs.has(dirname(target))) {
        await mkdir(dirname(target), { recursive: true });
        madeDirs.add(dirname(target));
      }
      await writeFile(target, entry.data, { flag: "wx", mode: 0o644 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "EEXIST" && error.code !== "EISDIR" && error.code !== "ENOTDIR") throw error;
        findings.push(hostile("low", path, "tarball lists this path twice (the first copy was kept)"));
      });
      written++;
    }
  } catch (error) {
    if (!(error instanceof ScanError)) throw error;
    findings.push(hostile("high", "(archive)", `the tarball is malformed: ${error.message}`));
    return { findings, unreadable: written === 0 };
  }
  return { findings, unreadable: false };
}

/** Relative path inside the package, or undefined when it would leave it. */
function safePath(raw: string): string | undefined {
  if (raw.includes("\0") || raw.includes("\\") || raw.startsWith("/")) return undefined;
  const parts = raw.split("/");
  if (parts.includes("..")) return undefined;
  const inside = posix.normalize(parts.slice(1).join("/") || ".");
  return inside === "." ? "" : inside.replace(/\/$/, "");
}

/**
 * Gunzips with a ceiling: a few KiB can expand to gigabytes. The ceiling is
 * the smaller of the absolute limit and a ratio of the compressed size.
 */
async function unzipBounded(compressed: Buffer): Promise<{ bytes: Uint8Array } | { finding: Finding }> {
  if (compressed[0] !== 0x1f || compressed[1] !== 0x8b) return { bytes: compressed };
  const ceiling = Math.min(SCAN_LIMITS.maxUnpackedBytes, Math.max(64 << 20, compressed.length * SCAN_LIMITS.maxCompressionRatio));
  try {
    return { bytes: await gunzipAsync(compressed, { maxOutputLength: ceiling }) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) {
      return { finding: hostile("high", "(archive)", `decompression bomb: unpacks to more than ${ceiling >> 20} MiB (stopped)`, `${compressed.length} bytes compressed`) };
    }
    return { finding: hostile("high", "(archive)", `the tarball is not valid gzip (${code ?? "error"})`) };
  }
}
