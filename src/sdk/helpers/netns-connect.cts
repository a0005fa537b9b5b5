/**
 * Runs in a sandbox's network namespace (entered with nsenter or setns,
 * outside the sandbox's mount and PID namespaces, so nothing inside sees or
 * touches it) for as long as cordon exposes a port of that sandbox. For each
 * request it connects to 127.0.0.1:PORT there and hands the connected socket
 * to cordon over the IPC channel; cordon copies bytes to and from the host.
 */
import net = require("node:net");

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write("netns-connect: must be started with an IPC channel\n");
  process.exit(2);
}
send({ ready: true });
process.on("message", (message: { id?: number; port?: number }) => {
  const { id, port } = message;
  if (typeof id !== "number" || typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) return;
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.once("connect", () => {
    socket.pause();
    send({ id }, socket);
  });
  socket.once("error", (error: NodeJS.ErrnoException) => send({ id, error: error.code ?? error.message }));
});
process.on("disconnect", () => process.exit());
