/**
 * One error hierarchy for every front door. Each error carries a stable `code`
 * for programs and a message written for people: it names the input, the rule
 * it broke and what to do about it. The CLI prints `message` (and `hint`)
 * and never a stack trace for these.
 */
export type ErrorCode =
  | "E_CONFIG"
  | "E_DENIED"
  | "E_BACKEND_UNAVAILABLE"
  | "E_COMMAND_NOT_FOUND"
  | "E_SANDBOX_START"
  | "E_NOT_FOUND"
  | "E_LIMIT"
  | "E_TIMEOUT"
  | "E_POLICY"
  | "E_INSTALL"
  | "E_SCAN";

export interface CordonErrorOptions {
  /** What the user can do about it, e.g. "run again with --allow-read=./data". */
  hint?: string;
  /** The input that was rejected (a flag, a file, an option name). */
  input?: string;
  cause?: unknown;
  /** The exit status the CLI ends with for this error, when the command defines one (e.g. cordon install's). */
  exitCode?: number;
}

export class CordonError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly input: string | undefined;
  readonly exitCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: CordonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.input = options.input;
    this.exitCode = options.exitCode;
  }
}

/** A flag, option, file or argument given by the user is not acceptable. */
export class ConfigError extends CordonError {
  constructor(message: string, options: CordonErrorOptions = {}) {
    super("E_CONFIG", message, options);
  }
}

/** The isolation backend cannot run on this machine (missing tool, no user namespaces, ...). */
export class BackendUnavailableError extends CordonError {
  constructor(message: string, options: CordonErrorOptions = {}) {
    super("E_BACKEND_UNAVAILABLE", message, options);
  }
}

/** The backend is present but this sandbox failed while being set up. */
export class SandboxStartError extends CordonError {
  constructor(message: string, options: CordonErrorOptions = {}) {
    super("E_SANDBOX_START", message, options);
  }
}

/** The command to run does not exist or is not visible inside the sandbox. */
export class CommandNotFoundError extends CordonError {
  constructor(message: string, options: CordonErrorOptions = {}) {
    super("E_COMMAND_NOT_FOUND", message, options);
  }
}

export function isCordonError(value: unknown): value is CordonError {
  return value instanceof CordonError;
}
