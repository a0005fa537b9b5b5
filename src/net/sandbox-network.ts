import type { NetGrant } from "../policy/net-grant.js";
import type { Destination } from "./destination.js";
import { BypassCounter } from "./bypass-counter.js";
import { EgressProxy, SANDBOX_PROXY_PORT } from "./egress-proxy.js";
import type { PromptAnswer } from "./egress-gate.js";
import type { EgressEvent } from "./events.js";
import { nodeProxyPreload, proxyEnvironment } from "./proxy-env.js";
import type { AuthorizedTarget, TunnelHandler } from "./tunnel.js";

/** How the network of one sandbox is set up; every field but grants is optional. */
export interface SandboxNetworkOptions {
  grants: readonly NetGrant[];
  /** Pinned names, as curl's --resolve (host → address). */
  resolve?: ReadonlyMap<string, string>;
  onEvent?: (event: EgressEvent) => void;
  /** `--prompt`: asked when no grant matches. */
  decide?: (destination: Destination) => Promise<PromptAnswer>;
  /** The TLS interception slot (secrets). */
  tunnelFor?: (target: AuthorizedTarget) => TunnelHandler | undefined;
  /** Variables the sandbox already sets (NODE_OPTIONS is merged, not replaced). */
  sandboxEnv?: ReadonlyMap<string, string>;
}

/**
 * A sandbox's only door out: an egress proxy on the host, listening on the
 * sandbox's own loopback, plus the variables and read-only files that point
 * the sandbox's clients at it. The engine mounts `mounts`, sets `env`,
 * calls `attach` while the sandbox is held before its command starts, and
 * `close` when it ends.
 */
export class SandboxNetwork {
  readonly env: Map<string, string>;
  /** Host files the sandbox needs read-only at the same path (the Node preload and undici). */
  readonly readOnlyPaths: string[];
  /** Where the proxy listens inside the sandbox. */
  readonly proxyAddress = `127.0.0.1:${SANDBOX_PROXY_PORT}`;
  readonly #proxy: EgressProxy;
  readonly #onEvent: ((event: EgressEvent) => void) | undefined;
  #bypass: BypassCounter | undefined;

  constructor(options: SandboxNetworkOptions) {
    this.#onEvent = options.onEvent;
    this.#proxy = new EgressProxy({
      grants: options.grants,
      resolve: options.resolve,
      onEvent: options.onEvent,
      decide: options.decide,
      tunnelFor: options.tunnelFor,
    });
    const preload = nodeProxyPreload();
    this.env = proxyEnvironment(SANDBOX_PROXY_PORT, { nodePreload: preload.preload });
    const userNodeOptions = options.sandboxEnv?.get("NODE_OPTIONS");
    if (userNodeOptions) this.env.set("NODE_OPTIONS", `${this.env.get("NODE_OPTIONS") ?? ""} ${userNodeOptions}`.trim());
    this.readOnlyPaths = preload.readOnlyPaths;
  }

  async attach(hostPid: number): Promise<{ port: number }> {
    const attached = await this.#proxy.attachToNetns(hostPid, { port: SANDBOX_PROXY_PORT });
    this.#bypass = BypassCounter.open(hostPid);
    return attached;
  }

  /** Closes the proxy, and reports direct attempts around it, if there were any. */
  close(): Promise<void> {
    const attempts = this.#bypass?.finish() ?? 0;
    this.#bypass = undefined;
    if (attempts > 0) this.#onEvent?.({ type: "bypassed", attempts });
    return this.#proxy.close();
  }
}
