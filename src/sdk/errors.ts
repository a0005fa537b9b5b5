import { CordonError, type CordonErrorOptions } from "../errors.js";

/**
 * A command run with `sandbox.sh` ended with a non-zero exit code. Shaped as
 * `@deno/sandbox`'s: `code` is the exit code (a number), so code written for
 * it keeps working; the cordon error code is on `errorCode`.
 */
export class SandboxCommandError extends Error {
  readonly code: number;
  readonly errorCode = "E_COMMAND_FAILED" as const;
  readonly stderrText: string | null;

  constructor(message: string, code: number, stderrText: string | null = null) {
    super(message);
    this.name = "SandboxCommandError";
    this.code = code;
    this.stderrText = stderrText;
  }
}

/** A file, snapshot, volume or sandbox that does not exist. `errno` is the POSIX name when one applies. */
export class SandboxNotFoundError extends CordonError {
  readonly errno: string;
  constructor(message: string, options: CordonErrorOptions & { errno?: string } = {}) {
    super("E_NOT_FOUND", message, options);
    this.errno = options.errno ?? "ENOENT";
  }
}

/** A file operation inside the sandbox failed; `errno` names the reason (EACCES, EEXIST, EISDIR, ...). */
export class SandboxFsError extends CordonError {
  readonly errno: string;
  readonly path: string;
  constructor(message: string, errno: string, path: string, options: CordonErrorOptions = {}) {
    super("E_DENIED", message, options);
    this.errno = errno;
    this.path = path;
  }
}

/** The sandbox ended (closed, killed, timed out or hit its memory limit) while something was still asked of it. */
export class SandboxClosedError extends CordonError {
  constructor(message: string, options: CordonErrorOptions = {}) {
    super("E_SANDBOX_START", message, options);
  }
}

/** The sandbox's wall-clock timeout ended it. */
export class SandboxTimeoutError extends CordonError {
  constructor(message: string, options: CordonErrorOptions = {}) {
    super("E_TIMEOUT", message, options);
  }
}
