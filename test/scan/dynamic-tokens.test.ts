import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { brotliCompressSync, gzipSync } from "node:zlib";
import type { SinkholeExchange } from "../../src/net/sinkhole/exchange.js";
import { StageAnswers } from "../../src/scan/dynamic/answers.js";
import { diffTrees, snapshotTree } from "../../src/scan/dynamic/file-tree.js";
import { findHoneytokens, findHoneytokensInHost } from "../../src/scan/dynamic/find-tokens.js";
import { behaviourFindings } from "../../src/scan/dynamic/findings.js";
import { plantHoneytokens, type Honeytoken } from "../../src/scan/dynamic/honeytokens.js";
import type { Observation } from "../../src/scan/dynamic/observe.js";
import { withBehaviour } from "../../src/scan/dynamic/index.js";
import { toSarif } from "../../src/scan/format/sarif.js";
import { verdictOf } from "../../src/scan/verdict.js";
import { configuredRegistry } from "../../src/scan/dynamic/registry.js";

/** The registry this machine's npm is configured with (never a name written here). */
const REGISTRY = configuredRegistry().host;

const plant = plantHoneytokens();
const npmrc = plant.tokens.find((t) => t.id === "npmrc-token") as Honeytoken;
const ids = (found: { token: Honeytoken; encoding: string }[]): string[] => found.map((s) => `${s.token.id}:${s.encoding}`);

describe("honeytokens", () => {
  it("are new for every observation and planted where a thief looks", () => {
    const other = plantHoneytokens();
    const values = new Set(plant.tokens.map((t) => t.value));
    assert.equal(values.size, plant.tokens.length, "values are distinct within a plant");
    assert.equal(other.tokens.filter((t) => values.has(t.value)).length, 0, "no value repeats across plants");
    // Each file sent as it is would give its secret away (the Docker token sits base64-encoded in config.json, as Docker writes it).
    const everything = [...plant.env.values(), ...plant.homeFiles.map((f) => f.content.toString("latin1")), ...plant.projectFiles.map((f) => f.content.toString())].join("\n");
    assert.deepEqual(findHoneytokens(Buffer.from(everything, "latin1"), plant.tokens).map((s) => s.token.id).sort(), plant.tokens.map((t) => t.id).sort());
    for (const path of [".npmrc", ".ssh/id_rsa", ".aws/credentials", ".config/gh/hosts.yml", ".config/solana/id.json"]) {
      assert.ok(plant.homeFiles.some((f) => f.path === path), path);
    }
    assert.equal(plant.env.get("CI"), "true");
    assert.equal(plant.env.get("GITHUB_ACTIONS"), "true");
  });
});

describe("finding a planted secret in what was sent", () => {
  const tokens = plant.tokens;
  const body = (text: string | Buffer): string[] => ids(findHoneytokens(Buffer.isBuffer(text) ? text : Buffer.from(text), tokens));

  it("as sent, and inside JSON", () => {
    assert.deepEqual(body(`{"npmrc":"//${REGISTRY}/:_authToken=${npmrc.value}"}`), ["npmrc-token:plain"]);
  });
  it("base64, URL-safe base64, and base64 glued to the text before it", () => {
    const b64 = Buffer.from(`token=${npmrc.value}`).toString("base64");
    assert.deepEqual(body(`d=${b64}`), ["npmrc-token:base64"]);
    assert.deepEqual(body(Buffer.from(`xx${npmrc.value}`).toString("base64url")), ["npmrc-token:base64"]);
    assert.deepEqual(body(`abc${b64}`), ["npmrc-token:base64"]);
  });
  it("gzip inside base64, hex, URL encoding, JSON escapes, reversed", () => {
    assert.deepEqual(body(gzipSync(Buffer.from(npmrc.value)).toString("base64")), ["npmrc-token:base64+gzip"]);
    assert.deepEqual(body(Buffer.from(npmrc.value).toString("hex")), ["npmrc-token:hex"]);
    assert.deepEqual(body(`d=${npmrc.value.split("").map((c) => `%${c.charCodeAt(0).toString(16)}`).join("")}`), ["npmrc-token:url"]);
    assert.deepEqual(body(`"${npmrc.value.split("").map((c) => `\\u00${c.charCodeAt(0).toString(16)}`).join("")}"`), ["npmrc-token:json escapes"]);
    assert.deepEqual(body(npmrc.value.split("").reverse().join("")), ["npmrc-token:reversed"]);
  });
  it("a body the request says is brotli-compressed", () => {
    assert.deepEqual(ids(findHoneytokens(brotliCompressSync(Buffer.from(`{"log":"${"npm http fetch GET 200 ".repeat(100)}","t":"${npmrc.value}"}`)), tokens, { contentEncoding: "br" })), ["npmrc-token:brotli"]);
  });
  it("a Solana key converted to base58, as drainers send it", () => {
    const solana = tokens.find((t) => t.id === "solana-keypair") as Honeytoken;
    assert.deepEqual(body(`{"key":"${solana.alsoAs[0]}"}`), ["solana-keypair:plain"]);
  });
  it("in a host name: lower-cased, hex or base32, across labels", () => {
    const gh = tokens.find((t) => t.id === "env-GITHUB_TOKEN") as Honeytoken;
    assert.deepEqual(ids(findHoneytokensInHost(`${gh.value.toLowerCase()}.x.example`, tokens)), ["env-GITHUB_TOKEN:plain"]);
    const hex = Buffer.from(gh.value).toString("hex");
    assert.deepEqual(ids(findHoneytokensInHost(`${hex.slice(0, 50)}.${hex.slice(50)}.x.example`, tokens)), ["env-GITHUB_TOKEN:hex"]);
  });
  it("nothing in ordinary traffic, or in a random string of the same alphabet", () => {
    assert.deepEqual(body('{"name":"left-pad","version":"1.3.0","dist":{"shasum":"5b8a3a7765dfe001261dde915589e782f8c94d1e"}}'), []);
    assert.deepEqual(body(plantHoneytokens().tokens.map((t) => t.value).join("\n")), []);
  });
});

function observation(exchanges: Partial<SinkholeExchange>[], extra: Partial<Observation> = {}): Observation {
  return {
    name: "p", version: "1.0.0", entry: "index.js", plannedSteps: ["postinstall", "load"],
    steps: [{ event: "postinstall", exitCode: 0, signal: null, ms: 10, output: "", endedAt: Date.now() + 1_000 }],
    notRun: [], dependenciesInstalled: [], tokens: plant.tokens, stagesServed: [], stagesRun: [], probe: { line: "echo $((1+2))\n", answer: "3" },
    homeChanges: [], homeChangesComplete: true, projectPersistence: [], processesSeen: [], leftRunning: [], directAttempts: 0, timedOut: false, durationMs: 10,
    exchanges: exchanges.map((e, i) => ({ id: i + 1, via: "connect", host: "x.example", port: 443, kind: "https", method: "GET", target: "/", headers: [], sent: Buffer.alloc(0), sentBytes: 0, startedAt: Date.now(), ...e })),
    ...extra,
  };
}

describe("what the observation's findings weigh", () => {
  it("the npm token sent to the npm registry is use, not theft; publishing with it is high", () => {
    const read = behaviourFindings(observation([{ host: REGISTRY, target: "/left-pad", headers: [["authorization", `Bearer ${npmrc.value}`]] }]));
    assert.deepEqual(read.filter((f) => f.rule.startsWith("behaviour/credential")).map((f) => `${f.rule}:${f.severity}`), ["behaviour/credential-use:medium"]);
    const publish = behaviourFindings(observation([{ host: REGISTRY, method: "PUT", target: "/replica", headers: [["authorization", `Bearer ${npmrc.value}`]] }]));
    assert.deepEqual(publish.filter((f) => f.rule.startsWith("behaviour/credential")).map((f) => `${f.rule}:${f.severity}`), ["behaviour/credential-use:high"]);
  });
  it("the same token sent anywhere else is theft", () => {
    const found = behaviourFindings(observation([{ host: `${REGISTRY}.evil.example`, headers: [["authorization", `Bearer ${npmrc.value}`]] }]));
    assert.equal(verdictOf(found), "malicious");
  });
  it("downloads with no secret in them, a failing build, and files in npm's cache weigh nothing", () => {
    const found = behaviourFindings(observation([{ host: "github.com", target: "/acme/tool/releases/download/v1/tool.tgz" }, { host: "nodejs.org", target: "/dist/v20.0.0/node-v20.0.0-headers.tar.gz" }], {
      steps: [{ event: "postinstall", exitCode: 1, signal: null, ms: 10, output: "gyp ERR!", endedAt: Date.now() + 1_000 }],
    }));
    assert.equal(verdictOf(found), "ok");
    assert.deepEqual(found.map((f) => f.severity), ["info", "info"]);
  });
});

describe("reports", () => {
  it("merge behaviour with the static findings, weigh the verdict again, and describe the behaviour rules in SARIF", () => {
    const clean = { name: "p", version: "1.0.0", verdict: "ok" as const, findings: [], source: "p", cached: false, stats: { files: 1, parsedFiles: 0, jsBytes: 0, milliseconds: 1 } };
    const merged = withBehaviour(clean, observation([{ host: "drop.example", method: "POST", sent: Buffer.from(npmrc.value), sentBytes: 40 }]));
    assert.equal(merged.verdict, "malicious");
    assert.equal(merged.behaviour?.requests[0]?.secrets[0], "npmrc-token");
    const sarif = toSarif([merged]) as { runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; ruleIndex?: number }[] }[] };
    const [run] = sarif.runs;
    const result = run?.results.find((r) => r.ruleId === "behaviour/credential-theft");
    assert.ok(result && result.ruleIndex !== undefined);
    assert.equal(run?.tool.driver.rules[result.ruleIndex]?.id, "behaviour/credential-theft");
  });
});

describe("the sinkhole's answers", () => {
  const answers = new StageAnswers("0123456789abcdef");
  const ask = (target: string, agent = ""): string => {
    const answer = answers.answer({ host: "h.example", port: 443, kind: "https", method: "GET", target, headers: agent ? [["User-Agent", agent]] : [] });
    return String(answer.body);
  };
  it("a stage of the kind the client would run, leaving a mark named by the nonce", () => {
    assert.match(ask("/install", "curl/8.5.0"), /^#!\/bin\/sh\n.*touch "\$HOME\/\.0123456789abcdef\.sh"/s);
    assert.match(ask("/x.py"), /\.0123456789abcdef\.py/);
    assert.match(ask("/payload"), /getBuiltinModule.*\.0123456789abcdef\.js/);
  });
  it("archives and binaries get plain bytes, not a stage", () => {
    const before = answers.served.length;
    assert.equal(ask("/releases/download/v1/tool-linux-x64.tar.gz", "curl/8.5.0"), "ok\n");
    assert.equal(answers.served.length, before);
  });
});

describe("home folder diff", () => {
  it("reports created, changed and deleted entries, and leaves npm's cache out", () => {
    const root = mkdtempSync(join(tmpdir(), "cordon-tree-test-"));
    try {
      writeFileSync(join(root, ".bashrc"), "a");
      writeFileSync(join(root, ".npmrc"), "b");
      const before = snapshotTree(root);
      writeFileSync(join(root, ".bashrc"), "a\nevil");
      unlinkSync(join(root, ".npmrc"));
      mkdirSync(join(root, ".npm", "_cacache"), { recursive: true });
      writeFileSync(join(root, ".npm", "_cacache", "x"), "c");
      mkdirSync(join(root, ".ssh"));
      writeFileSync(join(root, ".ssh", "authorized_keys"), "ssh-ed25519 AAAA");
      assert.deepEqual(diffTrees(before, snapshotTree(root)).map((c) => `${c.change} ${c.path}`), [
        "changed .bashrc", "deleted .npmrc", "created .ssh", "created .ssh/authorized_keys",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
