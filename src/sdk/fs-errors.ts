import { SandboxFsError } from "./errors.js";

/** coreutils' messages (LC_ALL=C) and the errno each one means. */
const MESSAGES: [string, string][] = [
  ["No such file or directory", "ENOENT"],
  ["Directory nonexistent", "ENOENT"],
  ["Permission denied", "EACCES"],
  ["Operation not permitted", "EPERM"],
  ["File exists", "EEXIST"],
  ["cannot overwrite existing file", "EEXIST"],
  ["Is a directory", "EISDIR"],
  ["Not a directory", "ENOTDIR"],
  ["Directory not empty", "ENOTEMPTY"],
  ["Read-only file system", "EROFS"],
  ["No space left on device", "ENOSPC"],
  ["Too many levels of symbolic links", "ELOOP"],
  ["Invalid argument", "EINVAL"],
  ["File name too long", "ENAMETOOLONG"],
  ["Invalid cross-device link", "EXDEV"],
];

/** Turns a failed tool's stderr into an error whose `errno` says why. */
export function fsErrorFrom(operation: string, target: string, stderr: string, fallbackErrno = "EIO"): Error {
  const errno = MESSAGES.find(([text]) => stderr.includes(text))?.[1] ?? fallbackErrno;
  const reason = stderr.trim().split("\n").pop()?.slice(0, 300) || errno;
  if (errno === "ENOENT") {
    return new SandboxFsError(`${operation} ${target}: no such file or directory in the sandbox.`, errno, target, {
      hint: "Paths are inside the sandbox; relative ones start at /home/sandbox.",
    });
  }
  return new SandboxFsError(`${operation} ${target}: ${reason}`, errno, target);
}
