import type net from "node:net";
import path from "node:path";
import { BackendUnavailableError, ConfigError, CordonError, SandboxStartError } from "../../errors.js";
import {
  ConnectionClosedError, InvalidMemoryError, InvalidTimeoutError, RpcError, SandboxClosedError, SandboxNotFoundError, SandboxTimeoutError,
} from "../errors.js";

/**
 * The sandbox service's protocol, version 1. JSON, one message a line, over
 * a byte stream: a Unix socket only the user can open today; the same lines
 * over TLS with a bearer token would serve other machines (docs/sdk.md).
 *
 * Every connection starts with a hello line naming what it is:
 *   {"v":1,"hello":"control","token":null}   requests and answers for one Sandbox object
 *   {"v":1,"hello":"stream","stream":"<t>"}  the raw bytes of one process stream
 * A control connection then carries requests {id, op, ...} answered by
 * {id, ok} or {id, error}, and events {event: "exit" | "ended", ...}. A
 * stream token is handed out by a spawn answer and used once.
 */
export const PROTOCOL_VERSION = 1;

/** The service's folder in a data folder: private (0700), holding `sock` (0600), `daemon.lock` and `log`. */
export function serviceDir(dataDir: string): string {
  return path.join(dataDir, "service");
}

/** A request line bigger than this ends the connection (fetch bodies travel in base64 inside one). */
export const MAX_LINE_CHARS = 96 * 1024 ** 2;

export type StreamName = "stdin" | "stdout" | "stderr" | "requests" | "answers";

/** What create and connect answer: enough for a Sandbox object. */
export interface SandboxInfo {
  id: string;
  labels: Record<string, string>;
  deadline: string | null;
  url: string | null;
  /** Only meaningful on the same machine (tests, benchmarks). */
  stateDir: string;
  hostPid: number;
}

/** `@deno/sandbox`'s SandboxMetadata. */
export interface SandboxMetadataWire {
  id: string;
  createdAt: string;
  stoppedAt: null;
  region: string;
  status: "running";
  labels: Record<string, string>;
}

export interface WireError {
  name: string;
  message: string;
  code?: string;
  hint?: string;
  input?: string;
}

const ERROR_CLASSES: Record<string, new (message: string, options?: { hint?: string; input?: string }) => Error> = {
  ConfigError, InvalidTimeoutError, InvalidMemoryError, SandboxClosedError, SandboxTimeoutError, SandboxNotFoundError,
  BackendUnavailableError, SandboxStartError, ConnectionClosedError,
};

export function errorToWire(error: unknown): WireError {
  if (error instanceof CordonError) return { name: error.constructor.name, message: error.message, code: error.code, hint: error.hint, input: error.input };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** The same class on this side (a ConfigError stays a ConfigError); anything else is Deno's RpcError. */
export function errorFromWire(wire: WireError | undefined): Error {
  const make = wire && Object.hasOwn(ERROR_CLASSES, wire.name) ? ERROR_CLASSES[wire.name]! : undefined;
  const message = typeof wire?.message === "string" ? wire.message : "The sandbox service failed.";
  const options = { hint: typeof wire?.hint === "string" ? wire.hint : undefined, input: typeof wire?.input === "string" ? wire.input : undefined };
  return make ? new make(message, options) : new RpcError(message, options);
}

/**
 * Reads JSON lines from a socket. Lines are capped (a peer cannot make this
 * process buffer without bound); a line that is not JSON ends the
 * connection, as does one over the cap.
 */
export function readLines(socket: net.Socket, onMessage: (message: Record<string, unknown>) => void): void {
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        socket.destroy();
        return;
      }
      if (typeof message !== "object" || message === null || Array.isArray(message)) {
        socket.destroy();
        return;
      }
      onMessage(message as Record<string, unknown>);
      if (socket.destroyed) return;
    }
    if (buffered.length > MAX_LINE_CHARS) socket.destroy();
  });
  // readHello() paused it: a listener alone does not resume a paused stream.
  socket.resume();
}

/**
 * Reads a connection's first line (its hello) as bytes, then puts back
 * whatever followed it: a stream connection carries raw bytes after it.
 */
export function readHello(socket: net.Socket, maxChars = 4096): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(10);
      if (newline < 0) {
        if (buffered.length > maxChars) fail(new Error("hello line too long"));
        return;
      }
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.pause();
      const rest = buffered.subarray(newline + 1);
      if (rest.length > 0) socket.unshift(rest);
      try {
        const hello = JSON.parse(buffered.subarray(0, newline).toString("utf8")) as unknown;
        if (typeof hello !== "object" || hello === null || Array.isArray(hello)) throw new Error("hello is not an object");
        resolve(hello as Record<string, unknown>);
      } catch (error) {
        reject(error);
      }
    };
    const onClose = (): void => fail(new Error("closed before its hello"));
    const fail = (error: Error): void => {
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.destroy();
      reject(error);
    };
    socket.on("data", onData);
    socket.on("close", onClose);
  });
}

export function writeLine(socket: net.Socket, message: object): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
}
