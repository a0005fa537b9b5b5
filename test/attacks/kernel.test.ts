import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { DENIED_SYSCALLS } from "../../src/engine/seccomp/filter.js";
import { seccompArchFor } from "../../src/engine/seccomp/syscalls.js";
import { makeHostFixture, text, type HostFixture } from "../helpers/host-fixture.js";

const PYTHON = "/usr/bin/python3";
const noPython = !fs.existsSync(PYTHON) && "needs /usr/bin/python3";

describe("attack: kernel surface and network", () => {
  let host: HostFixture;
  before(() => {
    host = makeHostFixture();
  });
  after(() => host.cleanup());

  test("each denied syscall returns EPERM", { skip: noPython }, async () => {
    const arch = seccompArchFor(process.arch)!;
    const numbers = DENIED_SYSCALLS.map((name) => [name, arch.numbers[name]] as const).filter(([, nr]) => nr !== undefined);
    const script = [
      "import ctypes, sys",
      "libc = ctypes.CDLL(None, use_errno=True)",
      "for name, nr in [" + numbers.map(([n, nr]) => `('${n}', ${nr})`).join(",") + "]:",
      "    ctypes.set_errno(0)",
      "    r = libc.syscall(nr, 0, 0, 0, 0, 0)",
      "    print(name, r, ctypes.get_errno())",
    ].join("\n");
    fs.writeFileSync(`${host.project}/syscalls.py`, script);
    const result = await host.sh(`${PYTHON} syscalls.py`, { allowRead: ["."] });
    const lines = result.stdout.toString().trim().split("\n");
    assert.equal(lines.length, numbers.length, text(result));
    for (const line of lines) assert.match(line, /^\w+ -1 1$/, `not EPERM: ${line}`);
  });

  test("argument-checked calls: TIOCSTI, ASLR-off personality, namespace clone", { skip: noPython }, async () => {
    const script = [
      "import ctypes, os",
      "libc = ctypes.CDLL(None, use_errno=True)",
      "def call(label, *args):",
      "    ctypes.set_errno(0); r = libc.syscall(*args); print(label, r, ctypes.get_errno())",
      "fd = os.open('/dev/null', os.O_RDWR)",
      "c = ctypes.c_char(b'x')",
      "call('tiocsti', 16, fd, 0x5412, ctypes.byref(c))",
      "call('personality-aslr-off', 135, 0x0040000)",
      "call('personality-query', 135, 0xffffffff)",
      "call('clone-newuser', 56, 0x10000000 | 17, 0, 0, 0, 0)",
      "call('clone3', 435, 0, 0)",
    ].join("\n");
    if (process.arch !== "x64") return;
    fs.writeFileSync(`${host.project}/args.py`, script);
    const result = await host.sh(`${PYTHON} args.py`, { allowRead: ["."] });
    const out = result.stdout.toString();
    assert.match(out, /^tiocsti -1 1$/m);
    assert.match(out, /^personality-aslr-off -1 1$/m);
    assert.match(out, /^personality-query \d+ 0$/m);
    assert.match(out, /^clone-newuser -1 1$/m);
    assert.match(out, /^clone3 -1 38$/m);
  });

  test("creating a user namespace fails", async () => {
    const result = await host.sh("unshare --user --map-root-user id && echo ESCAPED; unshare -r true && echo ESCAPED2; cat /proc/sys/user/max_user_namespaces");
    assert.doesNotMatch(result.stdout.toString(), /ESCAPED/);
  });

  test("ordinary programs still work under the filter", async () => {
    const result = await host.sh("node -e 'require(\"child_process\").execSync(\"true\"); console.log(1+1)' && python3 -c 'import threading; t=threading.Thread(target=print, args=(3,)); t.start(); t.join()'");
    assert.equal(result.stdout.toString(), "2\n3\n", text(result));
  });

  test("no network interface but loopback, and no route out", async () => {
    const server = net.createServer((socket) => socket.end("host-loopback-secret"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const script = `
        const net = require("net");
        const fs = require("fs");
        console.log(fs.readFileSync("/proc/net/dev", "utf8").split("\\n").slice(2).filter(Boolean).map(l => l.split(":")[0].trim()).join(","));
        const tries = [["1.1.1.1", 443], ["169.254.169.254", 80], ["127.0.0.1", ${port}], ["::1", ${port}]];
        let left = tries.length;
        for (const [host, port] of tries) {
          const s = net.connect({ host, port, timeout: 1500 });
          s.on("data", d => console.log("GOT", String(d)));
          s.on("connect", () => console.log("connected", host));
          s.on("error", e => { console.log(host, e.code); if (--left === 0) process.exit(0); });
          s.on("timeout", () => { console.log(host, "timeout"); s.destroy(); if (--left === 0) process.exit(0); });
        }`;
      const result = await host.sh(`node -e '${script.replace(/'/g, "'\\''")}'`, { timeout: "10s" });
      const out = result.stdout.toString();
      assert.match(out, /^lo$/m, out);
      assert.doesNotMatch(out, /GOT|host-loopback-secret/);
      assert.match(out, /1\.1\.1\.1 ENETUNREACH/);
    } finally {
      server.close();
    }
  });

  test("DNS cannot leave: no resolver, no route", async () => {
    const result = await host.sh("getent hosts example.com; echo rc=$?; node -e 'require(\"dns\").resolve4(\"leak-data.example.com\", (e, a) => console.log(e ? e.code : a))'", { timeout: "15s" });
    assert.match(result.stdout.toString(), /rc=2/);
    assert.doesNotMatch(result.stdout.toString(), /\d+\.\d+\.\d+\.\d+/);
  });

  test("abstract unix sockets of the host are unreachable", async () => {
    const name = `\0cordon-test-${process.pid}`;
    const server = net.createServer((s) => s.end("abstract-secret"));
    await new Promise<void>((resolve) => server.listen(name, resolve));
    try {
      const script = `const s=require("net").connect("\\0cordon-test-${process.pid}"); s.on("data",d=>console.log("GOT",String(d))); s.on("error",e=>console.log(e.code))`;
      const result = await host.sh(`node -e '${script}'`, { timeout: "5s" });
      assert.match(result.stdout.toString(), /ECONNREFUSED|ENOENT/);
      assert.doesNotMatch(result.stdout.toString(), /abstract-secret/);
    } finally {
      server.close();
    }
  });
});
