export interface Timing {
  iterations: number;
  elapsedNs: number;
}

export interface LoopBounds {
  warmupMs: number;
  minMs: number;
  maxIterations: number;
}

/**
 * Runs `fn` for `warmupMs` untimed (so the JIT has optimised it), then at least `minMs` timed, stopping
 * early only at `maxIterations`. `fn` returns a number that is summed and checked, so the work it does
 * cannot be optimised away.
 */
export function timeLoop(fn: () => number, bounds: LoopBounds): Timing {
  let sink = 0;
  const warmupEnd = process.hrtime.bigint() + BigInt(bounds.warmupMs) * 1_000_000n;
  for (let i = 0; i < bounds.maxIterations && process.hrtime.bigint() < warmupEnd; i++) sink += fn();
  const minNs = BigInt(bounds.minMs) * 1_000_000n;
  const start = process.hrtime.bigint();
  let iterations = 0;
  let elapsed = 0n;
  while (iterations < bounds.maxIterations && elapsed < minNs) {
    sink += fn();
    iterations++;
    elapsed = process.hrtime.bigint() - start;
  }
  if (!(sink > 0)) throw new Error('timed function returned nothing: was the work skipped?');
  return { iterations, elapsedNs: Number(elapsed) };
}
