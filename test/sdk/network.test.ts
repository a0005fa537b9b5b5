import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { Sandbox } from "../../src/sdk/index.js";
import { sandboxSkip, tempDataDir } from "./support.js";

const SERVER = `require("http").createServer((q, r) => r.end("inside:" + q.url)).listen(Number(process.argv[1]), "127.0.0.1", () => console.log("listening"))`;

async function startServerInside(sandbox: Sandbox, port: number): Promise<void> {
  const server = await sandbox.spawn("node", { args: ["-e", SERVER, String(port)], stdin: "null", stdout: "piped", stderr: "null" });
  const reader = server.stdout!.getReader();
  const { value } = await reader.read();
  assert.match(Buffer.from(value!).toString(), /listening/);
  reader.releaseLock();
}

describe("networking: loopback, exposeHttp, fetch and grants", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();
  let hostServer: http.Server;
  let hostPort: number;
  before(async () => {
    hostServer = http.createServer((req, res) => res.end(`host:${req.url}`));
    await new Promise<void>((resolve) => hostServer.listen(0, "127.0.0.1", resolve));
    hostPort = (hostServer.address() as net.AddressInfo).port;
  });
  after(() => hostServer.close());

  it("a server and a client in one sandbox talk over its loopback", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    await startServerInside(sandbox, 8080);
    const body = await sandbox.sh`node -e ${'fetch("http://127.0.0.1:8080/from-client").then(r => r.text()).then(t => process.stdout.write(t))'}`.text();
    assert.equal(body, "inside:/from-client");
  });

  it("exposeHttp serves the port on the host's 127.0.0.1 only; port on create sets url", async () => {
    await using sandbox = await Sandbox.create({ dataDir, port: 8000 });
    assert.match(sandbox.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    await startServerInside(sandbox, 8000);
    assert.equal(await (await fetch(`${sandbox.url}/a`)).text(), "inside:/a");
    await startServerInside(sandbox, 9000);
    const url = await sandbox.exposeHttp({ port: 9000 });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, "bound to loopback, never a public interface");
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(`${url}/${i}`).then((r) => r.text())));
    assert.deepEqual(responses, Array.from({ length: 10 }, (_, i) => `inside:/${i}`));
  });

  it("sandbox.fetch reaches the sandbox's own services over its loopback", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    await startServerInside(sandbox, 8081);
    const response = await sandbox.fetch("http://localhost:8081/x");
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "inside:/x");
  });

  it("allowNet grants a host: processes and sandbox.fetch reach it, other hosts are blocked", async () => {
    await using sandbox = await Sandbox.create({ dataDir, allowNet: [`api.granted.test:${hostPort}`], resolve: { "api.granted.test": "127.0.0.1" } });
    const inside = await sandbox.sh`node -e ${`fetch("http://api.granted.test:${hostPort}/p").then(r => r.text()).then(t => process.stdout.write(t))`}`.text();
    assert.equal(inside, "host:/p");
    const blocked = await sandbox.sh`node -e ${`fetch("http://127.0.0.1:${hostPort}/").then(r => console.log(r.status), e => console.log("blocked"))`}`.text();
    assert.match(blocked, /blocked|403/, "the host's loopback itself is not granted");
    const viaFetch = await sandbox.fetch(`http://api.granted.test:${hostPort}/f`);
    assert.equal(await viaFetch.text(), "host:/f");
    await assert.rejects(sandbox.fetch("http://evil.example.test/"), "an ungranted host is refused by the sandbox's proxy");
  });

  it("without allowNet, sandbox.fetch to the outside is refused with a hint", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    await assert.rejects(sandbox.fetch(`http://example.com/`), /no network[\s\S]*/);
  });
});
