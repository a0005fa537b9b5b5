/**
 * Limits that keep a hostile package from stalling or crashing a scan. Each is
 * documented in docs/scan.md; a package that hits one gets a finding, so a
 * limit can never hide code silently.
 */
export const SCAN_LIMITS = {
  /** Files larger than this are not parsed; text-only checks still run. */
  maxParseBytes: 16 * 1024 * 1024,
  /** Files larger than this are not read at all (reported). */
  maxReadBytes: 64 * 1024 * 1024,
  /** Wall time for one file in a worker; the worker is killed past it. */
  fileTimeoutMs: 15_000,
  /** Files listed per package; the rest are reported, not scanned. */
  maxFilesPerPackage: 20_000,
  /** Folder depth inside one package. */
  maxDepth: 64,
  /** Tarballs: compressed size, unpacked size, and entries. */
  maxTarballBytes: 256 * 1024 * 1024,
  maxUnpackedBytes: 512 * 1024 * 1024,
  maxTarEntries: 50_000,
  /** Unpacked-to-packed ratio above which a tarball counts as a decompression bomb. */
  maxCompressionRatio: 200,
  /** Evidence is cut to this many characters. */
  maxEvidenceChars: 160,
} as const;
