import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

export interface OneAtATimeOptions {
  /** Requests allowed to wait behind the one being served; one more closes the connection. */
  maxWaiting: number;
  /** Serves one request; the next starts when this one's response has closed. */
  serve(req: IncomingMessage, res: ServerResponse): void;
  /** Told once, before a connection that queued too many requests is destroyed. */
  overflow(req: IncomingMessage): void;
}

interface Turns {
  busy: boolean;
  waiting: Array<[IncomingMessage, ServerResponse]>;
}

/**
 * Serves an HTTP server's requests one at a time per connection. Node's
 * server emits every pipelined request as soon as it has parsed it, while
 * the first is still being answered; served at once, 30,000 pipelined
 * requests would open 30,000 upstream connections and hold every answer in
 * memory until its turn. Here a request starts only when the previous
 * response is complete, and a connection with more than `maxWaiting`
 * requests queued is closed. A waiting request's body is not read: Node
 * stops reading the socket once its buffer is full, so a queued upload
 * costs a bounded buffer, not its size.
 */
export function serveOneAtATime(server: Server, options: OneAtATimeOptions): void {
  const turnsOf = new WeakMap<Duplex, Turns>();
  const start = (turns: Turns, req: IncomingMessage, res: ServerResponse): void => {
    turns.busy = true;
    res.once("close", () => {
      turns.busy = false;
      const next = turns.waiting.shift();
      if (next && !next[0].socket.destroyed) start(turns, ...next);
    });
    options.serve(req, res);
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    let turns = turnsOf.get(socket);
    if (!turns) {
      const created: Turns = { busy: false, waiting: [] };
      turnsOf.set(socket, created);
      socket.once("close", () => (created.waiting.length = 0));
      turns = created;
    }
    if (!turns.busy) return start(turns, req, res);
    if (turns.waiting.length >= options.maxWaiting) {
      turns.waiting.length = 0;
      options.overflow(req);
      socket.destroy();
      return;
    }
    turns.waiting.push([req, res]);
  });
}
