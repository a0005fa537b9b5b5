import type { Readable } from "node:stream";
import type { Permissions, PermissionsInput } from "../policy/permissions.js";
import type { StdioMode } from "../engine/backend.js";
import { SandboxedProcess, type SandboxExit, type SpawnOptions } from "./sandboxed-process.js";

export interface RunOptions extends Omit<SpawnOptions, "stdin" | "stdout" | "stderr"> {
  /** Bytes to feed the command on stdin, or a stdio mode (default: "ignore"). */
  stdin?: StdioMode | string | Uint8Array;
  /** "capture" (default) collects output into the result, up to the output limit. */
  stdout?: "capture" | StdioMode;
  stderr?: "capture" | StdioMode;
  /** Streams output as it arrives, in addition to capturing it. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface RunResult extends SandboxExit {
  stdout: Buffer;
  stderr: Buffer;
  /** True when captured output was cut at the output limit. */
  outputTruncated: boolean;
}

/** Captured output is bounded even without --output, so a flood cannot exhaust cordon's memory. */
export const DEFAULT_OUTPUT_BYTES = 64 * 1024 ** 2;

/**
 * Runs a command in a new sandbox and waits for it to end.
 *
 *     const result = await run("node", ["script.js"], { allowRead: ["."], timeout: "10s" });
 *     result.exitCode; result.stdout.toString();
 */
export async function run(
  command: string,
  args: readonly string[],
  permissions: Permissions | PermissionsInput = {},
  options: RunOptions = {},
): Promise<RunResult> {
  const stdoutMode = options.stdout ?? "capture";
  const stderrMode = options.stderr ?? "capture";
  const input = typeof options.stdin === "string" || options.stdin instanceof Uint8Array ? options.stdin : undefined;
  const sandbox = await SandboxedProcess.start(command, args, permissions, {
    ...options,
    stdin: input !== undefined ? "pipe" : ((options.stdin as StdioMode | undefined) ?? "ignore"),
    stdout: stdoutMode === "capture" ? "pipe" : stdoutMode,
    stderr: stderrMode === "capture" ? "pipe" : stderrMode,
  });
  if (input !== undefined && sandbox.stdin) {
    sandbox.stdin.on("error", () => { /* the command closed its stdin early */ });
    sandbox.stdin.end(input);
  }
  const budget = { left: sandbox.plan.limits.outputBytes ?? DEFAULT_OUTPUT_BYTES, truncated: false };
  const collect = (stream: Readable | null, onChunk: ((chunk: Buffer) => void) | undefined): Promise<Buffer> => {
    if (!stream) return Promise.resolve(Buffer.alloc(0));
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => {
      if (budget.left <= 0) {
        budget.truncated = true;
        sandbox.stopForLimit("output");
        return;
      }
      const kept = chunk.length > budget.left ? chunk.subarray(0, budget.left) : chunk;
      budget.left -= kept.length;
      chunks.push(kept);
      onChunk?.(kept);
      if (kept !== chunk) {
        budget.truncated = true;
        sandbox.stopForLimit("output");
      }
    });
    return new Promise((resolve) => stream.on("close", () => resolve(Buffer.concat(chunks))));
  };
  const [stdout, stderr, exit] = await Promise.all([
    collect(stdoutMode === "capture" ? sandbox.stdout : null, options.onStdout),
    collect(stderrMode === "capture" ? sandbox.stderr : null, options.onStderr),
    sandbox.exited,
  ]);
  return { ...exit, stdout, stderr, outputTruncated: budget.truncated };
}
