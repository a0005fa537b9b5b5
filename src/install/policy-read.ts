import path from "node:path";
import { parseJsonText, readBounded } from "./bounded-read.js";
import { PolicyError } from "./errors.js";
import { parseInstallPolicy, POLICY_FILE, type InstallPolicy } from "./policy-file.js";

/** One file of the policy as read: its text, for edits that keep its formatting, and its data. */
export interface PolicyText {
  readonly file: string;
  readonly text: string;
  readonly data: Record<string, unknown>;
}

export interface PolicySource extends PolicyText {
  /** The policy file (`.cordon/policy.json`); `text` and `data` undefined when it does not exist yet. */
  readonly policyFile: { readonly file: string; readonly text: string | undefined; readonly data: Record<string, unknown> | undefined };
  readonly policy: InstallPolicy;
}

const POLICY_LIMIT = 16 * 1024 ** 2;

/** Reads and validates the project's policy: package.json (`allowScripts`, a `cordon` section from before) and `.cordon/policy.json`. */
export async function readInstallPolicy(projectDir: string): Promise<PolicySource> {
  const root = path.resolve(projectDir);
  const manifest = await readJson(path.join(root, "package.json"), "Run cordon in the project folder, the one with package.json.");
  if (manifest === undefined) {
    const file = path.join(root, "package.json");
    throw new PolicyError(`${file} does not exist.`, { file, hint: "Run cordon in the project folder, the one with package.json." });
  }
  const policyFile = path.join(root, POLICY_FILE);
  const policyText = await readJson(policyFile, `Fix it, or restore it from version control (${POLICY_FILE} is meant to be committed).`);
  const policy = parseInstallPolicy(manifest.data, manifest.file, { data: policyText?.data, file: policyFile });
  return { ...manifest, policyFile: { file: policyFile, text: policyText?.text, data: policyText?.data }, policy };
}

async function readJson(file: string, fix: string): Promise<PolicyText | undefined> {
  const bytes = await readBounded(file, POLICY_LIMIT).catch((error: unknown) => {
    throw new PolicyError(`${file} cannot be read: ${(error as Error).message}`, { file, hint: "Check the file is a regular file you can read.", cause: error });
  });
  if (bytes === undefined) return undefined;
  const text = bytes.toString("utf8");
  let data: unknown;
  try {
    data = parseJsonText(text, file, "");
  } catch (error) {
    throw new PolicyError((error as Error).message, { file, hint: `Fix the JSON syntax (a missing comma or quote). ${fix}`, cause: error });
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new PolicyError(`${file} is not a JSON object.`, { file, hint: fix });
  }
  return { file, text, data: data as Record<string, unknown> };
}
