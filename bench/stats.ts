export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Times two operations alternately (A, B, A, B, ...) so that machine noise
 * lands on both sides alike; returns the samples in milliseconds.
 */
export async function timeInterleaved(
  rounds: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  warmup = 3,
): Promise<{ a: number[]; b: number[] }> {
  for (let i = 0; i < warmup; i += 1) {
    await a();
    await b();
  }
  const samples = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < rounds; i += 1) {
    let start = performance.now();
    await a();
    samples.a.push(performance.now() - start);
    start = performance.now();
    await b();
    samples.b.push(performance.now() - start);
  }
  return samples;
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
