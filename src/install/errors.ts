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
