import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { run, type RunOptions, type RunResult } from "../../src/sandbox/run.js";
import type { PermissionsInput } from "../../src/policy/permissions.js";

export const PLANTED_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nplanted-ssh-key-4f9a\n-----END OPENSSH PRIVATE KEY-----\n";
export const PLANTED_NPMRC = "//registry.example/:_authToken=npm_plantedToken4f9a\n";
export const PLANTED_TOKENS = { NPM_TOKEN: "npm_envToken77c1", GITHUB_TOKEN: "ghp_envToken77c1", AWS_SECRET_ACCESS_KEY: "aws77c1" };

/**
 * A throw-away host: a home folder with planted credentials and shell rc
 * files, a git project beside it, and a folder outside both. Tests point the
 * sandbox's "host" at it (hostEnv.HOME, hostCwd) and check it is unchanged.
 */
export interface HostFixture {
  root: string;
  home: string;
  project: string;
  outside: string;
  env: NodeJS.ProcessEnv;
  snapshot(): Map<string, string>;
  /** Runs a shell script in a sandbox whose host is this fixture. */
  sh(script: string, permissions?: PermissionsInput, options?: RunOptions): Promise<RunResult>;
  cleanup(): void;
}

export function makeHostFixture(owner?: { uid: number; gid: number }): HostFixture {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-host-"));
  fs.chmodSync(root, 0o755);
  const home = path.join(root, "home");
  const project = path.join(root, "project");
  const outside = path.join(root, "outside");
  const files: Record<string, string> = {
    "home/.ssh/id_rsa": PLANTED_KEY,
    "home/.npmrc": PLANTED_NPMRC,
    "home/.bashrc": "# the user's own rc\n",
    "home/.config/autostart/.keep": "",
    "project/package.json": '{ "name": "victim", "version": "1.0.0" }\n',
    "project/src/index.js": "console.log('hello');\n",
    "project/.git/HEAD": "ref: refs/heads/main\n",
    "project/.git/config": "[core]\n\trepositoryformatversion = 0\n",
    "project/.git/hooks/.keep": "",
    "project/out/.keep": "",
    "outside/precious.txt": "do not touch\n",
  };
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  fs.chmodSync(path.join(home, ".ssh/id_rsa"), 0o600);
  if (owner) chownTree(root, owner.uid, owner.gid);
  const env: NodeJS.ProcessEnv = { HOME: home, PATH: process.env.PATH, LANG: "C.UTF-8", ...PLANTED_TOKENS };
  return {
    root, home, project, outside, env,
    snapshot: () => snapshotTree(root),
    sh: (script, permissions = {}, options = {}) =>
      run("/bin/sh", ["-c", script], permissions, { hostEnv: env, hostCwd: project, ...options }),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

function chownTree(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, uid, gid);
    else fs.lchownSync(full, uid, gid);
  }
}

/** Path → type, mode and content hash of every entry below `dir`. */
export function snapshotTree(dir: string): Map<string, string> {
  const result = new Map<string, string>();
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      const stat = fs.lstatSync(full);
      const relative = path.relative(dir, full);
      if (entry.isSymbolicLink()) result.set(relative, `link ${fs.readlinkSync(full)}`);
      else if (entry.isDirectory()) {
        result.set(relative, `dir ${stat.mode.toString(8)}`);
        walk(full);
      } else {
        const hash = createHash("sha256").update(fs.readFileSync(full)).digest("hex");
        result.set(relative, `file ${stat.mode.toString(8)} ${hash}`);
      }
    }
  };
  walk(dir);
  return result;
}

export function text(result: RunResult): string {
  return result.stdout.toString() + result.stderr.toString();
}

/** Asserts a promise rejects with a CordonError whose message or hint matches. */
export async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    const { message, hint } = error as { message: string; hint?: string };
    if (!pattern.test(`${message}\n${hint ?? ""}`)) throw new Error(`expected ${pattern}, got: ${message} / ${hint}`);
    return;
  }
  throw new Error(`expected a rejection matching ${pattern}`);
}
