import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { SandboxCertificateAuthority } from "../../src/net/tls/certificate-authority.js";
import { DENO_VERSION, defaultCacheDir, ensureDeno } from "../../src/sdk/deno-binary.js";
import { decodeValue } from "../../src/sdk/deno-values.js";
import { DenoReplError, Sandbox } from "../../src/sdk/index.js";
import { listeningPortOf } from "../../src/sdk/deno.js";
import { encodeValue } from "../../src/sdk/inside/deno-repl.js";
import { LocalRegistry } from "../helpers/local-registry.js";
import { sandboxSkip, tempDataDir } from "./support.js";

/**
 * A local stand-in for CoinGecko over HTTPS, from a test CA that cordon's
 * own process trusts (NODE_EXTRA_CA_CERTS, as a user's machine would), and
 * that nothing inside the sandbox trusts: code inside reaches it through
 * cordon's proxy, which re-signs for the sandbox (DENO_CERT).
 */
async function startCoinGecko(dir: string): Promise<{ server: https.Server; port: number; keys: string[] }> {
  const ca = await SandboxCertificateAuthority.create(["api.coingecko.com"]);
  fs.writeFileSync(path.join(dir, "test-ca.pem"), ca.certificatePem);
  process.env.NODE_EXTRA_CA_CERTS = path.join(dir, "test-ca.pem");
  const context = (await ca.contextFor("api.coingecko.com")).context;
  const keys: string[] = [];
  const server = https.createServer({ SNICallback: (_name, done) => done(null, context) }, (request, response) => {
    keys.push(String(request.headers["x-cg-demo-api-key"]));
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ bitcoin: { usd: 97123.45 } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, keys };
}

describe("Deno inside every sandbox", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-deno-"));
  let coingecko: Awaited<ReturnType<typeof startCoinGecko>>;
  let plain: http.Server;
  let plainPort: number;
  before(async () => {
    coingecko = await startCoinGecko(dir);
    plain = http.createServer((request, response) => response.end(`plain:${request.url}`));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    plainPort = (plain.address() as AddressInfo).port;
  });
  after(() => {
    delete process.env.NODE_EXTRA_CA_CERTS;
    coingecko.server.close();
    plain.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the seed program: generated TypeScript run by deno --allow-net, a 10-second kill, the price from the stand-in", async () => {
    const key = "CG-real-demo-key-5e1f";
    await using sandbox = await Sandbox.create({
      allowNet: [`api.coingecko.com:${coingecko.port}`],
      resolve: { "api.coingecko.com": "127.0.0.1" },
      secrets: { COINGECKO_API_KEY: { hosts: ["api.coingecko.com"], value: key } },
      dataDir,
    });
    const generated = `
const response = await fetch("https://api.coingecko.com:${coingecko.port}/api/v3/simple/price?ids=bitcoin&vs_currencies=usd", {
  headers: { "x-cg-demo-api-key": Deno.env.get("COINGECKO_API_KEY")! },
});
const data: { bitcoin: { usd: number } } = await response.json();
console.log("Bitcoin: $" + data.bitcoin.usd);
setInterval(() => {}, 1000);
`;
    await sandbox.fs.writeTextFile("/tmp/generated.ts", generated);
    const child = await sandbox.spawn("deno", { args: ["run", "--allow-net=api.coingecko.com", "--allow-env=COINGECKO_API_KEY", "/tmp/generated.ts"], stdout: "piped", stderr: "piped" });
    const timer = setTimeout(() => void child.kill(), 10_000);
    const output = await child.output();
    clearTimeout(timer);
    assert.match(output.stdoutText ?? "", /^Bitcoin: \$97123\.45$/m, output.stderrText ?? "");
    // The program never ends by itself (setInterval): SIGTERM is the 10-second kill.
    assert.equal(output.status.signal, "SIGTERM", "killed by the 10-second timer");
    assert.deepEqual(coingecko.keys, [key], "the real key reached the API; the sandbox held a placeholder (and trusted cordon's CA through DENO_CERT)");
  });

  it("Deno's own --allow-net narrows what the sandbox grants", async () => {
    await using sandbox = await Sandbox.create({
      allowNet: [`granted.test:${plainPort}`, `other.test:${plainPort}`],
      resolve: { "granted.test": "127.0.0.1", "other.test": "127.0.0.1" },
      dataDir,
    });
    const code = (host: string) => `fetch("http://${host}:${plainPort}/x").then(r => r.text()).then(t => console.log(t), e => console.log(e.name))`;
    await sandbox.fs.writeTextFile("/tmp/a.ts", `${code("granted.test")}; ${code("other.test")}`);
    const result = await sandbox.sh`deno run --allow-net=granted.test /tmp/a.ts`.stdout("piped").stderr("piped").noThrow();
    assert.deepEqual((result.stdoutText ?? "").trim().split("\n").sort(), ["NotCapable", "plain:/x"], result.stderrText ?? "");
    await sandbox.fs.writeTextFile("/tmp/args.ts", "console.log(JSON.stringify(Deno.args))");
    const args = await sandbox.sh`deno run --allow-net=granted.test /tmp/args.ts --allow-net=x -N=y`.text();
    assert.equal(args, '["--allow-net=x","-N=y"]\n', "the script's own arguments are never rewritten");
  });

  it("deno -A still gets only what the sandbox grants (cordon's egress proxy decides)", async () => {
    await using sandbox = await Sandbox.create({ allowNet: [`granted.test:${plainPort}`], resolve: { "granted.test": "127.0.0.1", "ungranted.test": "127.0.0.1" }, dataDir });
    const result = await sandbox.deno.run({
      code: `for (const host of ["granted.test", "ungranted.test", "127.0.0.1"]) {
        try { const r = await fetch("http://" + host + ":${plainPort}/y"); console.log(host, r.status); } catch (e) { console.log(host, "failed"); }
      }`,
      stdout: "piped",
      stderr: "piped",
    }).then((p) => p.output());
    const lines = (result.stdoutText ?? "").trim().split("\n");
    assert.equal(lines[0], "granted.test 200", result.stderrText ?? "");
    assert.match(lines[1] ?? "", /^ungranted\.test (403|failed)$/);
    assert.match(lines[2] ?? "", /^127\.0\.0\.1 failed$/, "the host's loopback is not the sandbox's");
  });

  it("deno is on PATH; its binary is the host's one read-only copy, which code inside cannot change", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const version = await sandbox.sh`deno --version`.text();
    assert.match(version, new RegExp(`^deno ${DENO_VERSION.replace(/\./g, "\\.")} `));
    const binary = await sandbox.sh`deno eval 'console.log(Deno.execPath())'`.text();
    assert.equal(binary, "/usr/local/libexec/cordon/deno\n");
    const tamper = await sandbox.sh`echo evil > ${binary.trim()}; rm -f ${binary.trim()}; cp /bin/true ${binary.trim()}; deno --version | head -c 5`.stdout("piped").stderr("piped").noThrow();
    assert.equal(tamper.stdoutText, "deno ");
    assert.match(tamper.stderrText ?? "", /Read-only file system|Device or resource busy/);
    const host = await ensureDeno();
    assert.equal(fs.statSync(host).mode & 0o777, 0o555);
    assert.match(execFileSync(host, ["--version"], { encoding: "utf8" }), /^deno /, "the host copy is intact");
  });

  it("a program run with narrow --allow-env is not broken by the Node proxy preload in NODE_OPTIONS", async () => {
    await using sandbox = await Sandbox.create({ dataDir, allowNet: [`granted.test:${plainPort}`], resolve: { "granted.test": "127.0.0.1" }, env: { NODE_OPTIONS: "--max-old-space-size=100" } });
    await sandbox.fs.writeTextFile("/tmp/env.ts", "console.log(Deno.env.get('NODE_OPTIONS') ?? 'unset')");
    assert.equal(await sandbox.sh`deno run --allow-env=NODE_OPTIONS /tmp/env.ts`.text(), "--max-old-space-size=100\n", "the user's own options stay");
    assert.match(await sandbox.sh`node -e 'console.log(process.env.NODE_OPTIONS)'`.text(), /node20-proxy-preload\.cjs/, "node keeps its preload");
  });

  it("deno: false leaves Deno out", async () => {
    await using sandbox = await Sandbox.create({ dataDir, deno: false });
    const result = await sandbox.sh`deno --version`.noThrow().stderr("piped");
    assert.equal(result.status.code, 127);
  });

  it("deno.run runs code (TypeScript by default) and entrypoints, with scriptArgs, and stops on its signal", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const code = await sandbox.deno.run({ code: "const n: number = 41; console.log(n + 1, Deno.args.join(','))", scriptArgs: ["a", "--b"], stdout: "piped" });
    assert.equal((await code.output()).stdoutText, "42 a,--b\n");
    await sandbox.fs.writeTextFile("main.mjs", "console.log(import.meta.url)");
    const entry = await sandbox.deno.run({ entrypoint: "main.mjs", stdout: "piped" });
    assert.equal((await entry.output()).stdoutText, "file:///home/sandbox/main.mjs\n");
    const slow = await sandbox.deno.run({ code: "setTimeout(() => console.log('done'), 10_000)", signal: AbortSignal.timeout(500), stdout: "piped" });
    const { status } = await slow.output();
    assert.equal(status.signal, "SIGTERM");
    await assert.rejects(sandbox.deno.run({ code: "1", extension: "py" as never }), /extension "py"/);
  });

  it("a Deno HTTP server: httpReady, then fetch() reaches it by path", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const server = await sandbox.deno.run({ code: "Deno.serve({ port: 8123, onListen() {} }, (req) => new Response('hi ' + new URL(req.url).pathname))", stdout: "piped", stderr: "piped" });
    assert.equal(await server.httpReady, true);
    assert.equal(await (await server.fetch("https://example.com/path?q=1")).text(), "hi /path");
    const quick = await sandbox.deno.run({ code: "console.log('no server')", stdout: "piped" });
    assert.equal(await quick.httpReady, false);
  });

  it("deno.eval and deno.repl: values come back as Deno returns them; bindings persist; errors keep their name", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    assert.equal(await sandbox.deno.eval("1 + 1"), 2);
    const value = await sandbox.deno.eval<Map<number, unknown>>("const o = { a: [1n, new Date(0), /x/g, new Uint8Array([1, 2])] }; o.self = o; new Map([[1, o]])");
    const o = value.get(1) as { a: unknown[]; self: unknown };
    assert.equal(o.self, o, "a cycle stays a cycle");
    assert.deepEqual(o.a, [1n, new Date(0), /x/g, new Uint8Array([1, 2])]);
    await using repl = await sandbox.deno.repl({ stdout: "piped" });
    await repl.eval("let a = 40; const add = (x, y) => x + y; class P { constructor() { this.x = 1 } }");
    assert.equal(await repl.eval("a + 2"), 42);
    assert.equal(await repl.eval("await Promise.resolve(a)"), 40);
    assert.equal(await repl.call("add", 1, 2), 3);
    assert.equal(await repl.call("(a, b) => a * b", 6, 7), 42);
    assert.deepEqual(await repl.eval("new P()"), { x: 1 });
    await assert.rejects(repl.eval("throw new TypeError('boom')"), (error: unknown) => error instanceof DenoReplError && error.name === "TypeError" && error.message === "boom");
    await assert.rejects(repl.eval("() => 1"), /could not be cloned/);
    await repl.eval("console.log('printed')");
    await repl.close();
    assert.equal((await repl.output()).stdoutText, "printed\n", "the code's stdout is its own; answers travel apart");
  });

  it("the REPL's values are decoded without trusting the sandbox", () => {
    const tricky = decodeValue(JSON.stringify(["o", [["__proto__", ["o", [["polluted", true]]]]]])) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(tricky), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(tricky), ["__proto__"]);
    assert.throws(() => decodeValue(JSON.stringify(["b", "Function", ""])), /cannot read/);
    assert.throws(() => decodeValue(JSON.stringify(["x"])), /cannot read/);
    assert.throws(() => decodeValue(JSON.stringify(["c", 5])), /cannot read/);
    const round = new Map<unknown, unknown>([["k", new Set([Number.NaN, -0, undefined, null, new Float64Array([1.5])])]]);
    assert.deepEqual(decodeValue(encodeValue(round)), round);
  });

  it("finds the port a process listens on from its /proc", () => {
    const text = [
      "lrwx------ 1 u u 64 Jan 1 00:00 9 -> socket:[5311232]",
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1",
      "   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5311232 1",
    ].join("\n");
    assert.equal(listeningPortOf(text), 8080, "only a socket the process holds counts");
  });
});

describe("Deno's binary is fetched once, with npm, and checked against its pinned integrity", { skip: process.arch !== "x64" ? "SKIPPED: the forged package is published for x64" : false }, () => {
  it("a registry serving other bytes under Deno's name is refused, and nothing is cached", async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-deno-forged-"));
    const registry = await new LocalRegistry().start();
    const saved = { registry: process.env.npm_config_registry, cache: process.env.npm_config_cache };
    try {
      const pkg = path.join(work, "pkg");
      fs.mkdirSync(pkg);
      const manifest = { name: "@deno/linux-x64-glibc", version: DENO_VERSION };
      fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify(manifest));
      fs.writeFileSync(path.join(pkg, "deno"), "#!/bin/sh\necho forged\n", { mode: 0o755 });
      const packed = execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: pkg, encoding: "utf8" });
      registry.publish(path.join(work, (JSON.parse(packed) as { filename: string }[])[0]!.filename), manifest);
      process.env.npm_config_registry = registry.url;
      process.env.npm_config_cache = path.join(work, "npm-cache");
      const cache = path.join(work, "cache");
      await assert.rejects(ensureDeno(cache), /integrity sha512-.* but cordon pins sha512-.*: refused/);
      assert.deepEqual(fs.readdirSync(path.join(cache, "deno")), [], "no binary, no staging folder, no lock left");
    } finally {
      process.env.npm_config_registry = saved.registry;
      process.env.npm_config_cache = saved.cache;
      if (saved.registry === undefined) delete process.env.npm_config_registry;
      if (saved.cache === undefined) delete process.env.npm_config_cache;
      registry.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it("the cached copy is where the cache folder says", async () => {
    assert.equal(await ensureDeno(), path.join(defaultCacheDir(), "deno", `${DENO_VERSION}-${process.arch}`, "deno"));
  });
});
