import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import tls from "node:tls";
import { Sinkhole } from "../../src/net/sinkhole/sinkhole.js";
import { SandboxCertificateAuthority } from "../../src/net/tls/certificate-authority.js";

/** Opens a CONNECT tunnel through the sinkhole and returns the socket after its 200. */
function connectTunnel(port: number, target: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    http.request({ host: "127.0.0.1", port, method: "CONNECT", path: target }).on("connect", (res, socket) => {
      if (res.statusCode === 200) resolve(socket);
      else reject(new Error(`CONNECT answered ${res.statusCode}`));
    }).on("error", reject).end();
  });
}

function httpsOver(socket: net.Socket, servername: string, ca: string | undefined, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, servername, ...(ca ? { ca } : {}) }, () => secure.end(request));
    let answer = "";
    secure.on("data", (chunk: Buffer) => (answer += chunk.toString()));
    secure.on("end", () => resolve(answer));
    secure.on("error", reject);
  });
}

describe("the sinkhole answers every destination and records what was sent", () => {
  let ca: SandboxCertificateAuthority;
  let sinkhole: Sinkhole;
  let port: number;
  before(async () => {
    ca = await SandboxCertificateAuthority.forAnyName();
    sinkhole = new Sinkhole({ ca, answer: () => ({ body: "hello" }), rawProbe: () => "echo $((2+3))\n", sniffTimeoutMs: 300 });
    port = (await sinkhole.listen()).port;
  });
  after(() => sinkhole.close());

  it("HTTPS to any name through CONNECT: a certificate for that name, the request and body recorded", async () => {
    const socket = await connectTunnel(port, "api.anything.example:443");
    const answer = await httpsOver(socket, "api.anything.example", ca.certificatePem, "POST /upload?x=1 HTTP/1.1\r\nHost: api.anything.example\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret");
    assert.match(answer, /^HTTP\/1\.1 200 OK/);
    assert.match(answer, /hello$/);
    const exchange = sinkhole.exchanges.find((e) => e.host === "api.anything.example");
    assert.ok(exchange);
    assert.deepEqual([exchange.via, exchange.kind, exchange.method, exchange.target, exchange.sni, exchange.sent.toString()], ["connect", "https", "POST", "/upload?x=1", "api.anything.example", "secret"]);
  });

  it("plain HTTP in absolute form, as proxy clients send it", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port, path: "http://plain.example:8080/a?b=c", headers: { host: "plain.example:8080" } }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve(text));
      }).on("error", reject);
    });
    assert.equal(body, "hello");
    const exchange = sinkhole.exchanges.find((e) => e.host === "plain.example");
    assert.deepEqual([exchange?.via, exchange?.port, exchange?.target], ["http-proxy", 8080, "/a?b=c"]);
  });

  it("a client that does not trust the sinkhole's CA is recorded with its host, and sends nothing readable", async () => {
    const socket = await connectTunnel(port, "pinned.example:443");
    await assert.rejects(httpsOver(socket, "pinned.example", undefined, "GET / HTTP/1.1\r\n\r\n"));
    await waitFor(() => sinkhole.exchanges.some((e) => e.host === "pinned.example"));
    assert.equal(sinkhole.exchanges.find((e) => e.host === "pinned.example")?.kind, "tls-refused");
  });

  it("a SOCKS5 channel that is neither HTTP nor TLS is probed once and recorded as raw bytes", async () => {
    const socket = net.connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (d: Buffer) => received.push(d));
    socket.write(Buffer.from([5, 1, 0]));
    await waitFor(() => Buffer.concat(received).length >= 2);
    const host = Buffer.from("c2.example");
    socket.write(Buffer.concat([Buffer.from([5, 1, 0, 3, host.length]), host, Buffer.from([0x11, 0x5c])]));
    await waitFor(() => Buffer.concat(received).toString("latin1").includes("echo $((2+3))"));
    socket.end("5\n");
    await waitFor(() => sinkhole.exchanges.some((e) => e.host === "c2.example"));
    const exchange = sinkhole.exchanges.find((e) => e.host === "c2.example");
    assert.deepEqual([exchange?.via, exchange?.kind, exchange?.port, exchange?.probe, exchange?.sent.toString()], ["socks5", "raw", 4444, "echo $((2+3))\n", "5\n"]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
