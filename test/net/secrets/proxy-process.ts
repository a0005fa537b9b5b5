/**
 * Run directly (`node proxy-process.js --serve CONFIG_JSON`) by the memory
 * tests: cordon's egress proxy with the secrets interceptor in a process of
 * its own, so its memory can be read from /proc. Prints one JSON line (port,
 * sandbox CA, placeholder), serves until its stdin closes, then closes the
 * proxy and lets the process end by itself. Imported by the test runner, it
 * does nothing.
 */
import { startSecretProxy } from "./secret-proxy.js";

if (process.argv[2] === "--serve") {
  const config = JSON.parse(process.argv[3] ?? "{}") as { upstreamCaPem: string; value: string };
  const proxy = await startSecretProxy({
    grants: ["api.test"],
    pins: new Map([["api.test", "127.0.0.1"]]),
    upstreamCa: [config.upstreamCaPem],
    secrets: { K: { value: config.value, hosts: ["api.test"] } },
  });
  process.stdout.write(`${JSON.stringify({ port: proxy.port, caPem: proxy.caPem, placeholder: proxy.placeholder("K") })}\n`);
  process.stdin.resume();
  process.stdin.once("end", () => void proxy.proxy.close());
}
