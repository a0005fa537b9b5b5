/**
 * The sandbox service's process: `node service-daemon.js <dataDir>`, started on
 * demand by the first Sandbox.create() with a timeout (client.ts), in its
 * own session so it outlives that process. It owns the sandboxes (they die
 * with it: bubblewrap's --die-with-parent), serves them on
 * `<dataDir>/service/sock`, and exits once it has no sandbox and no client
 * for IDLE_MS. One per data folder: `daemon.lock` names the live one.
 */
import fs from "node:fs";
import path from "node:path";
import { takeLock } from "../lock.js";
import { SandboxService } from "../service/server.js";
import { serviceDir } from "../service/protocol.js";

/** How long an idle service waits for a new sandbox before it exits. */
const IDLE_MS = 3_000;

async function main(dataDir: string): Promise<void> {
  const dir = serviceDir(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Another service runs for this folder (started by a racing client): it serves.
  if (!takeLock(path.join(dir, "daemon.lock")) && !takeLock(path.join(dir, "daemon.lock"))) return;
  const socketPath = path.join(dir, "sock");
  let idle: NodeJS.Timeout | undefined;
  const service = new SandboxService({
    dataDir,
    onIdle: () => {
      clearTimeout(idle);
      idle = setTimeout(() => { if (!service.busy) void stop(0); }, IDLE_MS);
    },
  });
  const stop = async (code: number): Promise<void> => {
    fs.rmSync(socketPath, { force: true });
    await service.close();
    fs.rmSync(path.join(dir, "daemon.lock"), { force: true });
    process.exit(code);
  };
  // A socket left by a service that died holds nothing: this one replaces it.
  fs.rmSync(socketPath, { force: true });
  await service.listen(socketPath);
  process.on("SIGTERM", () => void stop(0));
  process.on("SIGINT", () => void stop(0));
  process.on("SIGHUP", () => undefined);
  // Nobody came (the client that started it died): it does not linger.
  idle = setTimeout(() => { if (!service.busy) void stop(0); }, IDLE_MS * 5);
  console.error(`${new Date().toISOString()} cordon sandbox service ${process.pid} serving ${socketPath}`);
}

const dataDir = process.argv[2];
if (!dataDir || !path.isAbsolute(dataDir)) {
  console.error("usage: service-daemon.js <absolute data folder>");
  process.exit(2);
}
main(dataDir).catch((error: unknown) => {
  console.error(`${new Date().toISOString()} cordon sandbox service failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
