import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/poll.js';
import { systemClock } from '../clock.js';
import { Ticker } from './ticker.js';

describe('Ticker', () => {
  let ticker: Ticker | undefined;
  afterEach(async () => {
    await ticker?.stop();
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
    await waitFor('the second run to start', () => (release ? true : undefined), {
      timeoutMs: 5_000,
      intervalMs: 5,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toBe(2);
    release!();
    await waitFor('more runs after it', () => (runs >= 5 ? true : undefined), {
      timeoutMs: 5_000,
      intervalMs: 5,
    });
    expect(most).toBe(1);
  });

  it('keeps going after a failed run', async () => {
    let runs = 0;
    ticker = new Ticker(5, systemClock, () => {
      runs++;
      return Promise.reject(new Error('boom'));
    });
    ticker.start();
    await waitFor('three runs', () => (runs >= 3 ? true : undefined), { timeoutMs: 5_000, intervalMs: 5 });
  });

  it('stop waits for the run going and starts no other', async () => {
    let runs = 0;
    let finished = false;
    let started: (() => void) | undefined;
    const running = new Promise<void>((r) => (started = r));
    ticker = new Ticker(5, systemClock, async () => {
      runs++;
      started!();
      await new Promise((r) => setTimeout(r, 30));
      finished = true;
    });
    ticker.start();
    await running;
    await ticker.stop();
    expect(finished).toBe(true);
    const after = runs;
    await new Promise((r) => setTimeout(r, 40));
    expect(runs).toBe(after);
    await ticker.stop();
  });

  it('waits one interval before the first run', async () => {
    let runs = 0;
    ticker = new Ticker(60_000, systemClock, () => {
      runs++;
      return Promise.resolve();
    });
    ticker.start();
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(0);
  });
});
