import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { readTar } from "../scan/tarball/tar-reader.js";
import { readBounded } from "./bounded-read.js";
import { sriSha256 } from "./install-code.js";
import type { InstallCodeStore } from "./install-code-store.js";
import type { Decision } from "./decide.js";
import { runNpm } from "./npm-client.js";

const gunzipAsync = promisify(gunzip);
const TARBALL_LIMIT = 256 * 1024 ** 2;
const UNPACKED_LIMIT = 1024 ** 3;
const MAX_ENTRIES = 100_000;

/**
 * Brings back the approved text of pinned files that the install-code store
 * does not hold (a clone without `.cordon/install-code`, an approval made on
 * another machine): npm packs the version the pin was reviewed at, from the
 * registry npm is configured with (`npm pack NAME@VERSION`, no script runs),
 * and a file is taken only when its bytes hash to the pin's value, so what
 * the reviewer is shown as approved is exactly what was approved. Those
 * files are then kept in the store. Returns why nothing came back, or
 * undefined.
 */
export async function recoverApprovedFiles(
  name: string,
  version: string,
  wanted: Readonly<Record<string, string>>,
  store: InstallCodeStore,
  projectDir: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const workspace = await fs.mkdtemp(path.join(os.tmpdir(), "cordon-approved-"));
  try {
    const spec = `${name}@${version}`;
    const packed = await runNpm(["pack", spec, "--ignore-scripts", "--json", "--pack-destination", workspace], projectDir, signal);
    if (packed.code !== 0) return `npm pack ${spec} failed: ${packed.stderr.split("\n").find((line) => /error/i.test(line))?.replace(/^npm (error|ERR!)\s*/, "") ?? `exit ${packed.code}`}`;
    const tarballs = (await fs.readdir(workspace)).filter((file) => file.endsWith(".tgz"));
    if (tarballs.length !== 1) return `npm pack ${spec} left no tarball`;
    const compressed = await readBounded(path.join(workspace, tarballs[0]!), TARBALL_LIMIT);
    if (compressed === undefined) return `npm pack ${spec} left no tarball`;
    const archive = await gunzipAsync(compressed, { maxOutputLength: UNPACKED_LIMIT });
    const byHash = new Map(Object.entries(wanted).map(([file, hash]) => [hash, file]));
    let found = 0;
    for (const entry of readTar(archive, MAX_ENTRIES)) {
      if (entry.kind !== "file") continue;
      // Like npm, the archive's first folder ("package/") is dropped; only the hash decides what is kept.
      const file = entry.path.split("/").slice(1).join("/");
      const hash = sriSha256(entry.data);
      if (byHash.get(hash) === file) {
        await store.put(entry.data);
        found += 1;
      }
    }
    return found === 0 ? `${spec} from the registry holds none of the approved files` : undefined;
  } catch (error) {
    return `could not read ${name}@${version} from the registry: ${(error as Error).message}`;
  } finally {
    await fs.rm(workspace, { recursive: true, force: true });
  }
}

/** The `recover` of diffChangedInstallCode for a changed package: the pinned version, fetched from the registry. */
export function approvedFromRegistry(
  decision: Extract<Decision, { kind: "changed" }>,
  store: InstallCodeStore,
  projectDir: string,
  signal?: AbortSignal,
): (missing: Readonly<Record<string, string>>) => Promise<string | undefined> {
  return async (missing) => {
    const version = decision.pin.version;
    if (version === null) return "the pin records no version to fetch it from the registry";
    return recoverApprovedFiles(decision.package.identity.name, version, missing, store, projectDir, signal);
  };
}
