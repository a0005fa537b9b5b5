import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { EgressProxy } from "../../src/net/egress-proxy.js";
import type { EgressEvent } from "../../src/net/events.js";
import { secretInterceptor } from "../../src/net/secrets/intercept.js";
import { resolveSecrets } from "../../src/net/secrets/resolve-secrets.js";
import { secretsFromRecord } from "../../src/net/secrets/secret-grant.js";
import { SandboxCertificateAuthority } from "../../src/net/tls/certificate-authority.js";
import { parseNetGrants } from "../../src/policy/net-grant.js";
import { canSandbox, tempDir } from "./support.js";

/** A loopback server that accepts connections and never answers; it counts them. */
async function silentServer(): Promise<{ port: number; accepted: () => number; open: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.resume();
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    open: () => sockets.size,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Polls `condition` until it holds or the guard fires (a hang detector, not a timing assertion). */
async function eventually(condition: () => boolean, guardMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + guardMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

const pipelined = (port: number, count: number): string =>
  Array.from({ length: count }, (_, i) => `GET http://127.0.0.1:${port}/${i} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`).join("");

describe("the proxy's descriptors and exit are cordon's, not the sandbox's", () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  before(async () => {
    silent = await silentServer();
  });
  after(async () => silent.close());

  it("a flood of pipelined plain-HTTP requests opens one upstream connection, and the client's connection is ended", async () => {
    const events: EgressEvent[] = [];
    await using proxy = new EgressProxy({ grants: parseNetGrants([`127.0.0.1:${silent.port}`]), onEvent: (event) => events.push(event) });
    const { port } = await proxy.listen();
    const before = silent.accepted();
    const client = net.connect(port, "127.0.0.1", () => client.write(pipelined(silent.port, 1)));
    client.on("error", () => {});
    client.resume();
    const clientClosed = new Promise<boolean>((resolve) => client.once("close", () => resolve(true)));
    // One request reaches the server and hangs there; 2,000 more are pipelined behind it.
    assert.ok(await eventually(() => silent.accepted() > before), "the first request reached the server");
    client.write(pipelined(silent.port, 2_000));
    const ended = await Promise.race([clientClosed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000))]);
    client.destroy();
    assert.ok(ended, "the proxy did not end a connection with 2,000 requests waiting");
    assert.ok(silent.accepted() - before <= 1, `${silent.accepted() - before} upstream connections for one client connection`);
    assert.ok(await eventually(() => silent.open() === 0), "the upstream connection outlived its client");
    assert.ok(events.some((e) => e.type === "blocked" && /pipelined/.test(e.reason ?? "")), JSON.stringify(events.slice(0, 3)));
    assert.equal(proxy.activeConnections, 0);
  });

  it("a few pipelined requests are answered in order, one upstream exchange at a time", async () => {
    let inFlight = 0;
    let peak = 0;
    const server = http.createServer((req, res) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        res.end(`answer ${req.url}\n`);
      }, 20);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const upstreamPort = (server.address() as AddressInfo).port;
    try {
      await using proxy = new EgressProxy({ grants: parseNetGrants([`127.0.0.1:${upstreamPort}`]) });
      const { port } = await proxy.listen();
      const text = await new Promise<string>((resolve) => {
        let received = "";
        const client = net.connect(port, "127.0.0.1", () => client.write(pipelined(upstreamPort, 3)));
        client.on("data", (chunk: Buffer) => {
          received += chunk.toString("latin1");
          if ((received.match(/answer \/\d/g) ?? []).length === 3) {
            client.destroy();
            resolve(received);
          }
        });
        client.once("close", () => resolve(received));
      });
      assert.deepEqual(text.match(/answer \/\d/g), ["answer /0", "answer /1", "answer /2"]);
      assert.equal(peak, 1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("close() ends every upstream connection (forwarded, tunnelled, or still in an intercepted TLS handshake)", async () => {
    const ca = await SandboxCertificateAuthority.create(["slow.test"]);
    const grants = parseNetGrants([`127.0.0.1:${silent.port}`, "slow.test"]);
    const secrets = resolveSecrets(secretsFromRecord({ K: { value: "real-value", hosts: ["slow.test"] } }), {}, grants);
    const proxy = new EgressProxy({
      grants,
      resolve: new Map([["slow.test", "127.0.0.1"]]),
      tunnelFor: secretInterceptor({ ca, secrets, upstreamCa: [] }),
    });
    const { port } = await proxy.listen();
    const before = silent.accepted();
    const clients = [
      pipelined(silent.port, 2),
      `CONNECT 127.0.0.1:${silent.port} HTTP/1.1\r\nHost: x\r\n\r\nbytes for a server that never reads`,
    ].map((request) => {
      const client = net.connect(port, "127.0.0.1", () => client.write(request));
      client.on("error", () => {});
      client.resume();
      return client;
    });
    // An intercepted tunnel whose real server accepts TCP and never starts TLS.
    const intercepted = await new Promise<import("node:tls").TLSSocket>((resolve, reject) => {
      const raw = net.connect(port, "127.0.0.1", () => raw.write(`CONNECT slow.test:${silent.port} HTTP/1.1\r\nHost: x\r\n\r\n`));
      raw.once("data", () => {
        import("node:tls").then((tls) => {
          const secure = tls.connect({ socket: raw, servername: "slow.test", ca: ca.certificatePem }, () => resolve(secure));
          secure.on("error", reject);
        }, reject);
      });
    });
    intercepted.on("error", () => {});
    intercepted.write("GET / HTTP/1.1\r\nHost: slow.test\r\n\r\n");
    assert.ok(await eventually(() => silent.accepted() - before >= 3), `upstream connections opened: ${silent.accepted() - before}`);
    const closed = await Promise.race([proxy.close().then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000))]);
    assert.ok(closed, "close() did not return");
    assert.ok(await eventually(() => silent.open() === 0), `${silent.open()} upstream connections outlived close()`);
    for (const client of clients) client.destroy();
    intercepted.destroy();
  });
});

const CLI = path.resolve("dist/src/cli/main.js");

describe("cordon run --timeout bounds cordon's own exit", { skip: canSandbox() ? false : "bubblewrap cannot create user and network namespaces here" }, () => {
  it("two pipelined requests to a server that never answers do not keep cordon running past its timeout", async () => {
    const silent = await silentServer();
    using scratch = tempDir("cordon-pipeline-");
    try {
      // Inside the sandbox: two pipelined requests through cordon's proxy, then wait forever.
      const script = `const [h, p] = new URL(process.env.HTTP_PROXY).host.split(":");
        const req = "GET http://127.0.0.1:${silent.port}/ HTTP/1.1\\r\\nHost: 127.0.0.1:${silent.port}\\r\\n\\r\\n";
        require("net").connect(Number(p), h, function () { this.write(req + req); }).on("data", () => {});
        setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, [CLI, "run", "--timeout=3s", `--allow-net=127.0.0.1:${silent.port}`, "--", "node", "-e", script], {
        cwd: scratch.dir, stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      const guard = new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 20_000).unref());
      const outcome = await Promise.race([exited, guard]);
      if (outcome === "hung") child.kill("SIGKILL");
      assert.notEqual(outcome, "hung", `cordon was still running 20 s after a 3 s timeout (upstream connections open: ${silent.open()}); ${stderr}`);
      assert.equal(outcome, 124, stderr);
      assert.ok(silent.accepted() >= 1, "the request reached the server");
      assert.ok(await eventually(() => silent.open() === 0), "an upstream connection outlived cordon");
    } finally {
      await silent.close();
    }
  });
});
