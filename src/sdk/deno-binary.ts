import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BackendUnavailableError } from "../errors.js";
import { hostTool, npmCommand } from "../host/tools.js";
import { PROXY_HOST } from "../net/proxy-env.js";
import { SANDBOX_PROXY_PORT } from "../net/egress-proxy.js";
import { takeLock } from "./lock.js";

const run = promisify(execFile);

/**
 * The Deno every sandbox gets. Pinned, as a lockfile pins: the version and
 * the registry's integrity of each platform package are part of cordon's
 * source, so a registry (or a mirror) serving other bytes under this name
 * is refused rather than run in every sandbox. Deno ships its binary in
 * `@deno/<platform>`, an optional dependency of the `deno` package; that
 * platform package is fetched alone (the `deno` package's postinstall is
 * never run).
 */
export const DENO_VERSION = "2.9.6";
const DENO_PACKAGES: Readonly<Record<string, { name: string; integrity: string }>> = {
  x64: { name: "@deno/linux-x64-glibc", integrity: "sha512-3md4TKLCuzsLDmfOoC5KN7NAZaxSVkMgm64vg6foD00JBADCpYS2/5QqXfzgnP5ZQz3iLP9vBQJtEgc116OAoQ==" },
  arm64: { name: "@deno/linux-arm64-glibc", integrity: "sha512-poqhoH9B3nYloigEMPT5t8HY+wBeiuea1An5Q7fqgJzP0SYmWsoS/oUnWO/pEiA4ofzIBy1Elt/in58xKtxEoQ==" },
};

/** Where the host's Deno is bound read-only inside every sandbox; `deno` on PATH (DENO_ON_PATH) runs it. */
export const DENO_INSIDE = "/usr/local/libexec/cordon/deno";
export const DENO_ON_PATH = "/usr/local/bin/deno";
const PROXY_ADDRESS = `${PROXY_HOST}:${SANDBOX_PROXY_PORT}`;

/**
 * `deno` on PATH: a small sh wrapper around the binary, for two places where
 * Deno and cordon's proxy-based network meet. Remove each part once it is
 * not needed any more (docs/sdk.md):
 *
 * - Deno (since 2.6) loads NODE_OPTIONS' `--require` files, and the network
 *   layer puts its Node < 24 proxy preload there: in Deno it reads
 *   HTTPS_PROXY through Deno's permissions and crashes any program run
 *   without --allow-env. Deno honours HTTP(S)_PROXY itself, so that one word
 *   is dropped for Deno (the user's own options stay).
 * - Deno checks its --allow-net against the proxy it connects to as well as
 *   against the target, so `--allow-net=api.example.com` alone fails behind
 *   any proxy. In a sandbox with network, the sandbox's own proxy address is
 *   added to each `--allow-net=`/`-N=` list before the script. The target is
 *   still checked by Deno for fetch() and node:http(s), and every connection
 *   by cordon's proxy against the sandbox's grants; what this gives up:
 *   code that speaks to the proxy itself (Deno.connect + CONNECT) reaches
 *   any host the sandbox grants, not only those of its own --allow-net.
 */
export const DENO_WRAPPER = `#!/bin/sh
case \${NODE_OPTIONS-} in
  "--require "*node20-proxy-preload.cjs*)
    NODE_OPTIONS=\${NODE_OPTIONS#*node20-proxy-preload.cjs}
    NODE_OPTIONS=\${NODE_OPTIONS#\\"}
    NODE_OPTIONS=\${NODE_OPTIONS# }
    if [ -z "$NODE_OPTIONS" ]; then unset NODE_OPTIONS; fi ;;
esac
if [ ! -s ${DENO_INSIDE} ]; then
  echo "deno: not in this sandbox (it was created with deno: false)" >&2
  exit 127
fi
proxy=
case \${HTTPS_PROXY-} in "http://${PROXY_ADDRESS}") proxy=${PROXY_ADDRESS} ;; esac
first=1 script=
for arg do
  shift
  if [ -n "$proxy" ] && [ -z "$script" ]; then
    case $arg in
      --allow-net=*|-N=*) arg="$arg,$proxy" ;;
      -*) ;;
      run|serve|test|bench|repl|compile|install|x) [ -n "$first" ] || script=1 ;;
      *) script=1 ;;
    esac
  fi
  first=
  set -- "$@" "$arg"
done
exec ${DENO_INSIDE} "$@"
`;

/** $XDG_CACHE_HOME/cordon, else ~/.cache/cordon (install keeps its build cache there too). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
  return path.join(base, "cordon");
}

/** How long a second process waits for the one fetching Deno before giving up. */
const FETCH_WAIT_MS = 5 * 60_000;

/**
 * The host's one copy of Deno, fetched on first use into
 * `<cache>/deno/<version>-<arch>/deno` with the user's own npm (its
 * registry and credentials, `npm pack`, no scripts), checked against the
 * pinned integrity, and never written again: the folder is made in a
 * staging folder and renamed into place whole, and the binary is mode 0555.
 * Every sandbox binds it read-only; none can change it.
 */
export async function ensureDeno(cacheDir: string = defaultCacheDir(), signal?: AbortSignal): Promise<string> {
  const base = path.join(cacheDir, "deno");
  const dir = path.join(base, `${DENO_VERSION}-${process.arch}`);
  const binary = path.join(dir, "deno");
  if (isReadyBinary(binary)) return binary;
  const pkg = DENO_PACKAGES[process.arch];
  if (!pkg || process.platform !== "linux" || isMusl()) {
    throw new BackendUnavailableError(`Deno publishes no build for ${process.platform}-${process.arch}${isMusl() ? " (musl)" : ""} that cordon can put in a sandbox.`, {
      input: "deno",
      hint: "Create the sandbox with { deno: false }, and run JavaScript with node.",
    });
  }
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  const lock = path.join(base, `${DENO_VERSION}-${process.arch}.lock`);
  const until = Date.now() + FETCH_WAIT_MS;
  while (!takeLock(lock)) {
    // Another process is fetching it: wait for its result.
    if (isReadyBinary(binary)) return binary;
    if (Date.now() > until) throw new BackendUnavailableError(`Waited ${FETCH_WAIT_MS / 60_000} minutes for another process to fetch Deno (${lock}).`, { input: "deno", hint: `Remove ${lock} if no cordon process is running.` });
    signal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  try {
    if (isReadyBinary(binary)) return binary;
    const staged = path.join(base, `.staging-${randomBytes(6).toString("hex")}`);
    fs.mkdirSync(staged, { mode: 0o700 });
    try {
      await fetchInto(staged, pkg, signal);
      fs.renameSync(staged, dir);
    } finally {
      fs.rmSync(staged, { recursive: true, force: true });
    }
    return binary;
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

async function fetchInto(staged: string, pkg: { name: string; integrity: string }, signal: AbortSignal | undefined): Promise<void> {
  const spec = `${pkg.name}@${DENO_VERSION}`;
  // Run in the staging folder: no project's .npmrc or package.json is read,
  // only the user's and the global configuration (the registry to use).
  const npm = npmCommand(["pack", spec, "--ignore-scripts", "--json", "--pack-destination", staged]);
  let filename: string;
  try {
    const { stdout } = await run(npm.file, npm.args, { cwd: staged, signal, maxBuffer: 16 * 1024 ** 2 });
    filename = (JSON.parse(stdout) as { filename: string }[])[0]!.filename;
  } catch (error) {
    const said = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split("\n").slice(-3).join(" ");
    throw new BackendUnavailableError(`Could not fetch Deno (${spec}) with npm: ${said}`, {
      input: "deno",
      hint: "Check that npm reaches its registry (npm ping), or create the sandbox with { deno: false }.",
    });
  }
  const tarball = path.join(staged, path.basename(filename));
  const integrity = `sha512-${createHash("sha512").update(fs.readFileSync(tarball)).digest("base64")}`;
  if (integrity !== pkg.integrity) {
    throw new BackendUnavailableError(`The registry served ${spec} with integrity ${integrity}, but cordon pins ${pkg.integrity}: refused.`, {
      input: "deno",
      hint: "Your registry or a mirror serves a different package under this name; check the registry npm uses (npm config get registry).",
    });
  }
  // Only the one member, never following links; its owner is ours.
  await run(hostTool("tar"), ["-xzf", tarball, "-C", staged, "--no-same-owner", "--no-same-permissions", "package/deno"], { signal });
  const extracted = path.join(staged, "package", "deno");
  if (!fs.lstatSync(extracted).isFile()) throw new BackendUnavailableError(`${spec} holds no regular file package/deno.`, { input: "deno" });
  fs.chmodSync(extracted, 0o555);
  fs.renameSync(extracted, path.join(staged, "deno"));
  fs.rmSync(path.join(staged, "package"), { recursive: true, force: true });
  fs.rmSync(tarball, { force: true });
}

function isReadyBinary(file: string): boolean {
  try {
    const stat = fs.lstatSync(file);
    return stat.isFile() && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function isMusl(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime === undefined;
}
