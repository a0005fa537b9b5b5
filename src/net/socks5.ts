import type { Socket } from "node:net";
import { toDestination, type Destination } from "./destination.js";

/**
 * The SOCKS5 handshake (RFC 1928), server side, no authentication, CONNECT
 * only. Every length is checked before it is used and the whole handshake is
 * capped in bytes and time; a client that sends more, less or anything else
 * is refused. BIND and UDP ASSOCIATE are refused: UDP through the proxy would
 * be a way to reach a DNS resolver.
 */
export type Socks5Request =
  | { ok: true; destination: Destination; rawHost: string }
  | { ok: false; reply: Socks5ReplyCode | undefined; reason: string; rawHost: string | undefined; port: number };

export const SOCKS5 = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;
export type Socks5ReplyCode = (typeof SOCKS5)[keyof typeof SOCKS5];

const VERSION = 0x05;
const NO_AUTH = 0x00;
const NO_ACCEPTABLE_METHOD = 0xff;
/** Greeting (2 + 255) plus the longest request (4 + 1 + 255 + 2). */
const MAX_HANDSHAKE_BYTES = 519;

/** The reply the server sends; the bound address is always 0.0.0.0:0 so no host address reaches the sandbox. */
export function socks5Reply(code: Socks5ReplyCode): Buffer {
  return Buffer.from([VERSION, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}

export function readSocks5Request(socket: Socket, timeoutMs: number): Promise<Socks5Request> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    let greeted = false;
    const finish = (result: Socks5Request, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.removeListener("data", onData);
      socket.removeListener("close", onClose);
      socket.pause();
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(result);
    };
    const fail = (reason: string, reply?: Socks5ReplyCode): void =>
      finish({ ok: false, reply, reason, rawHost: undefined, port: 0 });
    const onClose = (): void => fail("client closed during the SOCKS5 handshake");
    const timer = setTimeout(() => fail("SOCKS5 handshake timed out"), timeoutMs);

    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!greeted) {
        const greeting = parseGreeting(buffered);
        if (greeting === "incomplete") return checkSize();
        if (greeting === "invalid") return fail("not a SOCKS5 greeting");
        if (!greeting.methods.includes(NO_AUTH)) {
          socket.write(Buffer.from([VERSION, NO_ACCEPTABLE_METHOD]));
          return fail("client offers no SOCKS5 method without authentication");
        }
        socket.write(Buffer.from([VERSION, NO_AUTH]));
        greeted = true;
        buffered = buffered.subarray(greeting.length);
      }
      const request = parseRequest(buffered);
      if (request === "incomplete") return checkSize();
      finish(request.result, buffered.subarray(request.length));
    };
    const checkSize = (): void => {
      if (buffered.length > MAX_HANDSHAKE_BYTES) fail("SOCKS5 handshake too long", SOCKS5.generalFailure);
    };
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.resume();
  });
}

function parseGreeting(data: Buffer): { methods: number[]; length: number } | "incomplete" | "invalid" {
  if (data.length < 2) return "incomplete";
  if (data[0] !== VERSION) return "invalid";
  const count = data[1] ?? 0;
  if (count === 0) return "invalid";
  if (data.length < 2 + count) return "incomplete";
  return { methods: [...data.subarray(2, 2 + count)], length: 2 + count };
}

function parseRequest(data: Buffer): { result: Socks5Request; length: number } | "incomplete" {
  if (data.length < 5) return "incomplete";
  const [version, command, reserved, addressType] = data;
  let hostLength: number;
  let hostStart = 4;
  switch (addressType) {
    case 0x01:
      hostLength = 4;
      break;
    case 0x04:
      hostLength = 16;
      break;
    case 0x03:
      hostLength = data[4] ?? 0;
      hostStart = 5;
      break;
    default:
      return { result: { ok: false, reply: SOCKS5.addressTypeNotSupported, reason: "unknown SOCKS5 address type", rawHost: undefined, port: 0 }, length: data.length };
  }
  const length = hostStart + hostLength + 2;
  if (data.length < length) return "incomplete";
  const hostBytes = data.subarray(hostStart, hostStart + hostLength);
  const rawHost = addressType === 0x01 ? [...hostBytes].join(".")
    : addressType === 0x04 ? ipv6Text(hostBytes)
      : hostBytes.toString("latin1");
  const port = data.readUInt16BE(hostStart + hostLength);
  const refuse = (reply: Socks5ReplyCode, reason: string): { result: Socks5Request; length: number } =>
    ({ result: { ok: false, reply, reason, rawHost, port }, length });
  if (version !== VERSION || reserved !== 0x00) return refuse(SOCKS5.generalFailure, "malformed SOCKS5 request");
  if (command !== 0x01) {
    const name = command === 0x02 ? "BIND" : command === 0x03 ? "UDP ASSOCIATE" : `command ${command}`;
    return refuse(SOCKS5.commandNotSupported, `SOCKS5 ${name} is not supported (TCP CONNECT only)`);
  }
  const destination = toDestination(rawHost, port);
  if (!destination) return refuse(SOCKS5.addressTypeNotSupported, "not a valid host name or address");
  return { result: { ok: true, destination, rawHost }, length };
}

function ipv6Text(bytes: Buffer): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(bytes.readUInt16BE(i).toString(16));
  return words.join(":");
}
