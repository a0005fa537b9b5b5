import { parseEnvRecord } from "./options.js";

/**
 * `sandbox.env`: the variables new processes start with. Changes apply to
 * processes started afterwards (as a VM's profile would), never to running
 * ones.
 */
export class SandboxEnv {
  readonly #vars: Map<string, string>;

  /** @internal */
  constructor(initial: ReadonlyMap<string, string>) {
    this.#vars = new Map(initial);
  }

  async get(key: string): Promise<string | undefined> {
    return this.#vars.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    parseEnvRecord({ [key]: value }, "env.set");
    this.#vars.set(key, value);
  }

  async delete(key: string): Promise<void> {
    this.#vars.delete(key);
  }

  async toObject(): Promise<Record<string, string>> {
    return Object.fromEntries(this.#vars);
  }

  /** @internal The variables as they are now. */
  snapshot(): Map<string, string> {
    return new Map(this.#vars);
  }
}
