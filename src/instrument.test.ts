import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createErrorCounter } from './instrument.js';

describe('overseer/instrument', () => {
  it('counts errors by code and passes a value through for `throw countError(…)`', async () => {
    const registry = new Registry();
    const { countError } = createErrorCounter(registry);
    const err = new Error('x');
    expect(countError(104211, err)).toBe(err);
    countError('104211');
    countError(7);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE errors_total counter');
    expect(text).toContain('errors_total{code="104211"} 2');
    expect(text).toContain('errors_total{code="7"} 1');
  });

  it('two counters on one registry share the metric instead of failing to register', async () => {
    const registry = new Registry();
    createErrorCounter(registry).countError(1);
    createErrorCounter(registry).countError(1);
    expect(await registry.metrics()).toContain('errors_total{code="1"} 2');
  });
});
