import { benchEngine } from "./engine.js";
import { benchSdk } from "./sdk.js";
import { benchInstall } from "./install.js";
import { benchNet } from "./net.js";
import { benchScan } from "./scan.js";
import { benchSecrets } from "./secrets.js";
import type { Figure } from "./stats.js";

/**
 * `npm run bench`: every figure the issues name, each with its baseline
 * measured in the same run. `npm run bench -- engine` runs one group.
 */
const GROUPS: Record<string, () => Promise<Figure[]>> = {
  engine: () => benchEngine(),
  sdk: () => benchSdk(),
  net: () => benchNet(),
  secrets: () => benchSecrets(),
  install: () => benchInstall(),
  scan: () => benchScan(),
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : Object.keys(GROUPS);
  const all: Figure[] = [];
  for (const name of names) {
    const group = GROUPS[name];
    if (!group) {
      process.stderr.write(`bench: unknown group "${name}"; groups: ${Object.keys(GROUPS).join(", ")}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bench: ${name}...\n`);
    const figures = await group();
    for (const f of figures) process.stdout.write(`${f.name.padEnd(52)} ${String(f.value).padStart(10)} ${f.unit.padEnd(5)} ${f.note ?? ""}\n`);
    all.push(...figures);
  }
  if (process.env.BENCH_JSON) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
}

await main();
