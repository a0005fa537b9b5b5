import { CordonError, type CordonErrorOptions } from "../errors.js";

export interface InstallErrorOptions extends CordonErrorOptions {
  /** The file that was rejected (package.json, package-lock.json, a package's file). */
  file?: string;
  /** The key inside that file, e.g. `packages["node_modules/x"].resolved` or `cordon.packages.esbuild.net`. */
  key?: string;
  /** Lockfile locations of the packages the error is about. */
  packages?: readonly string[];
}

/**
 * The dependency tree cannot be inventoried safely: a malformed lockfile, a
 * package whose files link outside its own folder, a package too large to hash.
 */
export class InstallError extends CordonError {
  readonly file: string | undefined;
  readonly key: string | undefined;
  readonly packages: readonly string[];

  constructor(message: string, options: InstallErrorOptions = {}) {
    super("E_INSTALL", message, options);
    this.file = options.file;
    this.key = options.key;
    this.packages = options.packages ?? [];
  }
}

/** The project's install-script policy (`allowScripts`, the `cordon` section) is malformed, or a policy command's argument is wrong. */
export class PolicyError extends CordonError {
  readonly file: string | undefined;
  readonly key: string | undefined;

  constructor(message: string, options: InstallErrorOptions = {}) {
    super("E_POLICY", message, options);
    this.file = options.file;
    this.key = options.key;
  }
}

/**
 * Exit statuses of `cordon install` and `cordon ci`, so CI can tell what
 * happened. npm's own failures end with npm's own status (1, or an errno- or
 * signal-derived one of 128 and up); a sandbox that cannot start ends with
 * 125, as in `cordon run`.
 */
export const EXIT_INSTALL_REFUSED = 2;
export const EXIT_NEEDS_APPROVAL = 3;
export const EXIT_SCRIPT_FAILED = 4;
export const EXIT_INTERRUPTED = 130;

/** Packages want to run code at install time and the policy does not cover them (no terminal to ask). No install script ran. */
export class ApprovalNeededError extends InstallError {
  constructor(message: string, options: InstallErrorOptions = {}) {
    super(message, { ...options, exitCode: EXIT_NEEDS_APPROVAL });
  }
}

/** An approved dependency's install script, or the project's own lifecycle script, ended with an error. */
export class ScriptFailedError extends InstallError {
  constructor(message: string, options: InstallErrorOptions = {}) {
    super(message, { ...options, exitCode: EXIT_SCRIPT_FAILED });
  }
}

/** npm itself failed; cordon ends with npm's exit status. No install script ran. */
export class NpmFailedError extends InstallError {
  readonly npmExitCode: number;

  constructor(message: string, npmExitCode: number, options: InstallErrorOptions = {}) {
    super(message, { ...options, exitCode: npmExitCode });
    this.npmExitCode = npmExitCode;
  }
}

/** The install was stopped (Ctrl-C, SIGTERM); running it again finishes the job. */
export class InstallInterruptedError extends InstallError {
  constructor(message: string, options: InstallErrorOptions = {}) {
    super(message, { ...options, exitCode: options.exitCode ?? EXIT_INTERRUPTED });
  }
}

/** cordon may not write where an install must: the project folder, its `.cordon` folder or `node_modules`. */
export class FolderNotWritableError extends InstallError {
  readonly folder: string;

  constructor(folder: string, reason: string, options: InstallErrorOptions = {}) {
    super(`Cannot write to ${folder}: ${reason}.`, { ...options, exitCode: EXIT_INSTALL_REFUSED, file: folder });
    this.folder = folder;
  }
}
