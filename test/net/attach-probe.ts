/**
 * Run directly (`node attach-probe.js --probe HOME`) by the sandbox tests as
 * an unprivileged user: proves attachToNetns works without root. Prints one
 * JSON line. Imported by the test runner, it does nothing.
 */
import { runWithProxy } from "./sandbox-run.js";
import { startHttpServer } from "./support.js";

if (process.argv[2] === "--probe") {
  const home = process.argv[3] ?? "/tmp";
  const server = await startHttpServer();
  const run = await runWithProxy({
    grants: ["probe.test"],
    pins: new Map([["probe.test", "127.0.0.1"]]),
    command: ["curl", "-sS", "--max-time", "10", `http://probe.test:${server.port}/probe`],
    home,
  });
  await server.close();
  process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), code: run.code, stdout: run.stdout, stderr: run.stderr, attachMs: run.attachMs })}\n`);
}
