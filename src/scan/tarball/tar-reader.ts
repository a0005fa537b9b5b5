import { ScanError } from "../errors.js";

export type TarEntryKind = "file" | "directory" | "link" | "symlink" | "other";

export interface TarEntry {
  /** The path as written in the archive: hostile, not yet checked. */
  path: string;
  kind: TarEntryKind;
  linkTarget: string;
  data: Uint8Array;
}

const BLOCK = 512;

/**
 * Reads ustar/pax/GNU tar headers from an in-memory archive. It only reads:
 * what to do with each entry (and whether its path is safe) is the caller's
 * decision. Sizes are checked against the archive's real length, so a
 * header cannot make the reader allocate or skip past the end.
 */
export function* readTar(archive: Uint8Array, maxEntries: number): Generator<TarEntry> {
  let offset = 0;
  let entries = 0;
  let pending: { path?: string; linkTarget?: string } = {};
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return;
    if (!checksumMatches(header)) throw new ScanError(`tar header at byte ${offset} is corrupt (bad checksum).`);
    if (++entries > maxEntries) throw new ScanError(`the archive has more than ${maxEntries} entries.`);
    const size = readSize(header);
    const start = offset + BLOCK;
    if (start + size > archive.length) throw new ScanError(`tar entry at byte ${offset} claims ${size} bytes past the end of the archive.`);
    const data = archive.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    const type = String.fromCharCode(header[156]!);
    if (type === "x") {
      pending = { ...pending, ...paxRecords(data) };
      continue;
    }
    if (type === "g") continue;
    if (type === "L" || type === "K") {
      pending = { ...pending, [type === "L" ? "path" : "linkTarget"]: cString(data) };
      continue;
    }
    yield {
      path: pending.path ?? headerPath(header),
      kind: kindOf(type),
      linkTarget: pending.linkTarget ?? cString(header.subarray(157, 257)),
      data,
    };
    pending = {};
  }
}

function kindOf(type: string): TarEntryKind {
  switch (type) {
    case "0": case "\0": case "7": return "file";
    case "5": return "directory";
    case "1": return "link";
    case "2": return "symlink";
    default: return "other";
  }
}

function headerPath(header: Uint8Array): string {
  const name = cString(header.subarray(0, 100));
  const isUstar = cString(header.subarray(257, 263)).startsWith("ustar");
  const prefix = isUstar ? cString(header.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${name}` : name;
}

function readSize(header: Uint8Array): number {
  const field = header.subarray(124, 136);
  if (field[0]! & 0x80) throw new ScanError("tar entry uses a base-256 size (over 8 GiB): refused.");
  const size = Number.parseInt(cString(field).trim() || "0", 8);
  if (!Number.isSafeInteger(size) || size < 0) throw new ScanError("tar entry has an unreadable size.");
  return size;
}

function checksumMatches(header: Uint8Array): boolean {
  const stored = Number.parseInt(cString(header.subarray(148, 156)).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return stored === sum;
}

/** pax records: "LEN key=value\n"; only path and linkpath matter here. */
function paxRecords(data: Uint8Array): { path?: string; linkTarget?: string } {
  const text = Buffer.from(data).toString("utf8");
  const found: { path?: string; linkTarget?: string } = {};
  let at = 0;
  while (at < text.length) {
    const space = text.indexOf(" ", at);
    const length = Number.parseInt(text.slice(at, space), 10);
    if (space < 0 || !Number.isInteger(length) || length <= 0) break;
    const record = text.slice(space + 1, at + length - 1);
    const equals = record.indexOf("=");
    const key = record.slice(0, equals);
    if (key === "path") found.path = record.slice(equals + 1);
    if (key === "linkpath") found.linkTarget = record.slice(equals + 1);
    at += length;
  }
  return found;
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString("utf8");
}
