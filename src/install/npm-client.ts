import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { InstallError } from "./errors.js";
import { PASSED_NPM_CONFIG } from "./lifecycle-env.js";
import { npmCommand } from "../host/tools.js";

export interface NpmResult {
  code: number | null;
  /** The signal that ended npm, when one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real npm on the host. npm itself is trusted; with
 * --ignore-scripts it fetches and unpacks but runs no package's code.
 */
export function runNpm(args: readonly string[], cwd: string, signal?: AbortSignal): Promise<NpmResult> {
  return new Promise((resolve, reject) => {
    const npm = npmCommand(args);
    const child = spawn(npm.file, npm.args, { cwd, stdio: ["ignore", "pipe", "pipe"], signal });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) =>
      reject(new InstallError(`Could not run npm: ${error.message}.`, { hint: "cordon install drives your npm; check that npm is on your PATH (npm --version)." })),
    );
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * The npm build settings a native build may need (nodedir, python, …), read
 * from the same places npm reads them: npm_config_* variables, the project's
 * .npmrc, the user's ~/.npmrc and the global npmrc. Only the keys in
 * PASSED_NPM_CONFIG are kept; nothing else of the configuration (registry
 * tokens above all) is read into memory.
 */
export function readNpmBuildConfig(projectDir: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const config: Record<string, string> = {};
  const files = [path.join(os.homedir(), ".npmrc"), path.join(projectDir, ".npmrc")];
  const globalFiles = ["/etc/npmrc", path.join(path.dirname(path.dirname(process.execPath)), "etc", "npmrc")];
  for (const file of [...globalFiles, ...files]) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      const match = /^\s*([\w-]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (match && PASSED_NPM_CONFIG.has(match[1]!.replace(/-/g, "_").toLowerCase())) config[match[1]!] = match[2]!;
    }
  }
  for (const [name, value] of Object.entries(env)) {
    const key = /^npm_config_(.+)$/i.exec(name)?.[1]?.toLowerCase();
    if (key && value !== undefined && PASSED_NPM_CONFIG.has(key)) config[key] = value;
  }
  return config;
}

/** Versions and publish times per package name, or why the registry gave none. */
export interface PackumentTimes {
  packuments: Record<string, { versions: string[]; time: Record<string, string>; distTags: Record<string, string> }>;
  errors: Record<string, string>;
}

/**
 * Asks the registry npm is configured with for these packages' versions and
 * publish times, through npm's own client and configuration in a child
 * process (npm-packuments-child.ts): the same registries, auth, proxy and
 * cache as `npm install`, and no npm credential in cordon's process.
 */
export function fetchPackumentTimes(names: readonly string[], cwd: string, npmDir: string, signal?: AbortSignal): Promise<PackumentTimes> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL("./npm-packuments-child.js", import.meta.url))], { cwd, stdio: ["pipe", "pipe", "pipe"], signal });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", () => {
      let answer: Partial<PackumentTimes> & { failed?: string };
      try {
        answer = JSON.parse(stdout) as Partial<PackumentTimes> & { failed?: string };
      } catch {
        answer = { failed: stderr.trim().split("\n").pop() ?? "no answer" };
      }
      if (answer.failed !== undefined || answer.packuments === undefined) {
        reject(new InstallError(`Could not read publish times from the registry with npm's client: ${answer.failed ?? "no answer"}.`, {
          hint: "The release-age gate needs the registry's publish times; check that npm view NAME time works here.",
        }));
        return;
      }
      resolve({ packuments: answer.packuments, errors: answer.errors ?? {} });
    });
    child.stdin.end(JSON.stringify({ npmDir, names }));
  });
}
