import path from "node:path";
import { InstallError } from "./errors.js";
import { isRecord, own, parseJsonText, readBounded, readBoundedSync } from "./bounded-read.js";

/** The fields of an installed package's own package.json that matter at install time. Untrusted. */
export interface InstalledManifest {
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly scripts: Readonly<Record<string, string>>;
  /** `gypfile: false` turns off npm's implicit `node-gyp rebuild`. */
  readonly gypfile: boolean | undefined;
  readonly bin: Readonly<Record<string, string>>;
  readonly config: Readonly<Record<string, unknown>>;
  readonly engines: Readonly<Record<string, unknown>>;
}

const MANIFEST_LIMIT = 4 * 1024 ** 2;

/**
 * Reads a package.json, keeping only well-typed fields: a script that is not
 * a string is dropped, as npm drops it. Returns undefined when there is none.
 */
export async function readManifest(dir: string): Promise<InstalledManifest | undefined> {
  const file = path.join(dir, "package.json");
  const bytes = await readBounded(file, MANIFEST_LIMIT);
  return bytes === undefined ? undefined : manifestFromBytes(bytes, file, dir);
}

export function readManifestSync(dir: string): InstalledManifest | undefined {
  const file = path.join(dir, "package.json");
  const bytes = readBoundedSync(file, MANIFEST_LIMIT);
  return bytes === undefined ? undefined : manifestFromBytes(bytes, file, dir);
}

function manifestFromBytes(bytes: Buffer, file: string, dir: string): InstalledManifest {
  const data = parseJsonText(bytes.toString("utf8"), file, "Reinstall the package (`npm ci --ignore-scripts`), or deny its scripts.");
  if (!isRecord(data)) {
    throw new InstallError(`${file} is not a JSON object.`, { file, hint: "Reinstall the package, or deny its scripts." });
  }
  return manifestFrom(data, path.basename(dir));
}

export function manifestFrom(data: Record<string, unknown>, folderName: string): InstalledManifest {
  const name = own(data, "name");
  const version = own(data, "version");
  const gypfile = own(data, "gypfile");
  return {
    name: typeof name === "string" ? name : undefined,
    version: typeof version === "string" ? version : undefined,
    scripts: stringRecord(own(data, "scripts")),
    gypfile: typeof gypfile === "boolean" ? gypfile : undefined,
    bin: binRecord(own(data, "bin"), typeof name === "string" ? name : folderName),
    config: isRecord(own(data, "config")) ? (own(data, "config") as Record<string, unknown>) : {},
    engines: isRecord(own(data, "engines")) ? (own(data, "engines") as Record<string, unknown>) : {},
  };
}

function stringRecord(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (!isRecord(value)) return result;
  for (const [key, item] of Object.entries(value)) if (typeof item === "string") result[key] = item;
  return result;
}

function binRecord(value: unknown, name: string): Record<string, string> {
  if (typeof value === "string") return { [name.replace(/^@[^/]+\//, "")]: value };
  return stringRecord(value);
}
