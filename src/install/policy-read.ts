import path from "node:path";
import { parseJsonText, readBounded } from "./bounded-read.js";
import { PolicyError } from "./errors.js";
import { parseInstallPolicy, type InstallPolicy } from "./policy-file.js";

export interface PolicySource {
  readonly file: string;
  /** The file's text, for edits that keep its formatting. */
  readonly text: string;
  readonly data: Record<string, unknown>;
  readonly policy: InstallPolicy;
}

const PACKAGE_JSON_LIMIT = 16 * 1024 ** 2;

/** Reads and validates the project's package.json policy (`allowScripts`, `cordon.packages`). */
export async function readInstallPolicy(projectDir: string): Promise<PolicySource> {
  const file = path.join(path.resolve(projectDir), "package.json");
  const bytes = await readBounded(file, PACKAGE_JSON_LIMIT).catch((error: unknown) => {
    throw new PolicyError(`${file} cannot be read: ${(error as Error).message}`, { file, hint: "Check the file is a regular file you can read.", cause: error });
  });
  if (bytes === undefined) {
    throw new PolicyError(`${file} does not exist.`, { file, hint: "Run cordon in the project folder, the one with package.json." });
  }
  const text = bytes.toString("utf8");
  let data: unknown;
  try {
    data = parseJsonText(text, file, "");
  } catch (error) {
    throw new PolicyError((error as Error).message, { file, hint: "Fix the JSON syntax (a missing comma or quote), e.g. with `npm pkg get name` to see npm's error.", cause: error });
  }
  const policy = parseInstallPolicy(data, file);
  return { file, text, data: data as Record<string, unknown>, policy };
}
