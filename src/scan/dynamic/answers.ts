import type { SinkholeAnswer, SinkholeRequest } from "../../net/sinkhole/exchange.js";

/** How a downloaded answer could be run: by Node, by a shell, by Python. */
export type StageKind = "js" | "sh" | "py";

/** A request the sinkhole answered with a stage that leaves a mark when it runs. */
export interface StageServed {
  kind: StageKind;
  host: string;
  method: string;
  target: string;
}

/**
 * The sinkhole's answers. Every request gets 200 and a small body; a body a
 * program could run is a harmless stage of the kind it would run (chosen by
 * the file name asked for, else by the client), which does one thing: it
 * creates `$HOME/.<nonce>.<kind>`. Finding that file afterwards proves the
 * package ran what it downloaded: a loader's second stage. The nonce is new
 * for every observation, so a package cannot make the mark without running
 * the stage. Archives and binaries get plain bytes: an installer that
 * unpacks them fails, which is what it would do offline.
 */
export class StageAnswers {
  readonly served: StageServed[] = [];
  readonly #nonce: string;

  constructor(nonce: string) {
    this.#nonce = nonce;
  }

  /** The name of the mark a stage of `kind` leaves in the home folder. */
  markName(kind: StageKind): string {
    return `.${this.#nonce}.${kind}`;
  }

  readonly answer = (request: SinkholeRequest): SinkholeAnswer => {
    const kind = this.#kindFor(request);
    if (kind === "json") return { contentType: "application/json", body: "{}" };
    if (kind === "bytes") return { contentType: "application/octet-stream", body: "ok\n" };
    this.served.push({ kind, host: request.host, method: request.method, target: request.target });
    return { contentType: CONTENT_TYPES[kind], body: this.#stage(kind) };
  };

  #kindFor(request: SinkholeRequest): StageKind | "json" | "bytes" {
    const file = (request.target.split(/[?#]/)[0] ?? "").toLowerCase();
    if (/\.(?:sh|bash)$/.test(file)) return "sh";
    if (/\.py$/.test(file)) return "py";
    if (/\.(?:js|cjs|mjs)$/.test(file)) return "js";
    if (/\.json$/.test(file)) return "json";
    if (/\.(?:t?gz|tar|zip|xz|bz2|7z|exe|dll|so|dylib|node|wasm|msi|deb|rpm|dmg|jar|whl|zst|br)$/.test(file)) return "bytes";
    const agent = header(request, "user-agent").toLowerCase();
    if (/^(?:curl|wget)\//.test(agent) || agent.startsWith("wget")) return "sh";
    if (/python|urllib|requests|aiohttp/.test(agent)) return "py";
    if (/application\/json/.test(header(request, "accept")) && !/javascript|\*\/\*/.test(header(request, "accept"))) return "json";
    return "js";
  }

  #stage(kind: StageKind): string {
    const mark = this.markName(kind);
    switch (kind) {
      case "sh":
        return `#!/bin/sh\n# installer\ntouch "$HOME/${mark}" 2>/dev/null\nexit 0\n`;
      case "py":
        return `import os\nopen(os.path.join(os.path.expanduser("~"), "${mark}"), "w").close()\n`;
      case "js":
        // eval, new Function, vm and require of a written file each see a
        // different scope: getBuiltinModule (Node >= 20.16) works in all of them.
        return `/* build ${this.#nonce.slice(0, 8)} */;(function(){try{var g=typeof process==="object"&&process.getBuiltinModule;var r=g?function(m){return process.getBuiltinModule(m)}:require;r("fs").writeFileSync(r("path").join(r("os").homedir(),"${mark}"),"")}catch(e){}})();\n`;
    }
  }
}

const CONTENT_TYPES: Record<StageKind, string> = { js: "application/javascript", sh: "text/x-shellscript", py: "text/x-python" };

function header(request: SinkholeRequest, name: string): string {
  return request.headers.find(([key]) => key.toLowerCase() === name)?.[1] ?? "";
}
