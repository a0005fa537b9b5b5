import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "../errors.js";

/**
 * `util.parseArgs`, with its errors turned into a user error that names the
 * command and points at its help (never a stack trace for a mistyped flag).
 */
export function parseCommandFlags<T extends ParseArgsConfig>(command: string, config: T, hint = `See cordon ${command} --help.`): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/\. To specify a positional argument.*$/s, "");
    throw new ConfigError(`cordon ${command}: ${message}`, { hint });
  }
}
