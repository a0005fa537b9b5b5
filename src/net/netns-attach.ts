import { spawn } from "node:child_process";
import type { Server } from "node:net";
import { fileURLToPath } from "node:url";
import { BackendUnavailableError, SandboxStartError } from "../errors.js";
import { findOnHostPath } from "../host/tools.js";

const HELPER = fileURLToPath(new URL("./helpers/netns-listen.cjs", import.meta.url));
export const ATTACH_TIMEOUT_MS = 10_000;

/**
 * Enters the user namespace that owns a process's network namespace, then
 * that network namespace, then execs the rest of argv. Needed because
 * bubblewrap, unprivileged, nests a second user namespace (for --dev and
 * --disable-userns) before the sandbox waits on --block-fd: the sandbox's
 * own user namespace is then a child of the one owning its network, and
 * `nsenter --user --net` gets EPERM on the network (capabilities in a child
 * namespace give none in its parent). util-linux >= 2.40 can do this with
 * `nsenter --user-parent`; 2.38 cannot, and Node cannot call setns(2).
 * NS_GET_USERNS hands back the owning namespace; we own it (we created it
 * through bubblewrap), so entering needs no privilege.
 */
const ENTER_NETNS_OWNER_PY = [
  "import ctypes, fcntl, os, sys",
  "libc = ctypes.CDLL(None, use_errno=True)",
  "def setns(fd, kind):",
  "    if libc.setns(fd, kind) != 0:",
  "        err = ctypes.get_errno()",
  "        raise OSError(err, os.strerror(err))",
  "net = os.open('/proc/%d/ns/net' % int(sys.argv[1]), os.O_RDONLY | os.O_CLOEXEC)",
  "owner = fcntl.ioctl(net, 0xB701)  # NS_GET_USERNS",
  "setns(owner, 0x10000000)  # CLONE_NEWUSER",
  "setns(net, 0x40000000)  # CLONE_NEWNET",
  "os.close(owner)",
  "os.execv(sys.argv[2], sys.argv[2:])",
].join("\n");

/**
 * A listening socket on 127.0.0.1:`port` inside the network namespace of
 * `hostPid`, owned by this process.
 *
 * A short Node helper is started in that namespace (and only that one: not
 * the sandbox's mount or PID namespaces, so the sandbox never sees it); it
 * listens and passes the socket back over the IPC channel (SCM_RIGHTS), then
 * exits. The socket stays in the sandbox's namespace. As root, util-linux's
 * nsenter enters the network namespace directly; as an ordinary user, the
 * owning user namespace must be entered first (see ENTER_NETNS_OWNER_PY).
 * Call it while the sandbox is held on --block-fd: the helper is gone
 * before any sandboxed code runs.
 */
export async function listenInNetns(hostPid: number, port: number, timeoutMs = ATTACH_TIMEOUT_MS): Promise<Server> {
  if (!Number.isInteger(hostPid) || hostPid <= 0) throw new SandboxStartError(`Cannot attach the network proxy: ${hostPid} is not a process id.`);
  const { file, args } = netnsEntryCommand(hostPid, [process.execPath, HELPER, String(port)]);
  const child = spawn(file, args, {
    // An empty environment: nothing of cordon's (NODE_OPTIONS included) rides into the helper.
    stdio: ["ignore", "ignore", "pipe", "ipc"], env: {}, windowsHide: true,
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  try {
    return await new Promise<Server>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      child.once("error", (error) => reject(error));
      child.once("exit", (code, signal) => reject(new Error(`nsenter exited (${signal ?? code}): ${stderr.trim() || "no output"}`)));
      child.on("message", (message: { port?: number; error?: string }, handle: unknown) => {
        clearTimeout(timer);
        if (message.error || !handle) reject(new Error(`listening failed: ${message.error ?? "no socket received"}`));
        else resolve(handle as Server);
      });
    });
  } catch (error) {
    throw new SandboxStartError(`Could not open cordon's network proxy inside the sandbox (process ${hostPid}): ${(error as Error).message}`, {
      cause: error,
      hint: "The sandbox may have exited before its network was set up; run `cordon doctor` to check user namespaces.",
    });
  } finally {
    if (child.connected) child.disconnect();
    if (child.exitCode === null) setTimeout(() => child.kill("SIGKILL"), 1_000).unref();
  }
}

/**
 * The command that runs `argv` in the network namespace of `hostPid`, and in
 * nothing else of that sandbox: as root util-linux's nsenter; as an ordinary
 * user the owning user namespace first (see ENTER_NETNS_OWNER_PY).
 */
export function netnsEntryCommand(hostPid: number, argv: readonly string[]): { file: string; args: string[] } {
  return process.geteuid?.() === 0
    ? { file: findTool("nsenter", "util-linux"), args: ["--target", String(hostPid), "--net", "--", ...argv] }
    : { file: findTool("python3", "python3"), args: ["-I", "-S", "-c", ENTER_NETNS_OWNER_PY, String(hostPid), ...argv] };
}

function findTool(name: string, packageName: string): string {
  const found = findOnHostPath(name);
  if (found) return found;
  throw new BackendUnavailableError(`Network grants need ${name} on this machine to reach the sandbox's network, and it is missing.`, {
    hint: `Install ${packageName}: sudo apt-get install -y ${packageName}`,
  });
}
