import { execFile, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

export const execFileAsync = promisify(execFile);

export function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/** Whether bubblewrap can make a user + network namespace here. */
export function canSandbox(): boolean {
  const probe = spawnSync("bwrap", ["--unshare-user", "--unshare-net", "--ro-bind", "/", "/", "--", "true"], { stdio: "ignore" });
  return probe.status === 0;
}

export function tempDir(prefix: string): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A test CA and a certificate for the test names, made with the openssl CLI. */
export interface TestPki {
  caFile: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export function makeTestPki(dir: string, names: readonly string[]): TestPki {
  const file = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    const result = spawnSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`);
  };
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", file("ca.key"),
    "-out", file("ca.pem"), "-days", "2", "-subj", "/CN=cordon test CA", "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", file("leaf.key"),
    "-out", file("leaf.csr"), "-subj", `/CN=${names[0] ?? "localhost"}`);
  writeFileSync(file("leaf.ext"), `subjectAltName=${names.map((name) => `DNS:${name}`).join(",")}\nextendedKeyUsage=serverAuth\n`);
  openssl("x509", "-req", "-in", file("leaf.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-out", file("leaf.pem"), "-days", "2", "-extfile", file("leaf.ext"));
  return { caFile: file("ca.pem"), ca: readFileSync(file("ca.pem")), cert: readFileSync(file("leaf.pem")), key: readFileSync(file("leaf.key")) };
}

export interface TestServer {
  port: number;
  /** Requests seen: method, url, host header. */
  seen: Array<{ method: string; url: string; host: string | undefined; body: string }>;
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
const hello: Handler = (req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`hello from ${req.headers.host ?? "?"} ${req.url ?? ""}\n`);
};

function serve(server: http.Server, handler: Handler, host: string): Promise<TestServer> {
  const seen: TestServer["seen"] = [];
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", host: req.headers.host, body });
      handler(req, res, body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        seen,
        close: () => new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

export function startHttpServer(handler: Handler = hello, host = "127.0.0.1"): Promise<TestServer> {
  return serve(http.createServer(), handler, host);
}

export function startHttpsServer(pki: TestPki, handler: Handler = hello, host = "127.0.0.1"): Promise<TestServer> {
  return serve(https.createServer({ cert: pki.cert, key: pki.key }), handler, host);
}

export interface BwrapSandbox {
  /** Host PID of the sandbox's first process, from --json-status-fd. */
  pid: Promise<number>;
  /** Lets the command run (writes to --block-fd). */
  release(): void;
  result: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(): void;
}

/**
 * A sandbox like the engine's network part: new user, network and PID
 * namespaces, only loopback, held on --block-fd until released. The host's
 * files are visible read-only (this tests the network, not the filesystem);
 * `writable` folders are bound read-write.
 */
export function startBwrapSandbox(command: readonly string[], env: ReadonlyMap<string, string>, writable: readonly string[] = []): BwrapSandbox {
  const args = [
    "--unshare-user", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--disable-userns", "--die-with-parent",
    "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
    ...writable.flatMap((dir) => ["--bind", dir, dir]),
    "--clearenv",
    ...[...env].flatMap(([name, value]) => ["--setenv", name, value]),
    "--json-status-fd", "3", "--block-fd", "4", "--", ...command,
  ];
  const child = spawn("bwrap", args, { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const status = child.stdio[3] as NodeJS.ReadableStream;
  const block = child.stdio[4] as NodeJS.WritableStream;
  block.on("error", () => {});
  const pid = new Promise<number>((resolve, reject) => {
    let text = "";
    status.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = /"child-pid":\s*(\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    child.once("close", () => reject(new Error(`bwrap ended before starting: ${stderr}`)));
  });
  pid.catch(() => {});
  const result = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  return {
    pid,
    release: () => block.end("x"),
    result,
    kill: () => child.kill("SIGKILL"),
  };
}

export const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
