import { pino } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/helpers/poll.js';
import { DeliveryQueue } from './delivery-queue.js';
import { ErrorCodes, OverseerError } from '../../errors/index.js';
import type { Notifier, OutAlert } from './types.js';

function alert(fp: string, status: 'firing' | 'resolved' = 'firing'): OutAlert {
  return {
    fingerprint: fp,
    status,
    labels: { alertname: fp },
    annotations: {},
    startsAt: '',
    endsAt: '',
    generatorURL: '',
  };
}

/** A receiver that is down until `up` is set, recording every batch it accepted. */
function receiver() {
  const state = { up: false, attempts: 0, batches: [] as OutAlert[][] };
  const notifier: Notifier = {
    name: 'test',
    send(alerts) {
      state.attempts++;
      if (!state.up)
        return Promise.reject(new OverseerError(ErrorCodes.NOTIFICATION_DELIVERY_FAILED, 'down'));
      state.batches.push([...alerts]);
      return Promise.resolve();
    },
  };
  return { state, notifier };
}

function queue(notifier: Notifier, maxQueue: number) {
  const registry = new Registry();
  const metrics = {
    sent: new Counter({ name: 's', help: 's', labelNames: ['notifier'], registers: [registry] }),
    failed: new Counter({ name: 'f', help: 'f', labelNames: ['notifier'], registers: [registry] }),
    dropped: new Counter({ name: 'd', help: 'd', labelNames: ['notifier'], registers: [registry] }),
    depth: new Gauge({ name: 'q', help: 'q', labelNames: ['notifier'], registers: [registry] }),
  };
  const q = new DeliveryQueue(
    notifier,
    { maxQueue, maxBatch: 10, backoffBaseMs: 5, backoffMaxMs: 20, failingAlarmAfterMs: 30 },
    metrics,
    pino({ level: 'silent' }),
  );
  return { q, registry };
}

describe('DeliveryQueue', () => {
  it('while the receiver is down: retries, stays bounded, counts what it drops, raises failing; delivers the latest states once up', async () => {
    const { state, notifier } = receiver();
    const { q, registry } = queue(notifier, 3);
    q.enqueue(['a', 'b', 'c', 'd', 'e'].map((f) => alert(f)));
    q.enqueue([alert('c', 'resolved')]);
    expect(q.depth).toBe(3);
    await waitFor('several failed attempts and the failing flag', () =>
      state.attempts >= 3 && q.failing ? true : undefined,
    );
    // a and b went when c, d and e filled the three places; c's newer state replaced c without a drop.
    expect(await registry.getSingleMetricAsString('d')).toContain('d{notifier="test"} 2');
    state.up = true;
    expect(await q.drain(5_000)).toBe(true);
    const delivered = state.batches.flat().map((a) => `${a.fingerprint}:${a.status}`);
    // a and b were dropped (oldest first); c arrives in its latest state.
    expect(delivered).toEqual(['d:firing', 'e:firing', 'c:resolved']);
    expect(q.failing).toBe(false);
    await q.stop();
  });

  it('a state that arrives while a batch is in flight is not lost', async () => {
    const gates: Array<() => void> = [];
    const sent: string[] = [];
    const notifier: Notifier = {
      name: 'slow',
      async send(alerts) {
        await new Promise<void>((r) => gates.push(r));
        for (const a of alerts) sent.push(`${a.fingerprint}:${a.status}`);
      },
    };
    const { q } = queue(notifier, 10);
    q.enqueue([alert('x')]);
    await waitFor('the first send to start', () => (gates.length === 1 ? true : undefined));
    q.enqueue([alert('x', 'resolved')]);
    gates[0]!();
    await waitFor('the second send to start', () => (gates.length === 2 ? true : undefined));
    gates[1]!();
    expect(await q.drain(5_000)).toBe(true);
    expect(sent).toEqual(['x:firing', 'x:resolved']);
    await q.stop();
  });
});
