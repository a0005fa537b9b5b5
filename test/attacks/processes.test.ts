import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { makeHostFixture, text, type HostFixture } from "../helpers/host-fixture.js";

const PYTHON = "/usr/bin/python3";

/** Cgroup folders below `root` (a few levels deep) whose name starts with `prefix`. */
function findCgroups(root: string, prefix: string, depth = 4): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory()).flatMap((e) => {
    const full = path.join(root, e.name);
    if (e.name.startsWith(prefix)) return [full];
    return depth > 0 ? findCgroups(full, prefix, depth - 1) : [];
  });
}

/** Host processes whose command line starts with `command` (not ones that merely mention it, such as cordon's own). */
function hostProcessesMatching(command: string): string[] {
  const out = spawnSync("ps", ["-eo", "pid,args"], { encoding: "utf8" }).stdout;
  return out.split("\n").filter((line) => line.trim().replace(/^\d+\s+/, "").startsWith(command));
}

describe("attack: host processes and the terminal", () => {
  let host: HostFixture;
  before(() => {
    host = makeHostFixture();
  });
  after(() => host.cleanup());

  test("signal a host process", async () => {
    const victim = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const result = await host.sh(`kill -9 ${victim.pid}; kill -9 -1; echo rc=$?`);
      assert.match(result.stdout.toString() + result.stderr.toString(), /No such process|rc=/);
      assert.equal(victim.exitCode, null);
      assert.equal(victim.signalCode, null);
      process.kill(victim.pid!, 0); // still alive on the host
    } finally {
      victim.kill();
    }
  });

  test("ptrace a process (host or sandbox) is refused", { skip: !fs.existsSync(PYTHON) && "needs /usr/bin/python3" }, async () => {
    const victim = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const script = [
        "import ctypes, os",
        "libc = ctypes.CDLL(None, use_errno=True)",
        `for pid in (${victim.pid}, 1, os.getppid()):`,
        "    r = libc.ptrace(16, pid, 0, 0)",
        "    print(pid, r, ctypes.get_errno())",
      ].join("\n");
      const result = await host.sh(`${PYTHON} -c '${script}'`);
      const lines = result.stdout.toString().trim().split("\n");
      assert.equal(lines.length, 3, text(result));
      for (const line of lines) assert.match(line, / -1 1$/, "ptrace must fail with EPERM");
      process.kill(victim.pid!, 0);
    } finally {
      victim.kill();
    }
  });

  test("inject keystrokes into the terminal with TIOCSTI", { skip: !fs.existsSync("/usr/bin/script") && "needs script(1)" }, () => {
    // script(1) gives the sandbox a real terminal on stdin; the injected
    // command would run in the shell that reads it after the sandbox exits.
    const marker = path.join(host.root, "tiocsti-ran");
    const cli = path.resolve("dist/src/cli/main.js");
    const inject = `import fcntl, termios\nfor c in "touch ${marker}\\n":\n    fcntl.ioctl(0, termios.TIOCSTI, c)`;
    fs.writeFileSync(path.join(host.project, "inject.py"), inject);
    const result = spawnSync(
      "script",
      ["-qec", `node ${cli} run --allow-read=${host.project} -- ${PYTHON} ${host.project}/inject.py; sh -c 'read -t 1 line && eval "$line"'`, "/dev/null"],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.match(result.stdout, /Operation not permitted|PermissionError/);
    assert.ok(!fs.existsSync(marker), "the injected command ran on the host");
  });

  test("a grandchild that double-forks does not outlive the timeout", async () => {
    const marker = "31.4159";
    const started = Date.now();
    const result = await host.sh(`(setsid sh -c 'sleep ${marker}; echo late > out/late.txt' &) ; nohup sleep ${marker} & sleep ${marker}`, {
      allowWrite: ["./out"],
      timeout: "1s",
    });
    assert.equal(result.limitHit, "timeout");
    assert.equal(result.exitCode, 124);
    assert.ok(Date.now() - started < 10_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(hostProcessesMatching(`sleep ${marker}`), []);
    assert.ok(!fs.existsSync(path.join(host.project, "out/late.txt")));
  });

  test("background processes die when the command exits", async () => {
    const marker = "27.1828";
    const result = await host.sh(`(setsid sleep ${marker} &); echo started`);
    assert.equal(result.exitCode, 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(hostProcessesMatching(`sleep ${marker}`), []);
  });

  test("the sandbox dies when cordon is killed with SIGKILL", async () => {
    const marker = "41.4213";
    const cli = path.resolve("dist/src/cli/main.js");
    const cordon = spawn(process.execPath, [cli, "run", "--", "sleep", marker], { stdio: "ignore" });
    for (let i = 0; i < 100 && hostProcessesMatching(`sleep ${marker}`).length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    assert.equal(hostProcessesMatching(`sleep ${marker}`).length, 1, "the sandboxed sleep should be running");
    cordon.kill("SIGKILL");
    for (let i = 0; i < 40 && hostProcessesMatching(`sleep ${marker}`).length > 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(hostProcessesMatching(`sleep ${marker}`), []);
    // The killed cordon could not remove its cgroup; the next run does.
    await host.sh("true");
    const leftovers = ["/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"].flatMap((root) => findCgroups(root, `cordon-${cordon.pid}-`));
    assert.deepEqual(leftovers, []);
  });
});
