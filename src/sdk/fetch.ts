import type net from "node:net";
import { Agent, Client, ProxyAgent, fetch as undiciFetch, type Dispatcher } from "undici";
import { SANDBOX_PROXY_PORT } from "../net/egress-proxy.js";
import { ConfigError } from "../errors.js";
import type { NetnsBridge } from "./netns-bridge.js";

type Connector = (options: unknown, callback: (error: Error | null, socket: net.Socket | null) => void) => void;

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * A request made from the sandbox's network. Loopback URLs reach the
 * sandbox's own services; every other URL goes through the sandbox's egress
 * proxy (the same one its processes use), so the sandbox's grants decide,
 * DNS-rebinding guard and audit included. Without grants there is no proxy
 * and no network, as for the processes.
 */
export async function fetchFromSandbox(bridge: NetnsBridge, hasNetwork: boolean, url: string | URL, init?: RequestInit): Promise<Response> {
  const target = new URL(url);
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new ConfigError(`fetch: ${target.protocol} URLs are not supported.`, { input: "url", hint: "Use an http: or https: URL." });
  }
  const connectTo = (port: number): Connector => (_options, callback) => {
    bridge.connect(port).then((socket) => callback(null, socket), (error: Error) => callback(error, null));
  };
  let dispatcher: Dispatcher;
  if (LOOPBACK_NAMES.has(target.hostname)) {
    const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
    dispatcher = new Agent({ connect: connectTo(port) as never });
  } else {
    if (!hasNetwork) {
      throw new ConfigError(`fetch: ${target.host} is not reachable: this sandbox has no network.`, {
        input: "allowNet",
        hint: `Create the sandbox with allowNet: ["${target.hostname}"].`,
      });
    }
    dispatcher = new ProxyAgent({
      uri: `http://127.0.0.1:${SANDBOX_PROXY_PORT}`,
      clientFactory: (origin: URL) => new Client(origin, { connect: connectTo(SANDBOX_PROXY_PORT) as never }),
    });
  }
  try {
    const response = await undiciFetch(target, { ...(init as object), dispatcher } as never);
    const body = await response.arrayBuffer();
    return new Response(body.byteLength === 0 && [101, 204, 205, 304].includes(response.status) ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: [...response.headers] as [string, string][],
    });
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}
