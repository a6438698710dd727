import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Lifecycle, type Component } from './lifecycle.js';

const logger = pino({ level: 'silent' });

function component(
  name: string,
  log: string[],
  stop: () => Promise<void> = () => Promise.resolve(),
): Component {
  return {
    name,
    start: () => {
      log.push(`start ${name}`);
      return Promise.resolve();
    },
    stop: async () => {
      log.push(`stop ${name}`);
      await stop();
    },
  };
}

describe('Lifecycle', () => {
  it('stops in reverse start order, once, even when called twice', async () => {
    const log: string[] = [];
    const lc = new Lifecycle({ logger, stepTimeoutMs: 1000 });
    await lc.start(component('db', log));
    lc.defer('pool', () => {
      log.push('stop pool');
      return Promise.resolve();
    });
    await lc.start(component('http', log));
    const [a, b] = await Promise.all([lc.stop(), lc.stop()]);
    expect(a).toBe(b);
    expect(log).toEqual(['start db', 'start http', 'stop http', 'stop pool', 'stop db']);
    expect(a.stopped).toEqual(['http', 'pool', 'db']);
  });

  it('runs every step when one fails or overruns its deadline', async () => {
    const log: string[] = [];
    const lc = new Lifecycle({ logger, stepTimeoutMs: 50 });
    await lc.start(component('first', log));
    await lc.start(component('hangs', log, () => new Promise(() => undefined)));
    await lc.start(component('fails', log, () => Promise.reject(new Error('boom'))));
    const report = await lc.stop();
    expect(log.slice(3)).toEqual(['stop fails', 'stop hangs', 'stop first']);
    expect(report.stopped).toEqual(['first']);
    expect(report.failed.map((f) => [f.name, f.error.code])).toEqual([
      ['fails', 100601],
      ['hangs', 100602],
    ]);
  });

  it('refuses to start anything once stopping', async () => {
    const lc = new Lifecycle({ logger, stepTimeoutMs: 50 });
    await lc.stop();
    await expect(lc.start(component('late', []))).rejects.toThrow(/shutting down/);
  });
});
