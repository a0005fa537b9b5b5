import { promises as fs } from "node:fs";
import path from "node:path";

/**
 * What a project's `.cordon` folder holds, and which of it is shared:
 * `policy.json` is the project's policy (commit it); the audit log is this
 * machine's record and `install-code/` copies of approved code (brought back
 * from the registry when missing), so neither belongs in version control.
 */
export const CORDON_GITIGNORE = `# Written by cordon. Commit policy.json (and this file); the rest is this machine's.
audit.jsonl
install-code/
install-state.json
*.tmp
`;

/** Creates `<project>/.cordon` with its `.gitignore` (never replacing one the user edited). */
export async function ensureCordonFolder(projectDir: string): Promise<string> {
  const dir = path.join(projectDir, ".cordon");
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, ".gitignore"), CORDON_GITIGNORE, { flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  return dir;
}
