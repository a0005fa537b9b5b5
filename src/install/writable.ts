import fs from "node:fs";
import path from "node:path";
import { FolderNotWritableError } from "./errors.js";

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
};

/**
 * An EACCES, EPERM or EROFS from writing into the project, as the user
 * error it is: the folder named is the nearest one that exists (the one
 * whose permissions to fix), not a file cordon was about to create.
 */
export function notWritableError(error: unknown): FolderNotWritableError | undefined {
  const { code, path: file } = (error ?? {}) as NodeJS.ErrnoException;
  const reason = code === undefined ? undefined : REASONS[code];
  if (reason === undefined || typeof file !== "string") return undefined;
  let folder = file;
  while (!fs.lstatSync(folder, { throwIfNoEntry: false })?.isDirectory() && path.dirname(folder) !== folder) folder = path.dirname(folder);
  const user = process.getuid?.();
  return new FolderNotWritableError(folder, `${reason}${user === undefined ? "" : ` (cordon runs as uid ${user})`}`, {
    hint: code === "EROFS"
      ? `Run cordon in a copy of the project on a writable disk.`
      : `Run cordon as the user who owns the project (see: ls -ld ${folder}), or make the folder writable for this user.`,
    cause: error,
  });
}

/** Creates `folder` (cordon's `.cordon`) up front, so a project cordon may not write fails before npm spends a minute installing. */
export function ensureWritableFolder(folder: string): void {
  try {
    fs.mkdirSync(folder, { recursive: true });
    fs.accessSync(folder, fs.constants.W_OK);
  } catch (error) {
    throw notWritableError(error) ?? error;
  }
}
