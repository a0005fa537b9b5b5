import net from "node:net";
import type { NetnsBridge } from "./netns-bridge.js";

/**
 * One exposed port: a listener on the host's 127.0.0.1 (a free port, never
 * a public interface) whose every connection is joined to a fresh
 * connection to the port on the sandbox's own loopback.
 */
export class HttpExposure {
  readonly url: string;
  readonly #server: net.Server;
  readonly #live: Set<net.Socket>;

  private constructor(server: net.Server, live: Set<net.Socket>) {
    this.#server = server;
    this.#live = live;
    this.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  static async open(bridge: NetnsBridge, port: number): Promise<HttpExposure> {
    const live = new Set<net.Socket>();
    const track = (socket: net.Socket): void => {
      live.add(socket);
      socket.on("close", () => live.delete(socket));
    };
    const server = net.createServer({ allowHalfOpen: true }, (client) => {
      track(client);
      client.on("error", () => client.destroy());
      client.pause();
      bridge.connect(port).then(
        (upstream) => {
          track(upstream);
          upstream.on("error", () => upstream.destroy());
          client.on("close", () => upstream.destroy());
          upstream.on("close", () => client.destroy());
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
          upstream.resume();
        },
        () => client.destroy(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
    });
    server.unref();
    return new HttpExposure(server, live);
  }

  async close(): Promise<void> {
    for (const socket of this.#live) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
