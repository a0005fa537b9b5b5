import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import type { TLSSocket } from "node:tls";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestApi, tlsThroughProxy } from "./secret-proxy.js";

const REAL = "sk-live-REALVALUE-7f3a9c";
const MiB = 1024 * 1024;
const LIMIT = 256 * MiB;
const BODY = Buffer.alloc(8 * MiB, "a");

/** Resident and peak resident memory of a process, from /proc. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

async function startProxyProcess(upstreamCaPem: string): Promise<{ child: ChildProcessWithoutNullStreams; port: number; caPem: string; placeholder: string }> {
  const script = fileURLToPath(new URL("./proxy-process.js", import.meta.url));
  const child = spawn(process.execPath, [script, "--serve", JSON.stringify({ upstreamCaPem, value: REAL })], { stdio: "pipe" });
  child.stderr.resume();
  const line = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("\n")) resolve(text.split("\n")[0]!);
    });
    child.once("exit", (code) => reject(new Error(`the proxy process ended (${code})`)));
  });
  return { child, ...(JSON.parse(line) as { port: number; caPem: string; placeholder: string }) };
}

describe("the proxy's memory is cordon's, not the sandbox's", () => {
  test("150 intercepted connections pipelining 8 MiB uploads, or refusing to read 8 MiB answers, keep cordon under 256 MB", async () => {
    const received: string[] = [];
    // The real API: it reads no request body and answers nothing, except a
    // small answer on /ok and 8 MiB on /big.
    const api = await startTestApi(["api.test"], (req, res) => {
      if (req.url === "/ok") {
        received.push(req.headers.authorization ?? "");
        res.end("ok\n");
      } else if (req.url === "/big") res.writeHead(200, { "content-length": BODY.length }).end(BODY);
      else req.pause();
    });
    const proxy = await startProxyProcess(api.caPem);
    const pid = proxy.child.pid!;
    const clients: TLSSocket[] = [];
    let failed = true;
    try {
      const upload = (path: string): string => `POST ${path} HTTP/1.1\r\nHost: api.test\r\nAuthorization: ${proxy.placeholder}\r\nContent-Length: ${BODY.length}\r\n\r\n`;
      const connecting = Promise.all(Array.from({ length: 150 }, async (_, i) => {
        const socket = await tlsThroughProxy(proxy.port, "api.test", api.port, proxy.caPem);
        socket.on("error", () => {});
        clients.push(socket);
        if (i % 3 === 0) {
          // Asks for 8 MiB and never reads it.
          socket.pause();
          socket.write("GET /big HTTP/1.1\r\nHost: api.test\r\n\r\nGET /big HTTP/1.1\r\nHost: api.test\r\n\r\n");
        } else {
          socket.resume();
          for (const path of ["/a", "/b"]) {
            socket.write(upload(path));
            socket.write(BODY);
          }
        }
      }));
      await Promise.race([connecting, new Promise((_, reject) => setTimeout(() => reject(new Error("150 tunnels did not open within 20 s")), 20_000).unref())]);
      // The attack runs until cordon is over the limit, or until no more
      // bytes move (everything is held by back-pressure), or the guard ends it.
      let peakSeen = 0;
      let lastPending = -1;
      let still = 0;
      const guard = Date.now() + 15_000;
      while (Date.now() < guard) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        peakSeen = Math.max(peakSeen, memoryOf(pid).peak);
        if (peakSeen > LIMIT) break;
        const pending = clients.reduce((sum, socket) => sum + socket.writableLength, 0);
        still = pending === lastPending ? still + 1 : 0;
        lastPending = pending;
        if (still >= 10) break;
      }
      assert.ok(peakSeen < LIMIT, `cordon's proxy reached ${Math.round(peakSeen / MiB)} MB`);

      // cordon is fine: once the attack's exchanges end, the next request
      // gets the real value to the API. (A stalled exchange whose client has
      // gone ends when its upstream does: the proxy is not reading that
      // client, so it cannot see it leave. Here the API drops them, as its
      // own timeout or cordon's idle timeout would.)
      for (const socket of clients) socket.destroy();
      api.server.closeAllConnections();
      const socket = await tlsThroughProxy(proxy.port, "api.test", api.port, proxy.caPem);
      const reply = await new Promise<string>((resolve) => {
        let text = "";
        const guard = setTimeout(() => socket.destroy(), 20_000);
        socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
        socket.once("close", () => {
          clearTimeout(guard);
          resolve(text);
        });
        socket.write(`GET /ok HTTP/1.1\r\nHost: api.test\r\nAuthorization: ${proxy.placeholder}\r\nConnection: close\r\n\r\n`);
      });
      assert.match(reply, /^HTTP\/1.1 200/);
      assert.deepEqual(received, [REAL]);
      assert.ok(memoryOf(pid).peak < LIMIT);
      failed = false;
    } finally {
      for (const socket of clients) socket.destroy();
      const exited = new Promise<boolean>((resolve) => proxy.child.once("exit", () => resolve(true)));
      proxy.child.stdin.end();
      const ended = await Promise.race([exited, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000).unref())]);
      if (!ended) proxy.child.kill("SIGKILL");
      await api.close();
      // (A failure above is the news; this one would hide it.)
      if (!failed) assert.ok(ended, "the proxy process did not end after close()");
    }
  });
});
