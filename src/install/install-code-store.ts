import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { readBounded } from "./bounded-read.js";
import { writeFileAtomic } from "./atomic-write.js";

/**
 * Copies of approved install code, addressed by content hash
 * (`.cordon/install-code/sha256/<hex>`), so that when a package's install
 * code changes the reviewer sees a diff against what was approved, not just
 * two hashes. Only files named by a pin are kept; a copy whose bytes do not
 * match its name is ignored.
 */
export class InstallCodeStore {
  readonly dir: string;

  constructor(projectDir: string, dir = path.join(projectDir, ".cordon", "install-code")) {
    this.dir = dir;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hex = createHash("sha256").update(bytes).digest("hex");
    const file = this.fileFor(hex);
    await fs.mkdir(path.dirname(file), { recursive: true });
    if ((await readBounded(file, bytes.length)) === undefined) {
      await writeFileAtomic(file, bytes);
    }
    return `sha256-${Buffer.from(hex, "hex").toString("base64")}`;
  }

  /** The bytes whose `sha256-<base64>` hash is given, if kept. */
  async get(hash: string, limit = 64 * 1024 ** 2): Promise<Buffer | undefined> {
    if (!hash.startsWith("sha256-")) return undefined;
    const hex = Buffer.from(hash.slice("sha256-".length), "base64").toString("hex");
    if (!/^[0-9a-f]{64}$/.test(hex)) return undefined;
    const bytes = await readBounded(this.fileFor(hex), limit).catch(() => undefined);
    if (bytes === undefined) return undefined;
    return createHash("sha256").update(bytes).digest("hex") === hex ? bytes : undefined;
  }

  private fileFor(hex: string): string {
    return path.join(this.dir, "sha256", hex.slice(0, 2), hex);
  }
}
