import { describe, expect, it } from 'vitest';
import { ErrorCodes, OverseerError } from '../../errors/index.js';
import { Limiter } from './limiter.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued microtask (slot hand-over, awaits inside run) settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Jobs that record when they start and finish on a deferred the test controls. */
function jobs(n: number) {
  const started: number[] = [];
  let running = 0;
  let maxRunning = 0;
  const gates = Array.from({ length: n }, () => deferred<string>());
  const fns = gates.map((g, i) => async () => {
    started.push(i);
    running++;
    maxRunning = Math.max(maxRunning, running);
    try {
      return await g.promise;
    } finally {
      running--;
    }
  });
  return { started, gates, fns, maxRunning: () => maxRunning, running: () => running };
}

describe('Limiter', () => {
  it.each([
    { limit: 1, n: 4 },
    { limit: 2, n: 7 },
    { limit: 3, n: 3 },
    { limit: 5, n: 12 },
  ])('runs at most $limit of $n at once, the rest in FIFO order', async ({ limit, n }) => {
    const l = new Limiter(limit, n);
    const j = jobs(n);
    const results = j.fns.map((fn) => l.run(fn));
    await settle();
    expect(j.started).toEqual(Array.from({ length: Math.min(limit, n) }, (_, i) => i));
    expect(l.inFlight).toBe(Math.min(limit, n));
    expect(l.depth).toBe(Math.max(0, n - limit));
    // Finish jobs in start order, one at a time: each finish admits exactly the next waiter.
    for (let i = 0; i < n; i++) {
      j.gates[i]!.resolve(`r${i}`);
      await settle();
      expect(j.started).toEqual(Array.from({ length: Math.min(n, limit + i + 1) }, (_, k) => k));
      expect(j.running()).toBeLessThanOrEqual(limit);
    }
    await expect(Promise.all(results)).resolves.toEqual(Array.from({ length: n }, (_, i) => `r${i}`));
    expect(j.maxRunning()).toBe(Math.min(limit, n));
    expect(l.inFlight).toBe(0);
    expect(l.depth).toBe(0);
    expect(l.rejected).toBe(0);
  });

  it('admits waiters in arrival order even when running jobs finish out of order', async () => {
    const l = new Limiter(2, 10);
    const j = jobs(5);
    const results = j.fns.map((fn) => l.run(fn));
    await settle();
    expect(j.started).toEqual([0, 1]);
    j.gates[1]!.resolve('b');
    await settle();
    expect(j.started).toEqual([0, 1, 2]);
    j.gates[2]!.resolve('c');
    await settle();
    expect(j.started).toEqual([0, 1, 2, 3]);
    j.gates[0]!.resolve('a');
    await settle();
    expect(j.started).toEqual([0, 1, 2, 3, 4]);
    expect(j.maxRunning()).toBe(2);
    j.gates[3]!.resolve('d');
    j.gates[4]!.resolve('e');
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it.each([0, 1, 3])('rejects at once past a queue of %i, with its code, and counts it', async (maxQueue) => {
    const l = new Limiter(1, maxQueue);
    const j = jobs(maxQueue + 1);
    const accepted = j.fns.map((fn) => l.run(fn));
    await settle();
    expect(l.depth).toBe(maxQueue);
    let called = false;
    const extra = async (): Promise<string> => {
      called = true;
      return Promise.resolve('never');
    };
    for (let k = 1; k <= 2; k++) {
      const err = await l.run(extra).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OverseerError);
      expect((err as OverseerError).code).toBe(ErrorCodes.SCRAPE_SLOT_QUEUE_FULL);
      expect((err as OverseerError).status).toBe(503);
      expect(l.rejected).toBe(k);
    }
    expect(called).toBe(false);
    expect(l.depth).toBe(maxQueue);
    // The rejected calls took nothing: the accepted ones all complete.
    j.gates.forEach((g, i) => g.resolve(`r${i}`));
    await expect(Promise.all(accepted)).resolves.toHaveLength(maxQueue + 1);
    expect(l.inFlight).toBe(0);
    // And with room again, a new call runs.
    await expect(l.run(() => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(l.rejected).toBe(2);
  });

  it('does not reject while a slot is free, whatever the queue bound', async () => {
    const l = new Limiter(2, 0);
    const j = jobs(2);
    const results = j.fns.map((fn) => l.run(fn));
    await settle();
    expect(j.started).toEqual([0, 1]);
    j.gates.forEach((g) => g.resolve('x'));
    await expect(Promise.all(results)).resolves.toEqual(['x', 'x']);
    expect(l.rejected).toBe(0);
  });

  it.each([
    ['rejects', () => Promise.reject(new Error('boom'))],
    [
      'throws synchronously',
      (): Promise<string> => {
        throw new Error('boom');
      },
    ],
    [
      'throws after an await',
      async (): Promise<string> => {
        await Promise.resolve();
        throw new Error('boom');
      },
    ],
  ])('releases the slot when fn %s', async (_, failing: () => Promise<string>) => {
    const l = new Limiter(1, 5);
    const first = l.run(failing);
    const next = deferred<string>();
    const second = l.run(() => next.promise);
    await expect(first).rejects.toThrow('boom');
    await settle();
    // The slot went to the waiter: one in flight, none queued.
    expect(l.inFlight).toBe(1);
    expect(l.depth).toBe(0);
    next.resolve('done');
    await expect(second).resolves.toBe('done');
    expect(l.inFlight).toBe(0);
    // Nothing waiting: the slot is free for the next call without queueing.
    const third = l.run(failing);
    expect(l.depth).toBe(0);
    await expect(third).rejects.toThrow('boom');
    expect(l.inFlight).toBe(0);
    expect(l.rejected).toBe(0);
  });
});
