import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";

/**
 * Replaces `file` with `text` so that a reader (or a crash) sees the old
 * content or the new, never half of either: write a temporary file in the
 * same folder (so rename stays on one filesystem), flush it, keep the old
 * file's mode, then rename over. The temporary file is removed on failure.
 */
export async function writeFileAtomic(file: string, text: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.cordon-${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
  const mode = await fs.stat(file).then((s) => s.mode & 0o7777, () => 0o644);
  const handle = await fs.open(temp, "wx", mode);
  try {
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
