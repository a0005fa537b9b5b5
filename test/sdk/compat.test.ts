import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ConfigError } from "../../src/errors.js";
import * as sdk from "../../src/sdk/index.js";
import { Client, ConnectionClosedError, InvalidMemoryError, InvalidTimeoutError, KillController, Sandbox, SandboxCommandError, SandboxSdkError, Snapshot, Volume } from "../../src/sdk/index.js";
import { sandboxSkip, tempDataDir } from "./support.js";

/**
 * Code written for `@deno/sandbox` runs unchanged: these check cordon
 * against what its published runtime (0.13.2) does, where that differs
 * from its docs.
 */
const run = promisify(execFile);
const SDK = fileURLToPath(new URL("../../src/sdk/index.js", import.meta.url));

describe("sh is bash, as in @deno/sandbox", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();

  it("[[ … ]], {1..3} and set -o pipefail work", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    assert.equal(await sandbox.sh`[[ abc == a* ]] && echo {1..3}`.text(), "1 2 3\n");
    const piped = await sandbox.sh`set -o pipefail; false | true`.noThrow();
    assert.equal(piped.status.code, 1, "pipefail makes the pipeline fail");
  });
});

describe("defaults and result shapes are @deno/sandbox's runtime's", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();

  it("spawn() defaults: stdin is null (spawn(\"cat\") ends), stdout and stderr are inherited", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const cat = await sandbox.spawn("cat");
    assert.equal(cat.stdin, null);
    assert.equal(cat.stdout, null);
    assert.equal(cat.stderr, null);
    assert.deepEqual(await cat.status, { success: true, code: 0, signal: null, oom: false });
    const output = await (await sandbox.spawn("true")).output();
    assert.equal(output.stdout, null);
    assert.equal(output.stdoutText, null);
  });

  it("awaiting sh prints its output on this process's stdout and returns null streams", async () => {
    const script = `
      const { Sandbox } = await import(${JSON.stringify(SDK)});
      const sandbox = await Sandbox.create({ dataDir: ${JSON.stringify(dataDir)} });
      const result = await sandbox.sh\`echo printed-by-the-sandbox\`;
      console.log(JSON.stringify({ stdout: result.stdout, stdoutText: result.stdoutText, stderr: result.stderr, code: result.status.code }));
      await sandbox.close();`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script]);
    const lines = stdout.trim().split("\n");
    assert.equal(lines[0], "printed-by-the-sandbox");
    assert.deepEqual(JSON.parse(lines[1] ?? "{}"), { stdout: null, stdoutText: null, stderr: null, code: 0 });
  });

  it("output() gives null for a stream already read, and a second output() null streams", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const child = await sandbox.spawn("echo", { args: ["once"], stdout: "piped", stderr: "piped" });
    const reader = child.stdout!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "once\n");
    const output = await child.output();
    assert.equal(output.stdout, null, "the caller holds stdout");
    assert.equal(output.stderrText, "");
    const again = await child.output();
    assert.equal(again.stderr, null);
    assert.equal(again.status.code, 0);
  });

  it("a failing sh with inherited stderr still explains itself in the error", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    await assert.rejects(sandbox.sh`echo the-reason >&2; exit 4`.stderr("inherit").result(), (error: unknown) => {
      assert.ok(error instanceof SandboxCommandError);
      assert.equal(error.code, 4);
      assert.match(error.message, /the-reason/);
      return true;
    });
  });

  it("KillController sends any signal; an already aborted signal never starts the command", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const controller = new KillController();
    const pending = sandbox.sh`touch started; sleep 30`.signal(controller.signal).noThrow().result();
    await sandbox.sh`while [ ! -e started ]; do sleep 0.01; done`;
    controller.kill("SIGINT");
    const interrupted = await pending;
    assert.equal(interrupted.status.code, 130);
    assert.equal(controller.signal.aborted, true);
    assert.equal(controller.signal.abortedExitCode, 130);
    const skipped = await sandbox.sh`touch ran`.signal(controller.signal).noThrow();
    assert.equal(skipped.status.code, 130);
    assert.equal(skipped.stdoutText, "");
    assert.equal(await sandbox.sh`test -e ran && echo ran || echo skipped`.text(), "skipped\n");
    await assert.rejects(sandbox.sh`true`.signal(controller.signal).text(), SandboxCommandError);
  });
});

describe("exports what @deno/sandbox exports", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();

  it("its classes are there", () => {
    const names = [
      "Sandbox", "KillController", "KillSignal", "ChildProcess", "FsFile", "SeekMode", "Client", "Volume", "Snapshot",
      "ApiError", "ConnectionClosedError", "ConnectionEstablishmentError", "InvalidMemoryError", "InvalidTimeoutError",
      "InvalidTokenError", "MissingTokenError", "NetworkError", "RpcError", "SandboxCommandError", "SandboxKillError", "SandboxSdkError",
    ];
    const exported = sdk as unknown as Record<string, unknown>;
    assert.deepEqual(names.filter((name) => exported[name] === undefined), []);
  });

  it("bad options and a closed sandbox fail with Deno's classes, which are cordon errors too", async () => {
    await assert.rejects(Sandbox.create({ dataDir, timeout: "soon" as never }), (error: unknown) => {
      assert.ok(error instanceof InvalidTimeoutError);
      assert.ok(error instanceof ConfigError);
      assert.ok(error instanceof SandboxSdkError);
      return true;
    });
    await assert.rejects(Sandbox.create({ dataDir, memory: "lots" as never }), InvalidMemoryError);
    const sandbox = await Sandbox.create({ dataDir });
    await sandbox.close();
    await assert.rejects(sandbox.spawn("true"), ConnectionClosedError);
    assert.equal(new Error("x") instanceof SandboxSdkError, false);
  });

  it("Volume and Snapshot carry Deno's fields; Snapshot.create snapshots a volume; Client lists both", async () => {
    const volume = await Volume.create({ slug: "work", region: "ord", capacity: "1GiB", dataDir });
    assert.match(volume.id, /^vol-[0-9a-f]{12}$/);
    assert.equal(volume.slug, "work");
    assert.equal(volume.region, "ord");
    assert.equal(volume.capacity, 1024 ** 3);
    assert.equal(volume.isBootable, true);
    {
      await using writer = await Sandbox.create({ dataDir, root: volume.id });
      await writer.sh`echo from-the-volume > note`;
    }
    const snapshot = await Snapshot.create("work", { slug: "work-snap", dataDir });
    assert.match(snapshot.id, /^snp-[0-9a-f]{12}$/);
    assert.equal(snapshot.slug, "work-snap");
    assert.deepEqual(snapshot.volume, { id: volume.id, slug: "work" });
    assert.equal(typeof snapshot.allocatedSize, "number");
    await using reader = await Sandbox.create({ dataDir, root: snapshot.id });
    assert.equal(await reader.sh`cat note`.text(), "from-the-volume\n");
    const client = new Client({ dataDir, token: "unused" });
    assert.deepEqual((await client.volumes.list()).items.map((v) => v.slug), ["work"]);
    assert.equal((await client.snapshots.get("work-snap"))?.id, snapshot.id);
    await assert.rejects(Volume.create({ slug: "work-snap", dataDir }), /share one set of names/);
    assert.throws(() => client.apps, ConfigError);
  });
});

describe("options cordon cannot honour", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ["a region", { region: "ord" }, /region .*runs every sandbox on this machine/],
    ["ssh: true", { ssh: true }, /ssh .*no SSH access/],
    ["a sandbox endpoint", { sandboxEndpoint: "https://example.com" }, /sandboxEndpoint/],
  ];
  for (const [name, options, message] of refused) {
    it(`${name} is a ConfigError naming the option and why`, async () => {
      await assert.rejects(Sandbox.create({ dataDir, ...options }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.input, Object.keys(options)[0]);
        assert.match(error.message, message);
        assert.ok(error.hint);
        return true;
      });
    });
  }

  it("credentials and ssh: false change nothing here and are accepted; a \"session\" sandbox cannot be connected to", async () => {
    await using sandbox = await Sandbox.create({ dataDir, token: "ddo_unused", org: "acme", ssh: false, debug: false });
    assert.equal(sandbox.ssh, undefined);
    await assert.rejects(Sandbox.connect(sandbox.id, { dataDir }), (error: unknown) => error instanceof ConfigError && new RegExp(`belongs to process ${process.pid}, which created it with timeout "session"`).test(error.message));
    await assert.rejects(sandbox.exposeSsh(), ConfigError);
    await assert.rejects(sandbox.deno.deploy("app"), (error: unknown) => error instanceof ConfigError && /publishes nothing to Deno Deploy/.test(error.message));
  });
});
