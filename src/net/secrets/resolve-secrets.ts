import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { ConfigError } from "../../errors.js";
import type { NetGrant } from "../../policy/net-grant.js";
import { toDestination } from "../destination.js";
import { hostGranted } from "../grant-match.js";
import type { SecretGrant } from "./secret-grant.js";

/** A secret ready for one sandbox: its real value stays in cordon; the sandbox gets the placeholder. */
export interface ResolvedSecret {
  readonly name: string;
  readonly value: string;
  /** `CORDON_SECRET_<32 hex>`: unique per secret and per sandbox, worthless anywhere else. */
  readonly placeholder: string;
  readonly hosts: readonly string[];
}

const MAX_SECRET_BYTES = 64 * 1024;

/**
 * Reads each secret's value (host variable or file), checks it, and checks
 * that every host it is bound to is also granted network access: all before
 * anything runs. Error messages name the secret, never its value.
 */
export function resolveSecrets(grants: readonly SecretGrant[], hostEnv: NodeJS.ProcessEnv, netGrants: readonly NetGrant[]): ResolvedSecret[] {
  const seen = new Set<string>();
  return grants.map((grant) => {
    if (seen.has(grant.name)) throw new ConfigError(`--secret: ${grant.name} is given twice.`, { input: "--secret", hint: "Give each secret once, with all its hosts: --secret=NAME@host1,host2." });
    seen.add(grant.name);
    const value = readValue(grant, hostEnv);
    if (value === "") {
      throw new ConfigError(`--secret: ${grant.name} is empty.`, { input: "--secret", hint: "A secret needs a value; check the variable or file it comes from." });
    }
    if (value.includes("\n") || value.includes("\r") || value.includes("\0")) {
      throw new ConfigError(`--secret: ${grant.name} contains a line break or NUL byte, which cannot travel in an HTTP header.`, {
        input: "--secret", hint: "Strip the trailing newline from the file or variable.",
      });
    }
    // HTTP carries header and URL bytes as latin1 while bodies are UTF-8: a
    // value outside printable ASCII has two spellings on the wire, and the
    // one not masked would come back into the sandbox. Tokens and keys are ASCII.
    if (!/^[\x20-\x7e]+$/.test(value)) {
      throw new ConfigError(`--secret: ${grant.name} holds characters outside printable ASCII, which cordon cannot mask reliably in every part of an HTTP exchange.`, {
        input: "--secret", hint: "Secrets are API keys and tokens: check that the variable or file holds only the token.",
      });
    }
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw new ConfigError(`--secret: ${grant.name} is over 64 KiB.`, { input: "--secret" });
    for (const host of grant.hosts) {
      // Any grant that covers the host will do, on whatever port: the secret
      // is intercepted only on connections the gate allowed, port included.
      const destination = toDestination(host, 443);
      if (!destination || !hostGranted(netGrants, destination)) {
        throw new ConfigError(`--secret: ${grant.name} is bound to ${host}, which is not granted network access.`, {
          input: "--secret",
          hint: `A secret only travels to hosts the sandbox may reach: add --allow-net=${host}.`,
        });
      }
    }
    return { name: grant.name, value, placeholder: `CORDON_SECRET_${randomBytes(16).toString("hex")}`, hosts: grant.hosts };
  });
}

function readValue(grant: SecretGrant, hostEnv: NodeJS.ProcessEnv): string {
  switch (grant.source.kind) {
    case "value":
      return grant.source.value;
    case "env": {
      const value = hostEnv[grant.source.variable];
      if (value === undefined) {
        throw new ConfigError(`--secret: ${grant.name} is not set in your environment.`, {
          input: "--secret",
          hint: `Export it first (export ${grant.name}=...), or read it from a file: --secret=${grant.name}=@/path/to/file@${grant.hosts.join(",")}.`,
        });
      }
      return value;
    }
    case "file": {
      try {
        // One trailing newline is what editors and `echo` leave; it is not part of the secret.
        return fs.readFileSync(grant.source.path, "utf8").replace(/\r?\n$/, "");
      } catch (error) {
        throw new ConfigError(`--secret: cannot read ${grant.name} from ${grant.source.path} (${(error as NodeJS.ErrnoException).code ?? "error"}).`, {
          input: "--secret", hint: "Check the path and its permissions.",
        });
      }
    }
  }
}
