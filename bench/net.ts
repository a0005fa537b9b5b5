import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { EgressProxy } from "../src/net/egress-proxy.js";
import { parseNetGrants } from "../src/policy/net-grant.js";

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const CONNECTS = 300;
const BULK_BYTES = 1024 ** 3;

/**
 * The client and the destination run in a child process; the proxy runs
 * here, in its own process, as it does in cordon. "Connected" means ready
 * to send to the destination: a TCP connect directly, or a TCP connect to
 * the proxy plus CONNECT and its 200 through it.
 */
const CLIENT = String.raw`
const net = require("node:net");
const [mode, proxyPort, count] = process.argv.slice(1).map(Number);
const sink = net.createServer((s) => { let n = 0; s.on("data", (d) => { n += d.length; }); s.on("end", () => s.end(String(n))); });
sink.listen(0, "127.0.0.1", async () => {
  const port = sink.address().port;
  const open = () => new Promise((resolve, reject) => {
    if (!proxyPort) { const s = net.connect(port, "127.0.0.1", () => resolve(s)).on("error", reject); s.setNoDelay(true); return; }
    const s = net.connect(proxyPort, "127.0.0.1", () => s.write("CONNECT bench.test:" + port + " HTTP/1.1\r\nHost: bench.test\r\n\r\n")).on("error", reject);
    s.setNoDelay(true);
    let head = "";
    const onData = (d) => { head += d; if (head.includes("\r\n\r\n")) { s.removeListener("data", onData); head.startsWith("HTTP/1.1 200") ? resolve(s) : reject(new Error(head)); } };
    s.on("data", onData);
  });
  if (mode === 0) {
    const times = [];
    for (let i = 0; i < count + 20; i++) {
      const t = process.hrtime.bigint(); const s = await open(); const dt = Number(process.hrtime.bigint() - t) / 1e6;
      if (i >= 20) times.push(dt);
      s.destroy();
    }
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ median: times[Math.floor(times.length / 2)] }));
  } else {
    const s = await open(); const chunk = Buffer.alloc(1 << 20, 120); let sent = 0;
    const t = process.hrtime.bigint();
    let reply = "";
    s.on("data", (d) => { reply += d; });
    s.on("end", () => { const seconds = Number(process.hrtime.bigint() - t) / 1e9; console.log(JSON.stringify({ bytes: Number(reply), seconds })); sink.close(); });
    const pump = () => { while (sent < count) { sent += chunk.length; if (!s.write(chunk)) return s.once("drain", pump); } s.end(); };
    pump();
  }
  if (mode === 0) sink.close();
});`;

const run = promisify(execFile);

async function client(mode: 0 | 1, proxyPort: number, count: number): Promise<Record<string, number>> {
  const { stdout } = await run(process.execPath, ["-e", CLIENT, String(mode), String(proxyPort), String(count)], { maxBuffer: 1 << 20, timeout: 600_000 });
  return JSON.parse(stdout) as Record<string, number>;
}

export async function benchNet(): Promise<BenchResult[]> {
  await using proxy = new EgressProxy({ grants: parseNetGrants(["bench.test"]), resolve: new Map([["bench.test", "127.0.0.1"]]) });
  const { port } = await proxy.listen();
  const direct = await client(0, 0, CONNECTS);
  const proxied = await client(0, port, CONNECTS);
  const bulkDirect = await client(1, 0, BULK_BYTES);
  const bulkProxied = await client(1, port, BULK_BYTES);
  if (bulkDirect.bytes !== BULK_BYTES || bulkProxied.bytes !== BULK_BYTES) throw new Error("benchNet: bytes lost in the transfer");
  const directRate = BULK_BYTES / (bulkDirect.seconds ?? 1);
  const proxiedRate = BULK_BYTES / (bulkProxied.seconds ?? 1);
  const added = (proxied.median ?? 0) - (direct.median ?? 0);
  return [
    { name: "net: direct loopback connect (median)", value: round(direct.median ?? 0, 3), unit: "ms", note: `${CONNECTS} connections` },
    { name: "net: connect through the proxy, CONNECT answered (median)", value: round(proxied.median ?? 0, 3), unit: "ms" },
    { name: "net: added connect latency", value: round(added, 3), unit: "ms", note: "goal <= 1 ms" },
    { name: "net: 1 GiB direct", value: round(directRate / 1024 ** 2, 0), unit: "MiB/s" },
    { name: "net: 1 GiB through the proxy", value: round(proxiedRate / 1024 ** 2, 0), unit: "MiB/s" },
    { name: "net: throughput through the proxy / direct", value: round(proxiedRate / directRate, 2), unit: "ratio", note: "goal >= 0.5" },
  ];
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const result of await benchNet()) console.log(`${result.name}: ${result.value} ${result.unit}${result.note ? ` (${result.note})` : ""}`);
}
