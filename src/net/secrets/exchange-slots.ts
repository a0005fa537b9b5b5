/**
 * Intercepted exchanges in progress at once, per proxy. Each moves data
 * through several buffers (two TLS connections, the parser, the swap), so
 * this many of them, not the number of connections, is what the proxy's
 * memory is proportional to. An exchange past the limit waits its turn with
 * its request unread; one whose client leaves while waiting gives up its
 * place.
 */
export class ExchangeSlots {
  readonly #waiting: Array<() => void> = [];
  #free: number;

  constructor(slots: number) {
    this.#free = slots;
  }

  /** Resolves with the slot's release when one is free; `cancelled` gives up the place in line. */
  acquire(cancelled: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        cancelled.removeEventListener("abort", cancel);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#free += 1;
          this.#waiting.shift()?.();
        });
      };
      const cancel = (): void => {
        const at = this.#waiting.indexOf(take);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(new Error("the client left while waiting"));
      };
      const take = (): void => {
        this.#free -= 1;
        grant();
      };
      if (this.#free > 0 && this.#waiting.length === 0) return take();
      cancelled.addEventListener("abort", cancel, { once: true });
      this.#waiting.push(take);
    });
  }
}
