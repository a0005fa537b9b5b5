import { CordonError, type CordonErrorOptions } from "../errors.js";

/** A scan could not be done at all (missing input, npm failed, unreadable tarball). */
export class ScanError extends CordonError {
  constructor(message: string, options: CordonErrorOptions = {}) {
    super("E_SCAN", message, options);
  }
}
