import type { Transform } from "node:stream";
import type { ResolvedSecret } from "./resolve-secrets.js";
import type { SecretPlace } from "./secret-events.js";
import { ReplacingStream, replaceInBuffer, type Replacement } from "./substitution.js";

/**
 * Both swaps of one intercepted tunnel. Out: each placeholder of a secret
 * bound to this host becomes its real value. Back: every real value cordon
 * holds (not only this host's) becomes its placeholder. Placeholders of
 * other secrets are left alone on the way out, and reported.
 */
export class SecretSwap {
  readonly #bound: readonly ResolvedSecret[];
  readonly #foreign: readonly ResolvedSecret[];
  /** Bound placeholders → values, then foreign placeholders → themselves (to count them). */
  readonly #out: Replacement[];
  readonly #back: Replacement[];
  readonly #onForeign: (secret: ResolvedSecret, where: SecretPlace) => void;
  readonly #injected = new Map<string, number>();

  constructor(bound: readonly ResolvedSecret[], all: readonly ResolvedSecret[], onForeign: (secret: ResolvedSecret, where: SecretPlace) => void) {
    this.#bound = bound;
    this.#foreign = all.filter((secret) => !bound.includes(secret));
    this.#out = [
      ...bound.map((s) => ({ from: Buffer.from(s.placeholder), to: Buffer.from(s.value) })),
      ...this.#foreign.map((s) => ({ from: Buffer.from(s.placeholder), to: Buffer.from(s.placeholder) })),
    ];
    this.#back = all.map((s) => ({ from: Buffer.from(s.value), to: Buffer.from(s.placeholder) }));
    this.#onForeign = onForeign;
  }

  /** A URL or header value on its way to the host. */
  injectText(text: string, where: "url" | "header"): string {
    return this.injectBuffer(Buffer.from(text), where).toString();
  }

  injectBuffer(data: Buffer, where: SecretPlace): Buffer {
    const { output, counts } = replaceInBuffer(data, this.#out);
    this.#note(counts, where);
    return output;
  }

  /** A streamed body on its way to the host. */
  injectStream(): Transform {
    const stream = new ReplacingStream(this.#out);
    stream.once("end", () => this.#note(stream.counts, "body"));
    return stream;
  }

  maskText(text: string): string {
    return replaceInBuffer(Buffer.from(text), this.#back).output.toString();
  }

  maskStream(): Transform {
    // The patterns here are the real values: never hold back by what matches.
    return new ReplacingStream(this.#back, { constantHoldBack: true });
  }

  /** Every secret whose placeholder `text` holds (bound or not). */
  placeholdersIn(text: string): ResolvedSecret[] {
    return [...this.#bound, ...this.#foreign].filter((secret) => text.includes(secret.placeholder));
  }

  /** Real values put on the wire since the last call, by secret name. */
  takeInjected(): Array<[string, number]> {
    const taken = [...this.#injected];
    this.#injected.clear();
    return taken;
  }

  #note(counts: readonly number[], where: SecretPlace): void {
    counts.forEach((count, i) => {
      if (count === 0) return;
      const bound = this.#bound[i];
      if (bound) this.#injected.set(bound.name, (this.#injected.get(bound.name) ?? 0) + count);
      else this.#onForeign(this.#foreign[i - this.#bound.length]!, where);
    });
  }
}
