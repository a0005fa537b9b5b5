import type { Duplex } from "node:stream";

/**
 * Every socket of one kind (clients, or upstream connections) a proxy has
 * open, so that closing the proxy can end each one. After close(), a socket
 * that is still being opened is destroyed the moment it is added: a lookup
 * or a connect that finishes late must not leave a descriptor behind.
 */
export class OpenSockets {
  readonly #sockets = new Set<Duplex>();
  #closed = false;

  get size(): number {
    return this.#sockets.size;
  }

  add(socket: Duplex): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
  }

  /** Destroys every socket now, and every socket added from now on. */
  destroyAll(): void {
    this.#closed = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }
}
