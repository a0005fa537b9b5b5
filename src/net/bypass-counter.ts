import fs from "node:fs";

/**
 * Counts a sandbox's attempts to reach the network directly, around the
 * proxy: a client that ignores HTTP_PROXY connects (TCP) or sends (UDP, DNS)
 * to an address with no route out of the sandbox's namespace, and the kernel
 * counts each in that namespace's OutNoRoutes (IPv4) and Ip6OutNoRoutes.
 * The files are opened while the sandbox runs; an open descriptor keeps
 * reading that namespace's counters after the sandbox has exited.
 */
export class BypassCounter {
  readonly #ipv4: number;
  readonly #ipv6: number;
  readonly #baseline: number;

  private constructor(ipv4: number, ipv6: number) {
    this.#ipv4 = ipv4;
    this.#ipv6 = ipv6;
    this.#baseline = this.#total();
  }

  /** Undefined when the process is already gone or procfs is not readable. */
  static open(hostPid: number): BypassCounter | undefined {
    try {
      return new BypassCounter(fs.openSync(`/proc/${hostPid}/net/snmp`, "r"), fs.openSync(`/proc/${hostPid}/net/snmp6`, "r"));
    } catch {
      return undefined;
    }
  }

  /** Attempts since the counter was opened; closes it. */
  finish(): number {
    try {
      return Math.max(0, this.#total() - this.#baseline);
    } catch {
      return 0;
    } finally {
      fs.closeSync(this.#ipv4);
      fs.closeSync(this.#ipv6);
    }
  }

  #total(): number {
    const ipv4 = readAll(this.#ipv4).split("\n").filter((line) => line.startsWith("Ip:"));
    const names = (ipv4[0] ?? "").split(/\s+/);
    const values = (ipv4[1] ?? "").split(/\s+/);
    const v4 = Number(values[names.indexOf("OutNoRoutes")] ?? 0);
    const v6 = Number(/^Ip6OutNoRoutes\s+(\d+)/m.exec(readAll(this.#ipv6))?.[1] ?? 0);
    return (Number.isFinite(v4) ? v4 : 0) + (Number.isFinite(v6) ? v6 : 0);
  }
}

function readAll(fd: number): string {
  const buffer = Buffer.alloc(32 * 1024);
  return buffer.subarray(0, fs.readSync(fd, buffer, 0, buffer.length, 0)).toString();
}
