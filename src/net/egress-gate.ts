import { lookup as dnsLookup } from "node:dns/promises";
import type { NetGrant } from "../policy/net-grant.js";
import { specialAddressKind } from "./address-guard.js";
import { destinationLabel, type Destination } from "./destination.js";
import { addressGranted, findGrant, grantHintFor } from "./grant-match.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a granted name on the host (default: the system resolver, getaddrinfo). */
export type LookupFunction = (host: string) => Promise<ResolvedAddress[]>;

/** An answer at the `--prompt`: this destination, never, or every destination from now on. */
export type PromptAnswer = "allow" | "deny" | "allow-all";

export type Authorization =
  | { outcome: "allowed"; destination: Destination; addresses: ResolvedAddress[]; grantHint: string }
  | { outcome: "blocked"; destination: Destination; reason: string; grantHint: string }
  /** Allowed by policy but it leads nowhere (the name does not resolve). */
  | { outcome: "unreachable"; destination: Destination; reason: string; grantHint: string };

export interface EgressGateOptions {
  grants: readonly NetGrant[];
  /** Names pinned to an address by the cordon user (curl's --resolve); they bypass DNS and the rebinding guard. */
  pins: ReadonlyMap<string, ResolvedAddress>;
  lookup: LookupFunction;
  decide: ((destination: Destination) => Promise<PromptAnswer>) | undefined;
}

export const systemLookup: LookupFunction = async (host) => {
  const answers = await dnsLookup(host, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

/**
 * Decides, for one proxy, whether a destination may be reached and at which
 * addresses. Names are resolved here, on the host, and only once a grant (or
 * the user at the prompt) allowed them: a name that is not granted never
 * reaches a resolver, so it cannot carry data out through DNS.
 */
export class EgressGate {
  readonly #options: EgressGateOptions;
  /** Answers given at the prompt, per `host:port`, so one question is asked once. */
  readonly #answers = new Map<string, Promise<PromptAnswer>>();
  #allowAll = false;

  constructor(options: EgressGateOptions) {
    this.#options = options;
  }

  async authorize(destination: Destination): Promise<Authorization> {
    const { grants } = this.#options;
    const granted = findGrant(grants, destination) !== undefined;
    const grantHint = grantHintFor(grants, destination);
    let prompted: PromptAnswer | undefined;
    if (!granted) {
      prompted = this.#allowAll ? "allow-all" : await this.#ask(destination);
      if (prompted === undefined) return { outcome: "blocked", destination, reason: "not granted", grantHint };
      if (prompted === "deny") return { outcome: "blocked", destination, reason: "not granted (denied at the prompt)", grantHint };
    }
    if (destination.kind === "ip") {
      const kind = specialAddressKind(destination.address, destination.family);
      // "Allow all" at the prompt means the internet, not the host's own
      // services or the metadata endpoint: those need their address granted
      // (or a "y" for that very address).
      if (prompted === "allow-all" && kind !== undefined) {
        return { outcome: "blocked", destination, reason: `${kind} address; allow-all does not cover it`, grantHint };
      }
      return { outcome: "allowed", destination, addresses: [{ address: destination.address, family: destination.family }], grantHint };
    }
    return this.#resolve(destination, grantHint);
  }

  async #resolve(destination: Destination & { kind: "name" }, grantHint: string): Promise<Authorization> {
    const pinned = this.#options.pins.get(destination.host);
    if (pinned) return { outcome: "allowed", destination, addresses: [pinned], grantHint };
    let answers: ResolvedAddress[];
    try {
      answers = await this.#options.lookup(destination.host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "lookup failed";
      return { outcome: "unreachable", destination, reason: `${destination.host} did not resolve (${code})`, grantHint };
    }
    const usable = answers.filter(
      (answer) => specialAddressKind(answer.address, answer.family) === undefined
        || addressGranted(this.#options.grants, answer.address, destination.port),
    );
    if (usable.length > 0) return { outcome: "allowed", destination, addresses: usable, grantHint };
    const refused = answers[0];
    if (!refused) return { outcome: "unreachable", destination, reason: `${destination.host} has no addresses`, grantHint };
    const kind = specialAddressKind(refused.address, refused.family) ?? "special";
    const addressDestination: Destination = { kind: "ip", ...refused, port: destination.port };
    return {
      outcome: "blocked",
      destination,
      reason: `${destination.host} resolves to the ${kind} address ${refused.address} (DNS-rebinding guard)`,
      grantHint: grantHintFor(this.#options.grants, addressDestination),
    };
  }

  #ask(destination: Destination): Promise<PromptAnswer> | undefined {
    const { decide } = this.#options;
    if (!decide) return undefined;
    const key = destinationLabel(destination);
    let answer = this.#answers.get(key);
    if (!answer) {
      answer = decide(destination).then(
        (value) => {
          if (value === "allow-all") this.#allowAll = true;
          return value;
        },
        (): PromptAnswer => "deny",
      );
      this.#answers.set(key, answer);
    }
    return answer;
  }
}
