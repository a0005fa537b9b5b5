import { ConfigError } from "../../errors.js";
import { normalizeHostName, normalizeIp } from "../../policy/net-grant.js";
import { isEnvName } from "../../policy/permissions.js";

/**
 * A secret the sandbox may use but never hold: where its value comes from,
 * and the only hosts it is sent to.
 */
export interface SecretGrant {
  name: string;
  source: { kind: "env"; variable: string } | { kind: "file"; path: string } | { kind: "value"; value: string };
  hosts: readonly string[];
}

const FORMS =
  "Forms: --secret=NAME@host[,host...] takes the value from your environment variable NAME; " +
  "--secret=NAME=@/path/to/file@host[,host...] reads it from a file.";

/** Parses one `--secret` flag value. */
export function parseSecretFlag(entry: string): SecretGrant {
  const fail = (rule: string): never => {
    throw new ConfigError(`--secret: "${entry}" ${rule}.`, { input: "--secret", hint: FORMS });
  };
  const fileForm = /^([^=@]+)=@(.+)@([^@]+)$/.exec(entry);
  const envForm = /^([^=@]+)@([^@]+)$/.exec(entry);
  const match = fileForm ?? envForm;
  if (!match) return fail("is not NAME@hosts or NAME=@file@hosts");
  const name = match[1]!;
  if (!isEnvName(name)) fail("has a name that is not a variable name");
  const hosts = parseSecretHosts(match[fileForm ? 3 : 2]!, fail);
  return fileForm
    ? { name, source: { kind: "file", path: fileForm[2]! }, hosts }
    : { name, source: { kind: "env", variable: name }, hosts };
}

/** The SDK's shape: `{ NAME: { value, hosts } }`. */
export function secretsFromRecord(record: Readonly<Record<string, { value: string; hosts: readonly string[] }>>): SecretGrant[] {
  return Object.entries(record).map(([name, spec]) => {
    const fail = (rule: string): never => {
      throw new ConfigError(`secrets.${name}: ${rule}.`, { input: `secrets.${name}`, hint: "Each secret is { value: string, hosts: [\"api.example.com\"] }." });
    };
    if (!isEnvName(name)) fail("the name is not a variable name");
    if (typeof spec?.value !== "string" || spec.value === "") fail("the value is missing or empty");
    if (!Array.isArray(spec.hosts) || spec.hosts.length === 0) fail("hosts must list at least one host");
    return { name, source: { kind: "value", value: spec.value }, hosts: parseSecretHosts(spec.hosts.join(","), fail) };
  });
}

function parseSecretHosts(list: string, fail: (rule: string) => never): string[] {
  return list.split(",").map((raw) => {
    const entry = raw.trim();
    if (entry === "") fail("has an empty host");
    if (entry.includes("*")) fail("uses a wildcard; a secret is bound to exact hosts");
    const bare = entry.startsWith("[") && entry.endsWith("]") ? entry.slice(1, -1) : entry;
    const host = normalizeIp(bare)?.address ?? normalizeHostName(bare);
    if (!host) return fail(`has "${entry}", which is not a host name or address`);
    return host;
  });
}
