import { ConfigError } from "../errors.js";

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a wall-clock duration: "250ms", "10s", "5m", "1h", or a number of
 * milliseconds. The result is a positive whole number of milliseconds.
 */
export function parseDuration(value: string | number, input: string): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value > 0) return Math.ceil(value);
    throw durationError(String(value), input);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
  if (!match) throw durationError(value, input);
  const amount = Number(match[1]);
  const unit = (match[2] ?? "s").toLowerCase();
  const ms = Math.ceil(amount * (DURATION_UNITS_MS[unit] ?? 1000));
  if (!(ms > 0)) throw durationError(value, input);
  return ms;
}

function durationError(value: string, input: string): ConfigError {
  return new ConfigError(`${input}: "${value}" is not a duration.`, {
    input,
    hint: `Use a positive number with a unit: 500ms, 10s, 5m or 1h (a bare number means seconds).`,
  });
}

/**
 * One meaning everywhere (CLI flags, the install policy, the SDK's options):
 * the single letters and the IEC units are binary, as cgroups, bubblewrap and
 * Docker read them (1M = 1G/1024 = 1 MiB); the SI units are decimal, as
 * Deno's SDK reads them (1 MB = 1000 kB = 10^6 bytes).
 */
const SIZE_UNITS: Record<string, number> = {
  "": 1, b: 1,
  k: 1024, kib: 1024, kb: 1000,
  m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3,
  t: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4,
};

/**
 * Parses a size in bytes: "512M", "1GiB", "64k", "500MB", or a number of
 * bytes (see SIZE_UNITS for what each unit means).
 */
export function parseSize(value: string | number, input: string): number {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value > 0) return value;
    throw sizeError(String(value), input);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const factor = match ? SIZE_UNITS[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || factor === undefined) throw sizeError(value, input);
  const bytes = Math.floor(Number(match[1]) * factor);
  if (!(bytes > 0) || !Number.isSafeInteger(bytes)) throw sizeError(value, input);
  return bytes;
}

function sizeError(value: string, input: string): ConfigError {
  return new ConfigError(`${input}: "${value}" is not a size.`, {
    input,
    hint: `Use a positive number of bytes with an optional unit: 64K, 512M, 1G, 1GiB.`,
  });
}

/** Parses a positive whole count such as a process limit. */
export function parseCount(value: string | number, input: string): number {
  const count = typeof value === "number" ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (Number.isSafeInteger(count) && count > 0) return count;
  throw new ConfigError(`${input}: "${value}" is not a positive whole number.`, {
    input,
    hint: `Give a number such as ${input}=256.`,
  });
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit += 1;
  }
  return `${value}${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
