import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

/**
 * A tiny npm registry on loopback for tests: serves packuments and tarballs
 * of packages the test packed itself, so the real npm installs them as
 * registry packages (with registry identity, integrity and versions).
 */
export class LocalRegistry {
  readonly #packages = new Map<string, { versions: Record<string, unknown>; latest: string; time: Record<string, string> }>();
  readonly #tarballs = new Map<string, Buffer>();
  readonly #server = http.createServer((request, response) => this.#serve(request, response));
  url = "";

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as { port: number }).port}/`;
    return this;
  }

  /** Publishes a tarball made by `npm pack` with its package.json; `published` is the publish time the packument gives (default: now). */
  publish(tarballPath: string, manifest: { name: string; version: string } & Record<string, unknown>, published: Date = new Date()): void {
    const data = fs.readFileSync(tarballPath);
    const file = `${manifest.name}/-/${path.basename(manifest.name)}-${manifest.version}.tgz`;
    this.#tarballs.set(`/${file}`, data);
    const entry = this.#packages.get(manifest.name) ?? { versions: {}, latest: manifest.version, time: {} };
    entry.time[manifest.version] = published.toISOString();
    entry.versions[manifest.version] = {
      ...manifest,
      dist: {
        tarball: `${this.url}${file}`,
        integrity: `sha512-${createHash("sha512").update(data).digest("base64")}`,
        shasum: createHash("sha1").update(data).digest("hex"),
      },
    };
    entry.latest = manifest.version;
    this.#packages.set(manifest.name, entry);
  }

  close(): void {
    this.#server.close();
  }

  #serve(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = decodeURIComponent((request.url ?? "/").split("?")[0] ?? "/");
    const tarball = this.#tarballs.get(url);
    if (tarball) {
      response.writeHead(200, { "content-type": "application/octet-stream" }).end(tarball);
      return;
    }
    const entry = this.#packages.get(url.slice(1));
    if (!entry) {
      response.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    const name = url.slice(1);
    const times = Object.values(entry.time).sort();
    const time = { created: times[0], modified: times[times.length - 1], ...entry.time };
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ name, "dist-tags": { latest: entry.latest }, versions: entry.versions, time }));
  }
}
