import { execFile } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { EgressProxy } from "../src/net/egress-proxy.js";
import { secretInterceptor } from "../src/net/secrets/intercept.js";
import { SandboxCertificateAuthority } from "../src/net/tls/certificate-authority.js";
import { parseNetGrants } from "../src/policy/net-grant.js";
import { median, round, type Figure } from "./stats.js";

const REQUESTS = 300;
const BULK_BYTES = 256 * 1024 ** 2;

/**
 * A client in a child process makes kept-alive HTTPS requests through the
 * proxy: to a host that carries a secret (intercepted: TLS terminated,
 * placeholders replaced, re-encrypted upstream) and to one that does not
 * (a plain tunnel). Same server, same run.
 */
const CLIENT = String.raw`
const http = require("node:http"), https = require("node:https"), tls = require("node:tls"), fs = require("node:fs");
const [host, proxyPort, serverPort, caFile, count, bulk] = process.argv.slice(1);
const ca = fs.readFileSync(caFile, "utf8");
class Tunnel extends https.Agent {
  createConnection(options, cb) {
    const req = http.request({ host: "127.0.0.1", port: Number(proxyPort), method: "CONNECT", path: host + ":" + serverPort });
    req.on("connect", (_res, socket) => { const s = tls.connect({ socket, servername: host, ca }); s.once("secureConnect", () => cb(null, s)); s.once("error", cb); });
    req.on("error", cb); req.end();
  }
}
const agent = new Tunnel({ keepAlive: true, maxSockets: 1 });
const get = (path) => new Promise((resolve, reject) => {
  https.get({ host, port: Number(serverPort), path, agent, headers: { authorization: "Bearer CORDON_SECRET_00000000000000000000000000000000" } }, (res) => {
    let n = 0; res.on("data", (d) => { n += d.length; }); res.on("end", () => resolve(n));
  }).on("error", reject);
});
(async () => {
  await get("/small");
  const times = [];
  for (let i = 0; i < Number(count); i++) { const t = performance.now(); await get("/small"); times.push(performance.now() - t); }
  const t = performance.now(); const bytes = await get("/bulk?" + bulk); const seconds = (performance.now() - t) / 1000;
  process.stdout.write(JSON.stringify({ times, mbPerSecond: bytes / 1024 / 1024 / seconds }));
  agent.destroy();
})().catch((e) => { console.error(e); process.exit(1); });`;

export async function benchSecrets(): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-bench-secrets-"));
  const serverCa = await SandboxCertificateAuthority.create(["api.test", "plain.test"]);
  const contexts = new Map([["api.test", (await serverCa.contextFor("api.test")).context], ["plain.test", (await serverCa.contextFor("plain.test")).context]]);
  const chunk = Buffer.alloc(1024 * 1024, 97);
  const server = https.createServer({ SNICallback: (name, cb) => cb(null, contexts.get(name) ?? contexts.get("api.test")!) }, (req, res) => {
    if (!req.url?.startsWith("/bulk")) return void res.end("ok");
    const total = Number(req.url.split("?")[1]);
    res.writeHead(200, { "content-length": String(total) });
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const serverPort = (server.address() as AddressInfo).port;

  const sandboxCa = await SandboxCertificateAuthority.create(["api.test"]);
  const secret = { name: "KEY", value: "sk-bench-real-value", placeholder: "CORDON_SECRET_00000000000000000000000000000000", hosts: ["api.test"] };
  const proxy = new EgressProxy({
    grants: parseNetGrants(["api.test", "plain.test"]),
    resolve: new Map([["api.test", "127.0.0.1"], ["plain.test", "127.0.0.1"]]),
    tunnelFor: secretInterceptor({ ca: sandboxCa, secrets: [secret], upstreamCa: [serverCa.certificatePem] }),
  });
  const { port: proxyPort } = await proxy.listen();
  const caFile = path.join(dir, "ca.pem");
  fs.writeFileSync(caFile, `${serverCa.certificatePem}\n${sandboxCa.certificatePem}\n`);
  const client = async (host: string): Promise<{ times: number[]; mbPerSecond: number }> => {
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", CLIENT, host, String(proxyPort), String(serverPort), caFile, String(REQUESTS), String(BULK_BYTES)], { maxBuffer: 1024 ** 2 });
    return JSON.parse(stdout) as { times: number[]; mbPerSecond: number };
  };
  try {
    const plain = await client("plain.test");
    const intercepted = await client("api.test");
    const mintCa = await SandboxCertificateAuthority.create(Array.from({ length: 40 }, (_, i) => `h${i}.example`));
    await mintCa.contextFor("h0.example");
    const mints: number[] = [];
    for (let i = 1; i < 40; i += 1) {
      const started = performance.now();
      await mintCa.contextFor(`h${i}.example`);
      mints.push(performance.now() - started);
    }
    return [
      { name: "secrets: request median, plain tunnel (baseline)", value: round(median(plain.times), 3), unit: "ms" },
      { name: "secrets: request median, intercepted", value: round(median(intercepted.times), 3), unit: "ms" },
      { name: "secrets: added latency per kept-alive request", value: round(median(intercepted.times) - median(plain.times), 3), unit: "ms", note: "goal ≤ 2 ms" },
      { name: "secrets: throughput intercepted / plain tunnel", value: round(intercepted.mbPerSecond / plain.mbPerSecond), unit: "×", note: `${round(intercepted.mbPerSecond)} vs ${round(plain.mbPerSecond)} MiB/s` },
      { name: "secrets: certificate minting median", value: round(median(mints)), unit: "ms", note: "goal ≤ 5 ms" },
    ];
  } finally {
    await proxy.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
