/**
 * Bytes one proxy may hold in whole request bodies at once, shared by all
 * its intercepted tunnels. A body that does not fit is streamed instead.
 */
export class BodyBudget {
  #left: number;

  constructor(bytes: number) {
    this.#left = bytes;
  }

  /** Takes `bytes` from the budget; returns how to give them back, or undefined when they are not there. */
  reserve(bytes: number): (() => void) | undefined {
    if (bytes > this.#left) return undefined;
    this.#left -= bytes;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#left += bytes;
    };
  }
}
