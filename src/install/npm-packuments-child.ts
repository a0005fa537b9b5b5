/**
 * Run by npm-client.ts as its own Node process: fetches packuments (full
 * metadata, with publish times) with npm's own client (pacote) and npm's
 * own configuration, loaded exactly as npm loads it (registries per scope,
 * auth, proxy, CA, cache). npm's credentials stay in this short-lived child
 * and never enter cordon's process; only versions, dist-tags and publish
 * times come back, as JSON on stdout.
 *
 * Input on stdin: { "npmDir": "...", "names": ["a", "@s/b"] }.
 */
import { createRequire } from "node:module";
import path from "node:path";

interface Request {
  npmDir: string;
  names: string[];
}

interface Packument {
  versions?: Record<string, unknown>;
  time?: Record<string, string>;
  "dist-tags"?: Record<string, string>;
}

const CONCURRENCY = 16;

async function main(): Promise<void> {
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  const request = JSON.parse(text) as Request;
  const requireFromNpm = createRequire(path.join(request.npmDir, "package.json"));
  const Config = requireFromNpm("@npmcli/config") as new (options: Record<string, unknown>) => { load(): Promise<void>; flat: Record<string, unknown> };
  const definitions = requireFromNpm("@npmcli/config/lib/definitions") as Record<string, unknown>;
  const pacote = requireFromNpm("pacote") as { packument(spec: string, options: Record<string, unknown>): Promise<Packument> };
  const config = new Config({ npmPath: request.npmDir, ...definitions, argv: [process.execPath, "npm"], cwd: process.cwd(), warn: false });
  await config.load();
  const options = { ...config.flat, fullMetadata: true };
  const packuments: Record<string, { versions: string[]; time: Record<string, string>; distTags: Record<string, string> }> = {};
  const errors: Record<string, string> = {};
  const pending = [...new Set(request.names)];
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      try {
        const packument = await pacote.packument(name, options);
        packuments[name] = { versions: Object.keys(packument.versions ?? {}), time: packument.time ?? {}, distTags: packument["dist-tags"] ?? {} };
      } catch (error) {
        errors[name] = (error as Error).message.split("\n")[0] ?? "failed";
      }
    }
  }));
  process.stdout.write(JSON.stringify({ packuments, errors }));
}

main().catch((error: unknown) => {
  process.stdout.write(JSON.stringify({ failed: (error as Error).message }));
  process.exitCode = 1;
});
