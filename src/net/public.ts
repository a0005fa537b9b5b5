/** `import ... from "cordon/net"`: the egress proxy and the sandbox CA as building blocks. */
export { EgressProxy, SANDBOX_PROXY_PORT, BlockedDestinations, proxyEnvironment, type EgressEvent, type EgressConnectionEvent, type Destination } from "./index.js";
export { SandboxNetwork, type SandboxNetworkOptions } from "./sandbox-network.js";
export { SandboxCertificateAuthority } from "./tls/certificate-authority.js";
