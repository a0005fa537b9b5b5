import type { Severity } from "../types.js";

/** The behaviour rules, described for SARIF's driver (the worst each can weigh alone). */
export const BEHAVIOUR_RULES: readonly { id: string; summary: string; severity: Severity }[] = [
  { id: "behaviour/credential-theft", summary: "a planted secret was sent to a host that is not its own service", severity: "critical" },
  { id: "behaviour/credential-use", summary: "a planted secret was used at its own service (publish, whoami)", severity: "high" },
  { id: "behaviour/second-stage", summary: "code downloaded during the observation ran", severity: "critical" },
  { id: "behaviour/reverse-shell", summary: "a command sent into a raw connection ran and answered", severity: "critical" },
  { id: "behaviour/raw-channel", summary: "a connection that speaks neither HTTP nor TLS", severity: "medium" },
  { id: "behaviour/persistence", summary: "files that run code later were planted", severity: "high" },
  { id: "behaviour/destructive", summary: "files of the home folder were deleted", severity: "critical" },
  { id: "behaviour/home-tampering", summary: "credential, browser or wallet files were changed", severity: "medium" },
  { id: "behaviour/background-process", summary: "processes were left running after install and load", severity: "medium" },
  { id: "behaviour/direct-network", summary: "attempts to reach the network around the proxy", severity: "medium" },
  { id: "behaviour/files-written", summary: "new files in the home folder", severity: "low" },
  { id: "behaviour/network", summary: "hosts contacted during the observation", severity: "low" },
  { id: "behaviour/not-observed", summary: "what the observation could not run or see", severity: "info" },
];
