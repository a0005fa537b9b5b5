import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { EgressProxy, type EgressProxyOptions } from "../../src/net/egress-proxy.js";
import type { EgressConnectionEvent, EgressEvent } from "../../src/net/events.js";
import { parseNetGrants } from "../../src/policy/net-grant.js";
import { startHttpServer, type TestServer } from "./support.js";

/** Sends raw bytes to the proxy and collects everything it answers until it closes (or `untilText` appears). */
function exchange(port: number, data: string | Buffer, untilText?: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(data));
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, timeoutMs);
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      if (untilText && text.includes(untilText)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.on("error", reject);
  });
}

async function withProxy(options: Omit<Partial<EgressProxyOptions>, "grants"> & { grants: string[] }, body: (port: number, events: EgressEvent[], proxy: EgressProxy) => Promise<void>): Promise<void> {
  const events: EgressEvent[] = [];
  await using proxy = new EgressProxy({ ...options, grants: parseNetGrants(options.grants), onEvent: (event) => events.push(event) });
  const { port } = await proxy.listen();
  await body(port, events, proxy);
}

const connections = (events: EgressEvent[]): EgressConnectionEvent[] => events.filter((e): e is EgressConnectionEvent => e.type !== "connection-limit");
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe("egress proxy on the host (protocol-level attacks)", () => {
  let server: TestServer;
  before(async () => {
    server = await startHttpServer();
  });
  after(async () => server.close());
  const pins = (): Map<string, string> => new Map([["api.test", "127.0.0.1"], ["other.test", "127.0.0.1"]]);

  it("forwards absolute-form HTTP to a granted, pinned name and reports it", async () => {
    await withProxy({ grants: ["api.test"], resolve: pins() }, async (port, events) => {
      const reply = await exchange(port, `GET http://api.test:${server.port}/x HTTP/1.1\r\nHost: api.test:${server.port}\r\nConnection: close\r\n\r\n`);
      assert.match(reply, /^HTTP\/1.1 200/);
      assert.match(reply, /hello from api.test/);
      await settle();
      const [event] = connections(events);
      assert.equal(event?.type, "allowed");
      assert.equal(event?.host, "api.test");
      assert.equal(event?.grantHint, "--allow-net=api.test");
      assert.ok((event?.bytesDown ?? 0) > 0);
    });
  });

  it("refuses a name without a grant, before resolving it", async () => {
    const looked: string[] = [];
    await withProxy({ grants: ["api.test"], resolve: pins(), lookup: async (host) => (looked.push(host), [{ address: "127.0.0.1", family: 4 }]) }, async (port, events) => {
      const reply = await exchange(port, `CONNECT other.test:${server.port} HTTP/1.1\r\nHost: other.test:${server.port}\r\n\r\n`);
      assert.match(reply, /^HTTP\/1.1 403/);
      assert.match(reply, /allow with --allow-net=other.test/);
      const leak = await exchange(port, `CONNECT secret-data.evil.test:443 HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.match(leak, /^HTTP\/1.1 403/);
      assert.deepEqual(looked, [], "a name without a grant must never reach a resolver");
      assert.equal(connections(events)[0]?.type, "blocked");
    });
  });

  it("refuses absolute-form HTTP whose Host header names another host", async () => {
    await withProxy({ grants: ["api.test"], resolve: pins() }, async (port, events) => {
      const reply = await exchange(port, `GET http://api.test:${server.port}/ HTTP/1.1\r\nHost: other.test:${server.port}\r\n\r\n`);
      assert.match(reply, /^HTTP\/1.1 400/);
      const twoHosts = await exchange(port, `GET http://api.test:${server.port}/ HTTP/1.1\r\nHost: api.test:${server.port}\r\nHost: other.test\r\n\r\n`);
      assert.match(twoHosts, /^HTTP\/1.1 400/);
      assert.equal(server.seen.filter((r) => r.host?.startsWith("other.test")).length, 0);
      assert.ok(connections(events).every((e) => e.type === "blocked"));
    });
  });

  it("refuses CONNECT to a granted host on an ungranted port", async () => {
    await withProxy({ grants: [`api.test:${server.port}`], resolve: pins() }, async (port) => {
      const ok = await exchange(port, `CONNECT api.test:${server.port} HTTP/1.1\r\nHost: api.test\r\n\r\n`, "\r\n\r\n");
      assert.match(ok, /^HTTP\/1.1 200/);
      const other = await exchange(port, `CONNECT api.test:22 HTTP/1.1\r\nHost: api.test\r\n\r\n`);
      assert.match(other, /^HTTP\/1.1 403/);
      assert.match(other, /--allow-net=api.test:22/);
    });
  });

  it("refuses a granted name that resolves to loopback (DNS rebinding), unless that address is granted", async () => {
    await withProxy({ grants: ["localhost"] }, async (port, events) => {
      const reply = await exchange(port, `CONNECT localhost:${server.port} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      assert.match(reply, /^HTTP\/1.1 403/);
      assert.match(reply, /loopback address/);
      assert.match(connections(events)[0]?.reason ?? "", /DNS-rebinding guard/);
      assert.equal(connections(events)[0]?.grantHint, "--allow-net=127.0.0.1");
    });
    const rebinding = async (): Promise<Array<{ address: string; family: 4 | 6 }>> => [{ address: "127.0.0.1", family: 4 }];
    await withProxy({ grants: ["rebind.test"], lookup: rebinding }, async (port) => {
      assert.match(await exchange(port, `CONNECT rebind.test:${server.port} HTTP/1.1\r\nHost: x\r\n\r\n`), /^HTTP\/1.1 403/);
    });
    await withProxy({ grants: ["rebind.test", "127.0.0.1"], lookup: rebinding }, async (port) => {
      assert.match(await exchange(port, `CONNECT rebind.test:${server.port} HTTP/1.1\r\nHost: x\r\n\r\n`, "\r\n\r\n"), /^HTTP\/1.1 200/);
    });
  });

  it("refuses the cloud metadata endpoint, by address and by a name resolving to it", async () => {
    const metadata = async (host: string): Promise<Array<{ address: string; family: 4 | 6 }>> =>
      host === "v6.test" ? [{ address: "fd00:ec2::254", family: 6 }] : [{ address: "169.254.169.254", family: 4 }];
    await withProxy({ grants: ["meta.test", "v6.test"], lookup: metadata }, async (port, events) => {
      assert.match(await exchange(port, "CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1.1 403/);
      assert.match(await exchange(port, "GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n"), /^HTTP\/1.1 403/);
      assert.match(await exchange(port, "CONNECT meta.test:80 HTTP/1.1\r\nHost: x\r\n\r\n"), /cloud metadata address 169.254.169.254/);
      assert.match(await exchange(port, "CONNECT v6.test:80 HTTP/1.1\r\nHost: x\r\n\r\n"), /cloud metadata address fd00:ec2::254/);
      assert.ok(connections(events).every((e) => e.type === "blocked"));
    });
  });

  it("refuses IPv6 literals unless granted, in every spelling", async () => {
    await withProxy({ grants: ["api.test"], resolve: pins() }, async (port) => {
      for (const target of ["[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"]) {
        assert.match(await exchange(port, `CONNECT ${target}:${server.port} HTTP/1.1\r\nHost: x\r\n\r\n`), /^HTTP\/1.1 403/, target);
      }
    });
    await withProxy({ grants: ["[::ffff:127.0.0.1]"] }, async (port) => {
      // Granted in its mapped spelling, it is the IPv4 address.
      assert.match(await exchange(port, `CONNECT 127.0.0.1:${server.port} HTTP/1.1\r\nHost: x\r\n\r\n`, "\r\n\r\n"), /^HTTP\/1.1 200/);
    });
  });

  it("refuses request smuggling: the HTTP parser rejects ambiguous framing before anything is forwarded", async () => {
    await withProxy({ grants: ["api.test"], resolve: pins() }, async (port, events) => {
      const target = `http://api.test:${server.port}/`;
      const host = `api.test:${server.port}`;
      const before = server.seen.length;
      const attempts = [
        `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n`,
        `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd`,
        `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 4 4\r\n\r\nabcd`,
        `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
        `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding:\r\n chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
        `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n3;x\nabc\r\n0\r\n\r\n`,
        `GET ${target} HTTP/1.1\nHost: ${host}\n\n`,
      ];
      for (const attempt of attempts) {
        const reply = await exchange(port, attempt);
        assert.match(reply, /^HTTP\/1.1 400/, JSON.stringify(attempt));
        assert.equal((reply.match(/HTTP\/1.1/g) ?? []).length, 1, "exactly one answer, no second request");
      }
      assert.equal(server.seen.length, before, "nothing reached the server");
      assert.ok(connections(events).some((e) => /HTTP parser/.test(e.reason ?? "")));
    });
  });

  it("refuses smuggling through a Connection header that lists Content-Length", async () => {
    await withProxy({ grants: ["api.test"], resolve: pins() }, async (port) => {
      const host = `api.test:${server.port}`;
      const hidden = `GET /smuggled HTTP/1.1\r\nHost: internal-admin.example\r\n\r\n`;
      const before = server.seen.length;
      await exchange(port, `GET http://${host}/front HTTP/1.1\r\nHost: ${host}\r\nConnection: content-length\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const reached = server.seen.slice(before);
      // One request, with the hidden text as its properly framed body: never a second request.
      assert.deepEqual(reached.map((r) => [r.url, r.body]), [["/front", hidden]]);
    });
  });

  it("re-frames a chunked GET body so it cannot become a second request upstream", async () => {
    await withProxy({ grants: ["api.test"], resolve: pins() }, async (port) => {
      const before = server.seen.length;
      const smuggled = "GET /smuggled HTTP/1.1\r\nHost: api.test\r\n\r\n";
      const chunk = `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
      const reply = await exchange(port, `GET http://api.test:${server.port}/a HTTP/1.1\r\nHost: api.test:${server.port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk}`);
      assert.match(reply, /^HTTP\/1.1 200/);
      await settle();
      const seen = server.seen.slice(before);
      assert.deepEqual(seen.map((r) => r.url), ["/a"]);
      assert.equal(seen[0]?.body, smuggled);
    });
  });

  it("SOCKS5: CONNECT by name works; UDP ASSOCIATE, BIND and malformed handshakes are refused", async () => {
    await withProxy({ grants: ["api.test"], resolve: pins() }, async (port) => {
      const name = Buffer.from("api.test");
      const portBytes = Buffer.from([server.port >> 8, server.port & 255]);
      const connect = Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, name.length]), name, portBytes,
        Buffer.from(`GET / HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n`)]);
      const ok = await exchange(port, connect, "hello from");
      assert.deepEqual([...Buffer.from(ok, "latin1").subarray(0, 4)], [5, 0, 5, 0]);
      const udp = await exchange(port, Buffer.from([5, 1, 0, 5, 3, 0, 1, 8, 8, 8, 8, 0, 53]));
      assert.equal(Buffer.from(udp, "latin1")[3], 7, "UDP ASSOCIATE: command not supported");
      const bind = await exchange(port, Buffer.from([5, 1, 0, 5, 2, 0, 1, 1, 2, 3, 4, 0, 80]));
      assert.equal(Buffer.from(bind, "latin1")[3], 7, "BIND: command not supported");
      const denied = await exchange(port, Buffer.from([5, 1, 0, 5, 1, 0, 1, 1, 1, 1, 1, 0, 53]));
      assert.equal(Buffer.from(denied, "latin1")[3], 2, "an address without a grant: not allowed");
      const garbage = await exchange(port, Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, 255]), Buffer.alloc(600, 0x41)]));
      assert.ok(garbage.length <= 12, "an overlong request gets at most a short refusal");
      const noAuth = await exchange(port, Buffer.from([5, 1, 2]));
      assert.deepEqual([...Buffer.from(noAuth, "latin1")], [5, 0xff]);
    });
  });

  it("--prompt: asks once per destination, holds connections meanwhile, honours the answer", async () => {
    const asked: string[] = [];
    let answer: (value: "allow" | "deny" | "allow-all") => void = () => {};
    const decide = (destination: { kind: string }): Promise<"allow" | "deny" | "allow-all"> => {
      asked.push(JSON.stringify(destination));
      return new Promise((resolve) => (answer = resolve));
    };
    await withProxy({ grants: [], resolve: pins(), decide }, async (port) => {
      const request = `CONNECT api.test:${server.port} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const first = exchange(port, request, "\r\n\r\n");
      const second = exchange(port, request, "\r\n\r\n");
      await settle();
      assert.equal(asked.length, 1);
      answer("allow");
      assert.match(await first, /^HTTP\/1.1 200/);
      assert.match(await second, /^HTTP\/1.1 200/);
      const other = exchange(port, `CONNECT other.test:${server.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await settle();
      answer("deny");
      assert.match(await other, /^HTTP\/1.1 403/);
      assert.equal(asked.length, 2);
    });
  });

  it("1,000 connections at once: the proxy stays up, bounded, and serves afterwards", async () => {
    const limit = 200;
    await withProxy({ grants: ["api.test"], resolve: pins(), maxConnections: limit }, async (port, events, proxy) => {
      const sockets: net.Socket[] = [];
      let peak = 0;
      await Promise.all(Array.from({ length: 1000 }, () => new Promise<void>((resolve) => {
        const socket = net.connect(port, "127.0.0.1", () => {
          socket.write(`CONNECT api.test:${server.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
          resolve();
        });
        socket.on("error", () => resolve());
        sockets.push(socket);
      })));
      await new Promise((resolve) => setTimeout(resolve, 300));
      peak = Math.max(peak, proxy.activeConnections);
      assert.ok(peak <= limit, `at most ${limit} open, saw ${peak}`);
      assert.ok(events.some((e) => e.type === "connection-limit"));
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(proxy.activeConnections, 0);
      const reply = await exchange(port, `GET http://api.test:${server.port}/after HTTP/1.1\r\nHost: api.test:${server.port}\r\nConnection: close\r\n\r\n`);
      assert.match(reply, /^HTTP\/1.1 200/);
    });
  });

  it("close() releases the port and every connection", async () => {
    const proxy = new EgressProxy({ grants: parseNetGrants(["api.test"]), resolve: pins() });
    const { port } = await proxy.listen();
    const open = net.connect(port, "127.0.0.1").resume();
    await new Promise((resolve) => open.once("connect", resolve));
    open.write(`CONNECT api.test:${server.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await settle();
    const closed = new Promise((resolve) => open.once("close", resolve));
    await proxy.close();
    await closed;
    await assert.rejects(new Promise((resolve, reject) => net.connect(port, "127.0.0.1").once("connect", resolve).once("error", reject)));
  });
});
