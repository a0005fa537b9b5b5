import type { EnvStore } from "./backend.js";
import { parseEnvRecord } from "./options.js";

/**
 * `sandbox.env`: the variables new processes start with. Changes apply to
 * processes started afterwards (as a VM's profile would), never to running
 * ones. They are kept by whoever owns the sandbox, so every client of a
 * service's sandbox sees the same ones.
 */
export class SandboxEnv {
  readonly #store: EnvStore;

  /** @internal */
  constructor(store: EnvStore) {
    this.#store = store;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#store.get(String(key));
  }

  async set(key: string, value: string): Promise<void> {
    parseEnvRecord({ [key]: value }, "env.set");
    await this.#store.set(key, value);
  }

  async delete(key: string): Promise<void> {
    await this.#store.delete(String(key));
  }

  async toObject(): Promise<Record<string, string>> {
    return this.#store.toObject();
  }
}
