import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";

/** The proxy's address inside the sandbox: the sandbox's own loopback. */
export const PROXY_HOST = "127.0.0.1";

/**
 * Loopback inside the sandbox is the sandbox's own (a separate network
 * namespace), so going direct there is harmless and expected; everything
 * else goes through cordon.
 */
export const NO_PROXY = "localhost,127.0.0.1,::1";

export interface ProxyEnvironmentOptions {
  /** Path, as seen inside the sandbox, of the Node < 24 preload (see nodeProxyPreload()). */
  nodePreload?: string;
}

/**
 * The variables that point clients at the proxy: the conventional
 * upper- and lower-case forms (curl reads only lower-case http_proxy),
 * ALL_PROXY as socks5h (the proxy resolves names, never the client), npm's
 * own settings, and Node's switches.
 */
export function proxyEnvironment(port: number, options: ProxyEnvironmentOptions = {}): Map<string, string> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`proxyEnvironment: ${port} is not a port`);
  const http = `http://${PROXY_HOST}:${port}`;
  const socks = `socks5h://${PROXY_HOST}:${port}`;
  const env = new Map<string, string>();
  for (const [name, value] of [["HTTP_PROXY", http], ["HTTPS_PROXY", http], ["ALL_PROXY", socks], ["NO_PROXY", NO_PROXY]] as const) {
    env.set(name, value);
    env.set(name.toLowerCase(), value);
  }
  env.set("npm_config_proxy", http);
  env.set("npm_config_https_proxy", http);
  env.set("npm_config_noproxy", NO_PROXY);
  // Node >= 24: fetch and http/https honour the variables above.
  env.set("NODE_USE_ENV_PROXY", "1");
  if (options.nodePreload !== undefined) env.set("NODE_OPTIONS", `--require ${quoteForNodeOptions(options.nodePreload)}`);
  return env;
}

/**
 * The preload that makes Node < 24 use the proxy, and the host paths it
 * needs: both must be bind-mounted read-only at the same path inside the
 * sandbox (the preload requires the `undici` package next to cordon).
 */
export function nodeProxyPreload(): { preload: string; readOnlyPaths: string[] } {
  const preload = fileURLToPath(new URL("./inside/node20-proxy-preload.cjs", import.meta.url));
  const undiciEntry = createRequire(preload).resolve("undici");
  return { preload, readOnlyPaths: [preload, packageRootOf(undiciEntry)] };
}

function packageRootOf(entry: string): string {
  const marker = `${path.sep}node_modules${path.sep}undici${path.sep}`;
  const at = entry.lastIndexOf(marker);
  return at < 0 ? path.dirname(entry) : entry.slice(0, at + marker.length - 1);
}

/** NODE_OPTIONS splits on spaces and reads double quotes with backslash escapes. */
function quoteForNodeOptions(value: string): string {
  if (/["\\\n]/.test(value)) throw new ConfigError(`The Node preload path ${JSON.stringify(value)} cannot be written into NODE_OPTIONS.`, { hint: "Install cordon under a path without quotes or backslashes." });
  return /\s/.test(value) ? `"${value}"` : value;
}
