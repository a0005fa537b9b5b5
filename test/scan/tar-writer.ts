import { gzipSync } from "node:zlib";

export interface TarFixtureEntry {
  path: string;
  content?: string | Uint8Array;
  /** "0" file, "2" symlink, "1" hard link, "5" directory, "3" char device. */
  type?: "0" | "1" | "2" | "3" | "5";
  linkTarget?: string;
}

/** Writes a ustar archive for tests, including entries a real packer would refuse to make. */
export function makeTarGz(entries: TarFixtureEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.content ?? "");
    const header = Buffer.alloc(512);
    header.write(entry.path.slice(0, 100), 0, "utf8");
    header.write("0000644\0", 100);
    header.write("0000000\0", 108);
    header.write("0000000\0", 116);
    header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    header.write("00000000000\0", 136);
    header.write(entry.type ?? "0", 156);
    header.write(entry.linkTarget ?? "", 157);
    header.write("ustar\0", 257);
    header.write("00", 263);
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
