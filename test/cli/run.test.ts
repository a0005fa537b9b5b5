import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

const CLI = path.resolve("dist/src/cli/main.js");

describe("cordon run (CLI)", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-cli-"));
    fs.writeFileSync(path.join(dir, "script.js"), "console.log('script ran', process.argv.slice(2).join(' '))\n");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cordon = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const result = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  test("runs a granted script and passes its exit code through", () => {
    const ok = cordon(["run", "--allow-read=.", "--", "node", "script.js", "a", "b"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "script ran a b\n");
    assert.equal(cordon(["run", "--", "sh", "-c", "exit 42"]).status, 42);
    assert.equal(cordon(["run", "--", "sh", "-c", "kill -TERM $$"]).status, 128 + 15);
  });

  test("cordon's own exit codes: 124 timeout, 127 not found, 126 not executable, 125 bad input", () => {
    assert.equal(cordon(["run", "--timeout=300ms", "--", "sleep", "10"]).status, 124);
    assert.equal(cordon(["run", "--", "no-such-program"]).status, 127);
    assert.equal(cordon(["run", "--allow-read=.", "--", "./script.js"]).status, 126);
    assert.equal(cordon(["run", "--memory=2bananas", "--", "true"]).status, 125);
  });

  test("user errors name the input and the fix, without a stack trace", () => {
    const cases: [string[], RegExp][] = [
      [["run", "--allow-read", "--", "true"], /--allow-read needs a list[\s\S]*--allow-read=\. for the current folder/],
      [["run", "--allow-env", "--", "true"], /never passes the whole environment/],
      [["run", "--memory=2 bananas", "--", "true"], /--memory: "2 bananas" is not a size[\s\S]*512M/],
      [["run", "--frobnicate", "--", "true"], /Unknown option '--frobnicate'[\s\S]*cordon run --help/],
      [["run", "--allow-write=./missing", "--", "true"], /--allow-write: .*missing does not exist/],
      [["run", "--resolve=nocolon", "--", "true"], /--resolve: "nocolon" is not HOST:ADDRESS/],
      [["run", "--allow-net=https://api.example.com", "--", "true"], /is a URL or a path, not a host[\s\S]*Accepted forms/],
      [["run", "--allow-net=*.com", "--", "true"], /whole top-level domain/],
      [["run"], /No command given/],
      [["frob"], /unknown command "frob"/],
    ];
    for (const [args, pattern] of cases) {
      const { status, stderr } = cordon(args);
      assert.equal(status, 125, `${args.join(" ")}: ${stderr}`);
      assert.match(stderr, pattern, args.join(" "));
      assert.doesNotMatch(stderr, /\n\s+at .*\.js:\d+/, "no stack trace");
    }
  });

  test("--explain shows what the sandbox sees and how limits are enforced, and runs nothing", () => {
    const { status, stdout } = cordon(["run", "--explain", "--allow-read=.", "--allow-write=.", "--memory=256M", "--timeout=5s", "--", "touch", "created"]);
    assert.equal(status, 0);
    assert.match(stdout, new RegExp(`writable\\s+${fs.realpathSync(dir)}`));
    assert.match(stdout, /memory\s+256MiB\s+by (cgroup-v1|cgroup-v2|rlimit)/);
    assert.match(stdout, /network: none/);
    assert.ok(!fs.existsSync(path.join(dir, "created")));
  });

  test("--output caps what reaches the terminal", () => {
    const { status, stdout, stderr } = cordon(["run", "--output=1K", "--", "yes"]);
    assert.equal(status, 122);
    assert.ok(stdout.length <= 1024, String(stdout.length));
    assert.match(stderr, /more than 1KiB of output/);
  });

  test("--allow-net reaches a granted host, reports a blocked one once with its grant, and audits both", async () => {
    const server = http.createServer((req, res) => res.end(`served ${req.url}`));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const audit = path.join(dir, "net-audit.jsonl");
    try {
      const script = `curl -s http://api.test:${port}/ok; curl -s -o /dev/null http://evil.test:${port}/a; curl -s -o /dev/null http://evil.test:${port}/b; true`;
      const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, "run", "--allow-net=api.test", `--resolve=api.test:127.0.0.1`, `--resolve=evil.test:127.0.0.1`, `--audit=${audit}`, "--", "sh", "-c", script], { cwd: dir });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => (stderr += d));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
      });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, "served /ok");
      assert.equal(result.stderr.match(/cordon: blocked evil\.test:\d+ — allow with --allow-net=evil\.test/g)?.length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /directly/, "proxied clients are not reported as bypassing");
      const records = fs.readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; host: string; bytesDown: number });
      assert.ok(records.some((r) => r.type === "allowed" && r.host === "api.test" && r.bytesDown > 0));
      assert.equal(records.filter((r) => r.type === "blocked" && r.host === "evil.test").length, 2);
    } finally {
      server.close();
    }
  });

  test("a client that ignores the proxy gets no network, and its attempts are reported", () => {
    const audit = path.join(dir, "bypass-audit.jsonl");
    const script = "curl -s --noproxy '*' --max-time 2 http://1.1.1.1/ && echo REACHED; " +
      "python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b\"leak\", (\"8.8.8.8\", 53))' 2>/dev/null && echo SENT; true";
    const { status, stdout, stderr } = cordon(["run", "--allow-net=granted.test", `--audit=${audit}`, "--", "sh", "-c", script]);
    assert.equal(status, 0, stderr);
    assert.doesNotMatch(stdout, /REACHED|SENT/);
    assert.match(stderr, /tried 2 times to reach the network directly, around cordon's proxy/);
    assert.ok(fs.readFileSync(audit, "utf8").includes('"type":"bypassed","attempts":2'));
  });

  test("--prompt asks on the terminal, and the answer decides", { skip: !fs.existsSync("/usr/bin/script") && "needs script(1)" }, async () => {
    const server = http.createServer((req, res) => res.end(`served ${req.url}`));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const ask = (answer: string) =>
      new Promise<string>((resolve) => {
        const command = `${process.execPath} ${CLI} run --prompt --resolve=asked.test:127.0.0.1 --allow-net=other.test -- curl -s http://asked.test:${port}/asked`;
        const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: dir });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d));
        child.stdin.end(`${answer}\n`);
        child.on("close", () => resolve(out));
      });
    try {
      const allowed = await ask("y");
      assert.match(allowed, /Allow\? \[y\/n\/A\]/);
      assert.match(allowed, /served \/asked/);
      const denied = await ask("n");
      assert.doesNotMatch(denied, /served \/asked/);
      assert.match(denied, /cordon: blocked asked\.test/);
    } finally {
      server.close();
    }
  });

  test("doctor reports what is enforced", () => {
    const { status, stdout } = cordon(["doctor"]);
    assert.equal(status, 0, stdout);
    assert.match(stdout, /seccomp filter\s+mode 2/);
    assert.match(stdout, /capabilities\s+effective set 0+ /);
  });
});
