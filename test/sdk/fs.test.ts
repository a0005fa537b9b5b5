import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Sandbox, SandboxFsError, SeekMode } from "../../src/sdk/index.js";
import { sandboxSkip, tempDataDir } from "./support.js";

/** A missing file, as `@deno/sandbox`'s fs reports it (Deno.errors.NotFound, code ENOENT). */
const NOT_FOUND = { name: "NotFound", code: "ENOENT" };

describe("sandbox.fs: the Deno-style file API, seen from inside", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();
  let sandbox: Sandbox;
  before(async () => { sandbox = await Sandbox.create({ dataDir }); });
  after(async () => { await sandbox.close(); });

  it("writes and reads bytes and text, appends, refuses createNew over a file", async () => {
    await sandbox.fs.writeFile("bin.dat", new Uint8Array([0, 1, 2, 255]));
    assert.deepEqual([...await sandbox.fs.readFile("/home/sandbox/bin.dat")], [0, 1, 2, 255]);
    await sandbox.fs.writeTextFile("t.txt", "one\n");
    await sandbox.fs.writeTextFile("t.txt", "two\n", { append: true });
    assert.equal(await sandbox.fs.readTextFile("t.txt"), "one\ntwo\n");
    assert.equal(await sandbox.sh`cat t.txt`.text(), "one\ntwo\n", "processes see the same file");
    await assert.rejects(sandbox.fs.writeTextFile("t.txt", "x", { createNew: true }), { errno: "EEXIST" });
    await assert.rejects(sandbox.fs.writeTextFile("missing.txt", "x", { create: false }), NOT_FOUND);
    await sandbox.fs.writeTextFile("streamed.txt", new ReadableStream<string>({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } }));
    assert.equal(await sandbox.fs.readTextFile("streamed.txt"), "ab");
  });

  it("file errors are Deno's: a missing file is named NotFound with code ENOENT, an existing one AlreadyExists", async () => {
    await assert.rejects(sandbox.fs.readTextFile("nope.txt"), (error: unknown) => {
      assert.ok(error instanceof SandboxFsError);
      assert.equal(error.name, "NotFound");
      assert.equal(error.code, "ENOENT");
      assert.equal(error.errno, "ENOENT");
      assert.equal(error.errorCode, "E_NOT_FOUND");
      return true;
    });
    await sandbox.fs.mkdir("exists");
    await assert.rejects(sandbox.fs.mkdir("exists"), { name: "AlreadyExists", code: "EEXIST" });
    await assert.rejects(sandbox.fs.readDir("/etc/passwd")[Symbol.asyncIterator]().next(), { name: "NotADirectory", code: "ENOTDIR" });
  });

  it("mkdir, readDir, stat, lstat, chmod, rename, copyFile, remove", async () => {
    await sandbox.fs.mkdir("d/e/f", { recursive: true });
    await assert.rejects(sandbox.fs.mkdir("d"), { errno: "EEXIST" });
    await sandbox.fs.writeTextFile("d/file.txt", "12345");
    const names = [];
    for await (const entry of sandbox.fs.readDir("d")) names.push(`${entry.name}:${entry.isFile ? "f" : entry.isDirectory ? "d" : "?"}`);
    assert.deepEqual(names.sort(), ["e:d", "file.txt:f"]);
    const info = await sandbox.fs.stat("d/file.txt");
    assert.equal(info.size, 5);
    assert.equal(info.isFile, true);
    assert.ok(info.mtime instanceof Date && Math.abs(info.mtime.getTime() - Date.now()) < 60_000);
    await sandbox.fs.chmod("d/file.txt", 0o600);
    assert.equal((await sandbox.fs.stat("d/file.txt")).mode & 0o777, 0o600);
    await sandbox.fs.rename("d/file.txt", "d/moved.txt");
    await sandbox.fs.copyFile("d/moved.txt", "d/copy.txt");
    assert.equal(await sandbox.fs.readTextFile("d/copy.txt"), "12345");
    await assert.rejects(sandbox.fs.remove("d"), { errno: "ENOTEMPTY" });
    await sandbox.fs.remove("d", { recursive: true });
    await assert.rejects(sandbox.fs.stat("d"), NOT_FOUND);
  });

  it("symlink, readLink, realPath, lstat vs stat, truncate, link, utime", async () => {
    await sandbox.fs.writeTextFile("target.txt", "abcdef");
    await sandbox.fs.symlink("target.txt", "ln");
    assert.equal(await sandbox.fs.readLink("ln"), "target.txt");
    assert.equal(await sandbox.fs.realPath("ln"), "/home/sandbox/target.txt");
    assert.equal((await sandbox.fs.lstat("ln")).isSymlink, true);
    assert.equal((await sandbox.fs.stat("ln")).isFile, true);
    await assert.rejects(sandbox.fs.readLink("target.txt"), { errno: "EINVAL" });
    await sandbox.fs.truncate("target.txt", 3);
    assert.equal(await sandbox.fs.readTextFile("target.txt"), "abc");
    await sandbox.fs.link("target.txt", "hard.txt");
    assert.equal((await sandbox.fs.stat("hard.txt")).nlink, 2);
    await sandbox.fs.utime("target.txt", new Date(1_000_000_000_000), new Date(1_000_000_000_000));
    assert.equal((await sandbox.fs.stat("target.txt")).mtime.getTime(), 1_000_000_000_000);
  });

  it("makeTempDir, makeTempFile, walk, expandGlob", async () => {
    const dir = await sandbox.fs.makeTempDir({ prefix: "work-" });
    assert.match(dir, /^\/tmp\/work-/);
    const file = await sandbox.fs.makeTempFile({ dir, suffix: ".json" });
    assert.ok(file.startsWith(`${dir}/`) && file.endsWith(".json"));
    await sandbox.fs.mkdir(`${dir}/src/lib`, { recursive: true });
    await sandbox.fs.writeTextFile(`${dir}/src/a.ts`, "");
    await sandbox.fs.writeTextFile(`${dir}/src/lib/b.ts`, "");
    await sandbox.fs.writeTextFile(`${dir}/src/lib/c.js`, "");
    const walked = [];
    for await (const entry of sandbox.fs.walk(dir, { exts: [".ts"], includeDirs: false })) walked.push(entry.path.slice(dir.length));
    assert.deepEqual(walked.sort(), ["/src/a.ts", "/src/lib/b.ts"]);
    const globbed = [];
    for await (const entry of sandbox.fs.expandGlob("src/**/*.{ts,js}", { root: dir })) globbed.push(entry.name);
    assert.deepEqual(globbed.sort(), ["a.ts", "b.ts", "c.js"]);
  });

  it("open/create return a file handle with read, write, seek and stat", async () => {
    await using file = await sandbox.fs.create("handle.bin");
    assert.equal(await file.write(new TextEncoder().encode("hello world")), 11);
    assert.equal(await file.seek(6, SeekMode.Start), 6);
    const buffer = new Uint8Array(5);
    assert.equal(await file.read(buffer), 5);
    assert.equal(new TextDecoder().decode(buffer), "world");
    assert.equal(await file.read(buffer), null);
    assert.equal((await file.stat()).size, 11);
    await assert.rejects(sandbox.fs.open("absent.bin"), NOT_FOUND);
  });

  it("upload and download copy folders both ways; download creates no links on the host", async () => {
    const local = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-upload-"));
    after(() => fs.rmSync(local, { recursive: true, force: true }));
    fs.mkdirSync(path.join(local, "in", "sub"), { recursive: true });
    fs.writeFileSync(path.join(local, "in", "sub", "x.txt"), "uploaded");
    await sandbox.fs.upload(path.join(local, "in"), "up");
    assert.equal(await sandbox.fs.readTextFile("up/sub/x.txt"), "uploaded");
    await sandbox.fs.symlink("/etc/passwd", "up/sub/escape");
    await sandbox.fs.download("up", path.join(local, "out"));
    assert.equal(fs.readFileSync(path.join(local, "out", "sub", "x.txt"), "utf8"), "uploaded");
    assert.equal(fs.existsSync(path.join(local, "out", "sub", "escape")), false, "the planted link is not recreated on the host");
  });
});

describe("sandbox.fs cannot be turned against the host", { skip: sandboxSkip }, () => {
  const dataDir = tempDataDir();
  const hostSecret = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-host-secret-"));
  fs.writeFileSync(path.join(hostSecret, "id_rsa"), "HOST-PRIVATE-KEY");
  after(() => fs.rmSync(hostSecret, { recursive: true, force: true }));

  it("a symlink planted inside pointing at a host folder resolves inside the sandbox", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    await sandbox.sh`ln -s ${hostSecret} ssh && ln -s ${path.join(hostSecret, "id_rsa")} key`;
    await assert.rejects(sandbox.fs.readTextFile("key"), NOT_FOUND, "reading through the link finds nothing");
    await assert.rejects(sandbox.fs.readTextFile("ssh/id_rsa"), NOT_FOUND);
    await assert.rejects(sandbox.fs.writeTextFile("ssh/planted", "x"), NOT_FOUND, "writing through it creates nothing on the host");
    const listing = [];
    try {
      for await (const entry of sandbox.fs.readDir("ssh")) listing.push(entry.name);
    } catch { /* not found inside: fine */ }
    assert.deepEqual(listing, []);
    assert.deepEqual(fs.readdirSync(hostSecret), ["id_rsa"], "the host folder is unchanged");
    assert.equal(fs.readFileSync(path.join(hostSecret, "id_rsa"), "utf8"), "HOST-PRIVATE-KEY");
  });

  it("absolute and ../ paths stay inside the sandbox's root", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    await assert.rejects(sandbox.fs.readTextFile(path.join(hostSecret, "id_rsa")), NOT_FOUND);
    await assert.rejects(sandbox.fs.readTextFile(`../../../../..${path.join(hostSecret, "id_rsa")}`), NOT_FOUND);
    await sandbox.fs.writeTextFile("/usr/planted", "x");
    assert.equal(fs.existsSync("/usr/planted"), false, "the write stayed in the sandbox's own layer");
    await assert.rejects(sandbox.fs.writeTextFile("/planted", "x"), { code: "EROFS" }, "the root folder itself is read-only");
  });

  it("a FIFO swapped for a symlink in the control folder is impossible: it is read-only inside", async () => {
    await using sandbox = await Sandbox.create({ dataDir });
    const result = await sandbox.sh`ln -s /etc/passwd /run/cordon/f-planted; touch /run/cordon/x`.stderr("piped").noThrow();
    assert.notEqual(result.status.code, 0);
    assert.match(result.stderrText ?? "", /Read-only file system/);
  });
});
