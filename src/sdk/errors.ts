import { ConfigError, CordonError, type CordonErrorOptions, type ErrorCode } from "../errors.js";

/**
 * `@deno/sandbox`'s base class. Every cordon error the SDK throws
 * (ConfigError, SandboxStartError, ...) counts as one, so code written for
 * Deno that catches SandboxSdkError keeps catching; `code` is then cordon's
 * stable code (E_CONFIG, ...), `hint` says what to do.
 */
export class SandboxSdkError extends CordonError {
  constructor(code: ErrorCode, message: string, options: CordonErrorOptions = {}) {
    super(code, message, options);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === SandboxSdkError) return value instanceof CordonError;
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** A bad `timeout` or `extendTimeout()` duration (Deno's class; a ConfigError, E_CONFIG). */
export class InvalidTimeoutError extends ConfigError {}

/** A bad `memory` (or `disk`) size (Deno's class; a ConfigError, E_CONFIG). */
export class InvalidMemoryError extends ConfigError {}

/**
 * The sandbox ended (closed, killed, timed out or hit its memory limit)
 * while something was still asked of it. Deno's name for it; cordon's
 * SandboxClosedError and SandboxTimeoutError are both of this class.
 */
export class ConnectionClosedError extends SandboxSdkError {
  constructor(message: string, options: CordonErrorOptions = {}, code: ErrorCode = "E_SANDBOX_START") {
    super(code, message, options);
  }
}

export class SandboxClosedError extends ConnectionClosedError {}

/** The sandbox's wall-clock timeout ended it. */
export class SandboxTimeoutError extends ConnectionClosedError {
  constructor(message: string, options: CordonErrorOptions = {}) {
    super(message, options, "E_TIMEOUT");
  }
}

/**
 * Exported because `@deno/sandbox` exports them, so `instanceof` checks in
 * code written for it compile and run. A local sandbox has no connection to
 * establish, no token, no RPC and no API, so cordon never throws these.
 */
export class ConnectionEstablishmentError extends SandboxSdkError {
  constructor(message: string, options: CordonErrorOptions = {}) { super("E_SANDBOX_START", message, options); }
}
export class RpcError extends SandboxSdkError {
  constructor(message: string, options: CordonErrorOptions = {}) { super("E_SANDBOX_START", message, options); }
}
export class ApiError extends SandboxSdkError {
  constructor(message: string, options: CordonErrorOptions = {}) { super("E_SANDBOX_START", message, options); }
}
export class NetworkError extends SandboxSdkError {
  constructor(message: string, options: CordonErrorOptions = {}) { super("E_SANDBOX_START", message, options); }
}
export class SandboxKillError extends SandboxSdkError {
  constructor(message: string, options: CordonErrorOptions = {}) { super("E_SANDBOX_START", message, options); }
}
export class InvalidTokenError extends SandboxSdkError {
  constructor(message: string, options: CordonErrorOptions = {}) { super("E_CONFIG", message, options); }
}
export class MissingTokenError extends SandboxSdkError {
  constructor(message = "cordon needs no token.", options: CordonErrorOptions = {}) { super("E_CONFIG", message, options); }
}

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

/** A snapshot, volume or sandbox that does not exist (E_NOT_FOUND). A missing *file* is a SandboxFsError named "NotFound". */
export class SandboxNotFoundError extends CordonError {
  readonly errno = "ENOENT";
  constructor(message: string, options: CordonErrorOptions = {}) {
    super("E_NOT_FOUND", message, options);
  }
}

/**
 * The names Deno gives its file errors (`Deno.errors.NotFound`, ...), by
 * errno. Others are plain "Error" there too, told apart by `code`.
 */
const DENO_ERROR_NAMES: Record<string, string> = {
  ENOENT: "NotFound",
  EEXIST: "AlreadyExists",
  EACCES: "PermissionDenied",
  EPERM: "PermissionDenied",
  EISDIR: "IsADirectory",
  ENOTDIR: "NotADirectory",
  ELOOP: "FilesystemLoop",
  EBUSY: "Busy",
};

/**
 * A file operation inside the sandbox failed. Shaped as the errors
 * `@deno/sandbox`'s fs throws: `name` is Deno's ("NotFound",
 * "AlreadyExists", "PermissionDenied", ...), `code` the errno ("ENOENT").
 * cordon's stable code is on `errorCode`; `errno` repeats `code`.
 */
export class SandboxFsError extends Error {
  readonly code: string;
  readonly errno: string;
  readonly path: string;
  readonly errorCode: "E_NOT_FOUND" | "E_DENIED";
  readonly hint: string | undefined;

  constructor(message: string, errno: string, path: string, options: { hint?: string } = {}) {
    super(message);
    this.name = DENO_ERROR_NAMES[errno] ?? "Error";
    this.code = errno;
    this.errno = errno;
    this.path = path;
    this.errorCode = errno === "ENOENT" ? "E_NOT_FOUND" : "E_DENIED";
    this.hint = options.hint;
  }
}
