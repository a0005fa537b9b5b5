export { EgressProxy, DEFAULT_MAX_CONNECTIONS, SANDBOX_PROXY_PORT, type EgressProxyOptions } from "./egress-proxy.js";
export { BlockedDestinations, type EgressEvent, type EgressConnectionEvent, type EgressLimitEvent, type EgressProtocol } from "./events.js";
export { proxyEnvironment, nodeProxyPreload, NO_PROXY, PROXY_HOST, type ProxyEnvironmentOptions } from "./proxy-env.js";
export { destinationLabel, type Destination } from "./destination.js";
export type { LookupFunction, PromptAnswer, ResolvedAddress } from "./egress-gate.js";
export type { AuthorizedTarget, OpenUpstream, TransferCounts, TunnelHandler } from "./tunnel.js";
