import { spawn, type ChildProcess } from "node:child_process";
import type net from "node:net";
import { fileURLToPath } from "node:url";
import { netnsEntryCommand } from "../net/netns-attach.js";
import { SandboxClosedError } from "./errors.js";

const HELPER = fileURLToPath(new URL("./helpers/netns-connect.cjs", import.meta.url));

/**
 * Opens TCP connections to the sandbox's own loopback from the host: a
 * helper living in the sandbox's network namespace connects and passes each
 * socket back. Used by exposeHttp() and fetch().
 */
export class NetnsBridge {
  readonly #helper: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (s: net.Socket) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #closed = false;

  private constructor(helper: ChildProcess) {
    this.#helper = helper;
    helper.on("message", (message: { id?: number; error?: string }, handle: unknown) => {
      const waiter = message.id === undefined ? undefined : this.#waiting.get(message.id);
      if (!waiter || message.id === undefined) return;
      this.#waiting.delete(message.id);
      if (message.error || !handle) waiter.reject(Object.assign(new Error(`connect inside the sandbox failed: ${message.error ?? "no socket"}`), { code: message.error }));
      else waiter.resolve(handle as net.Socket);
    });
    helper.on("exit", () => {
      this.#closed = true;
      for (const waiter of this.#waiting.values()) waiter.reject(new SandboxClosedError("The sandbox's network is gone."));
      this.#waiting.clear();
    });
  }

  static async open(hostPid: number): Promise<NetnsBridge> {
    // The same entry as the egress proxy's attach: only the network namespace.
    const { file, args } = netnsEntryCommand(hostPid, [process.execPath, HELPER]);
    const helper = spawn(file, args, { stdio: ["ignore", "ignore", "pipe", "ipc"], env: {} });
    let stderr = "";
    helper.stderr?.on("data", (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000); });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer within 10 s")), 10_000);
      helper.once("message", () => { clearTimeout(timer); resolve(); });
      helper.once("exit", (code) => { clearTimeout(timer); reject(new Error(`helper exited (${code}): ${stderr.trim()}`)); });
      helper.once("error", reject);
    }).catch((error: Error) => {
      helper.kill("SIGKILL");
      throw new SandboxClosedError(`Could not reach the sandbox's network: ${error.message}`, { hint: "The sandbox may have ended; run `cordon doctor`." });
    });
    helper.unref();
    (helper as unknown as { channel?: { unref(): void } }).channel?.unref();
    return new NetnsBridge(helper);
  }

  /** A socket connected to 127.0.0.1:`port` inside the sandbox. */
  connect(port: number): Promise<net.Socket> {
    if (this.#closed) return Promise.reject(new SandboxClosedError("The sandbox's network is gone."));
    const id = this.#nextId++;
    return new Promise<net.Socket>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#helper.send({ id, port });
    });
  }

  close(): void {
    this.#closed = true;
    if (this.#helper.connected) this.#helper.disconnect();
    this.#helper.kill("SIGKILL");
  }
}
