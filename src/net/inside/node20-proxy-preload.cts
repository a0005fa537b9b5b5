/**
 * Loaded inside the sandbox with NODE_OPTIONS=--require, before the program.
 * Node before 24 ignores HTTP_PROXY/HTTPS_PROXY in fetch and in http/https;
 * without this, those requests would try to connect directly and fail
 * (closed, since the sandbox has no route out), which is safe but useless.
 *
 * Not a security boundary: the program can undo all of this, and then its
 * connections fail like any direct connection. The proxy enforces; this only
 * makes well-behaved programs work. Node 24 and later use NODE_USE_ENV_PROXY.
 */
import http = require("node:http");
import https = require("node:https");
import net = require("node:net");
import type { Duplex } from "node:stream";

type ConnectCallback = (error: Error | null, socket?: Duplex) => void;
type ConnectionOptions = { host?: string | null; hostname?: string | null; port?: number | string | null; socketPath?: string };

const env = process.env;
const proxyText = env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy;
const major = Number(process.versions.node.split(".")[0]);

if (proxyText && major < 24) {
  const proxy = new URL(proxyText);
  const proxyPort = Number(proxy.port || 80);
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? "").split(",").map((entry) => entry.trim().toLowerCase()).filter(Boolean);
  const direct = (host: string): boolean => {
    const bare = host.toLowerCase().replace(/^\[|\]$/g, "");
    return noProxy.some((entry) => entry === "*" || bare === entry || bare.endsWith(entry.startsWith(".") ? entry : `.${entry}`));
  };

  useProxyForFetch();
  patchAgent(http.Agent.prototype, (_options, socket) => socket);
  const originalHttps = https.Agent.prototype.createConnection as unknown as (this: http.Agent, options: object) => Duplex;
  patchAgent(https.Agent.prototype, function (this: http.Agent, options, socket) {
    // The original opens TLS over the socket it is given: certificate
    // checks, SNI and session reuse stay Node's own.
    return originalHttps.call(this, { ...options, socket });
  });

  /** Asks the proxy for a tunnel with CONNECT, using Node's own HTTP client. */
  function tunnel(host: string, port: number, callback: ConnectCallback): void {
    const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
    const request = http.request({
      method: "CONNECT",
      path: authority,
      headers: { host: authority },
      createConnection: () => net.connect(proxyPort, proxy.hostname.replace(/^\[|\]$/g, "")),
    });
    request.once("connect", (response, socket, head) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        callback(new Error(`cordon's proxy refused ${authority} (${response.statusCode ?? "no status"}): grant it with --allow-net`));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      callback(null, socket);
    });
    request.once("response", (response) => {
      response.resume();
      callback(new Error(`cordon's proxy refused ${authority} (${response.statusCode ?? "no status"})`));
    });
    request.once("error", (error) => callback(error));
    request.end();
  }

  function patchAgent(prototype: object, wrap: (this: http.Agent, options: ConnectionOptions, socket: Duplex) => Duplex): void {
    const holder = prototype as { createConnection: (this: http.Agent, ...args: unknown[]) => Duplex | undefined };
    const original = holder.createConnection;
    holder.createConnection = function (this: http.Agent, ...args: unknown[]): Duplex | undefined {
      const [options, callback] = args as [ConnectionOptions, ConnectCallback | undefined];
      const host = options?.host ?? options?.hostname ?? "localhost";
      if (typeof options !== "object" || options.socketPath || typeof callback !== "function" || direct(host)) {
        return original.apply(this, args);
      }
      tunnel(host, Number(options.port ?? 80), (error, socket) => {
        if (error || !socket) return callback(error ?? new Error("no tunnel"));
        try {
          callback(null, wrap.call(this, options, socket));
        } catch (wrapError) {
          callback(wrapError as Error);
        }
      });
      return undefined;
    };
  }
}

/**
 * Node's fetch reads its dispatcher from one global slot shared by every copy
 * of undici. Loading the undici package costs about 80 ms, so the slot gets a
 * getter that loads it on the first fetch only: programs that never fetch
 * start as fast as without the proxy.
 */
function useProxyForFetch(): void {
  const slot = Symbol.for("undici.globalDispatcher.1");
  let dispatcher: unknown;
  let loading = false;
  Object.defineProperty(globalThis, slot, {
    configurable: true,
    enumerable: false,
    get: () => {
      // undici reads this slot while it loads; anything but undefined keeps
      // it from installing its own default dispatcher over this getter.
      if (loading) return LOADING;
      if (dispatcher === undefined) {
        loading = true;
        try {
          dispatcher = createFetchDispatcher();
        } finally {
          loading = false;
        }
      }
      return dispatcher;
    },
    set: (value: unknown) => {
      dispatcher = value;
    },
  });
}

const LOADING = Object.freeze({ loading: true });

function createFetchDispatcher(): unknown {
  const emitWarning = process.emitWarning;
  try {
    const undici = require("undici") as typeof import("undici");
    // EnvHttpProxyAgent announces itself as experimental; the program did not ask for it.
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      if (!String(warning).includes("EnvHttpProxyAgent")) (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
    }) as typeof process.emitWarning;
    return new undici.EnvHttpProxyAgent();
  } catch (error) {
    process.emitWarning = emitWarning;
    process.emitWarning(`cordon: fetch() cannot use the proxy (${(error as Error).message})`);
    return undefined;
  } finally {
    process.emitWarning = emitWarning;
  }
}
