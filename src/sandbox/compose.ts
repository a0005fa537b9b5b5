import { ConfigError } from "../errors.js";
import { readHostFacts, type HostFacts } from "../engine/host-facts.js";
import { planSandbox, type Mount, type SandboxPlan } from "../engine/plan.js";
import { parsePermissions, type Permissions, type PermissionsInput } from "../policy/permissions.js";
import type { SandboxNetwork, SandboxNetworkOptions } from "../net/sandbox-network.js";
import type { SecretEvent } from "../net/secrets/intercept.js";
import type { SecretGrant } from "../net/secrets/secret-grant.js";
import type { SandboxSecrets } from "../net/secrets/sandbox-secrets.js";

/** Everything that decides a sandbox beyond its grants, given by a front door. */
export interface ComposeOptions {
  /** The host environment grants are taken from (default: process.env). */
  hostEnv?: NodeJS.ProcessEnv;
  /** The host folder relative grants are resolved against (default: process.cwd()). */
  hostCwd?: string;
  /** Added by a caller beside the grants (the SDK's control folder, volumes, root layers). */
  extraMounts?: readonly Mount[];
  extraEnv?: ReadonlyMap<string, string>;
  /** Whether cordon counts the output (then an output limit applies). */
  capturingOutput?: boolean;
  /**
   * Secrets the sandbox may use but never hold: inside, each variable holds
   * a placeholder; the proxy puts the real value into requests to the
   * secret's own hosts only (which must also be granted network access).
   */
  secrets?: readonly SecretGrant[];
  onSecretEvent?: (event: SecretEvent) => void;
  /** Network details beyond the grants: pinned names, events, the prompt, TLS interception. */
  network?: Omit<SandboxNetworkOptions, "grants" | "sandboxEnv"> & {
    /**
     * Attach the proxy even with no grants: nothing is allowed, but every
     * attempt is seen and reported (install scripts use this for the audit).
     */
    reportWithoutGrants?: boolean;
  };
}

/**
 * A sandbox decided but not started: its plan, and the live parts the plan
 * names (the egress proxy, the secrets' interceptor). `close()` releases
 * them when the sandbox is not started after all (`--explain`, a refusal).
 */
export interface ComposedSandbox {
  plan: SandboxPlan;
  host: HostFacts;
  permissions: Permissions;
  network: SandboxNetwork | undefined;
  close(): Promise<void>;
}

export function toPermissions(input: Permissions | PermissionsInput, hostCwd: string, homeDir: string): Permissions {
  if ("setEnv" in input && input.setEnv instanceof Map) return input as Permissions;
  return parsePermissions(input as PermissionsInput, { baseDir: hostCwd, homeDir });
}

/**
 * The one place a sandbox is put together: grants parsed once, secrets
 * resolved and checked (a missing value or an unreachable host is refused
 * here, before anything runs), the egress proxy created, and one plan made
 * of all of it. `cordon run --explain` prints exactly this plan; a run
 * launches exactly this plan.
 */
export async function composeSandbox(
  command: string,
  args: readonly string[],
  permissions: Permissions | PermissionsInput,
  options: ComposeOptions = {},
): Promise<ComposedSandbox> {
  const host = readHostFacts(options.hostEnv ?? process.env, options.hostCwd ?? process.cwd());
  const parsed = toPermissions(permissions, host.cwd, host.homeDir);
  if (command === "") throw new ConfigError("No command given to run.", { hint: "Usage: cordon run [grants] -- COMMAND [ARGS...]" });
  // The network and TLS layers are loaded only by sandboxes that use them.
  let secrets: SandboxSecrets | undefined;
  if (options.secrets && options.secrets.length > 0) {
    const { prepareSandboxSecrets } = await import("../net/secrets/sandbox-secrets.js");
    secrets = await prepareSandboxSecrets(options.secrets, host.env, parsed.net, options.onSecretEvent);
  }
  let network: SandboxNetwork | undefined;
  if (parsed.net.length > 0 || options.network?.reportWithoutGrants) {
    const { SandboxNetwork } = await import("../net/sandbox-network.js");
    const onEvent = options.network?.onEvent;
    network = new SandboxNetwork({
      ...options.network,
      grants: parsed.net,
      sandboxEnv: parsed.setEnv,
      tunnelFor: secrets?.tunnelFor ?? options.network?.tunnelFor,
      onEvent: (event) => {
        if (event.type === "allowed" || event.type === "blocked") secrets?.inspectDestination(event.host);
        onEvent?.(event);
      },
    });
  }
  const close = async (): Promise<void> => {
    await network?.close();
  };
  try {
    const plan = planSandbox({
      command,
      args,
      permissions: parsed,
      host,
      network: network && { proxy: network.proxyAddress, env: network.env, readOnlyPaths: network.readOnlyPaths },
      secrets,
      capturingOutput: options.capturingOutput,
      extraMounts: options.extraMounts,
      extraEnv: options.extraEnv,
    });
    return { plan, host, permissions: parsed, network, close };
  } catch (error) {
    await close();
    throw error;
  }
}
