import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../clock.js';
import { Ticker } from './ticker.js';

// Fake timers (and Date, which systemClock reads): "nothing ran meanwhile" is checked by moving time
// forward, not by waiting and hoping.
describe('Ticker', () => {
  let ticker: Ticker | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    const stopping = ticker?.stop();
    await vi.runOnlyPendingTimersAsync();
    await stopping;
    ticker = undefined;
    vi.useRealTimers();
  });

  it('runs again and again, never two at once, even when a run outlasts the interval', async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    let release: (() => void) | undefined;
    ticker = new Ticker(5, systemClock, async () => {
      active++;
      most = Math.max(most, active);
      runs++;
      // The second run hangs until the test lets it go: ten intervals pass meanwhile.
      if (runs === 2) await new Promise<void>((r) => (release = r));
      active--;
    });
    ticker.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toBe(2);
    await vi.advanceTimersByTimeAsync(50);
    expect(runs).toBe(2);
    release!();
    await vi.advanceTimersByTimeAsync(15);
    expect(runs).toBeGreaterThanOrEqual(5);
    expect(most).toBe(1);
  });

  it('keeps going after a failed run', async () => {
    let runs = 0;
    ticker = new Ticker(5, systemClock, () => {
      runs++;
      return Promise.reject(new Error('boom'));
    });
    ticker.start();
    await vi.advanceTimersByTimeAsync(15);
    expect(runs).toBe(3);
  });

  it('stop waits for the run going and starts no other', async () => {
    let runs = 0;
    let finished = false;
    ticker = new Ticker(5, systemClock, async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 30));
      finished = true;
    });
    ticker.start();
    await vi.advanceTimersByTimeAsync(5);
    expect(runs).toBe(1);
    let stopped = false;
    const stopping = ticker.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(29);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(finished).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(1);
  });

  it('waits one interval before the first run', async () => {
    let runs = 0;
    ticker = new Ticker(60_000, systemClock, () => {
      runs++;
      return Promise.resolve();
    });
    ticker.start();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
  });
});
