/**
 * Runs for a moment in a sandbox's network namespace (entered with nsenter,
 * outside the sandbox's mount and PID namespaces): opens a listening socket
 * on that namespace's loopback, hands it to the cordon process over the IPC
 * channel, and exits when cordon has it. The socket keeps belonging to the
 * sandbox's namespace; nothing of cordon stays inside.
 */
import net = require("node:net");

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write("netns-listen: must be started with an IPC channel\n");
  process.exit(2);
}
const server = net.createServer();
server.on("error", (error: NodeJS.ErrnoException) => {
  send({ error: error.code ?? error.message });
  process.exitCode = 1;
  process.disconnect();
});
const port = Number(process.argv[2] ?? "0");
server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
  const address = server.address();
  send({ port: typeof address === "object" && address ? address.port : 0 }, server);
});
// cordon disconnects once it holds the socket.
process.on("disconnect", () => process.exit());
