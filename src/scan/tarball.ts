import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { ScanCache } from "./cache.js";
import { cacheKeyOf, scanPackageDir, type ScanOptions } from "./scan-package.js";
import { extractTarball } from "./tarball/extract.js";
import type { PackageReport } from "./types.js";
import { verdictOf } from "./verdict.js";

/**
 * Scans a package tarball (.tgz) without installing it: it is unpacked with
 * strict limits into a private temporary folder that is removed afterwards,
 * on every path. Bundled dependencies are scanned as part of the package.
 */
export async function scanTarball(tarball: string, options: ScanOptions = {}): Promise<PackageReport> {
  const integrity = options.integrity ?? (await sha512Of(tarball));
  const scanOptions: ScanOptions = { ...options, integrity, includeNodeModules: true, source: options.source ?? tarball };
  const cache = options.cache === false ? undefined : (options.cache ?? new ScanCache());
  const key = cacheKeyOf(scanOptions);
  const hit = key ? await cache?.get(key) : undefined;
  if (hit) return hit;
  const workspace = await mkdtemp(join(tmpdir(), "cordon-scan-"));
  try {
    const root = join(workspace, "package");
    const extracted = await extractTarball(tarball, root);
    if (extracted.unreadable) return unreadableReport(tarball, integrity, extracted.findings, scanOptions.source!);
    return await scanPackageDir(root, { ...scanOptions, cache: cache ?? false, extraFindings: [...(options.extraFindings ?? []), ...extracted.findings] });
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

function unreadableReport(tarball: string, integrity: string, findings: PackageReport["findings"], source: string): PackageReport {
  return {
    name: basename(tarball).replace(/\.t(?:ar\.)?gz$/, ""),
    version: "",
    verdict: verdictOf(findings),
    findings,
    source,
    integrity,
    cached: false,
    stats: { files: 0, parsedFiles: 0, jsBytes: 0, milliseconds: 0 },
  };
}

/** The integrity npm records for a tarball: "sha512-" and the base64 digest. */
export async function sha512Of(path: string): Promise<string> {
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest("base64")}`;
}
