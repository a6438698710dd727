import { describe, expect, it } from 'vitest';
import { InvalidationLog } from './invalidation-log.js';

describe('InvalidationLog', () => {
  it('tells whether a tenant (or everything) was invalidated after a ticket', () => {
    const log = new InvalidationLog(8);
    const t0 = log.seq;
    expect(log.changedSince(t0, 'a')).toBe(false);
    log.add('b');
    expect([log.changedSince(t0, 'a'), log.changedSince(t0, 'b')]).toEqual([false, true]);
    const t1 = log.seq;
    expect(log.changedSince(t1, 'b')).toBe(false);
    log.add('*');
    expect(log.changedSince(t1, 'a')).toBe(true);
  });

  it('answers "changed" once the invalidations after a ticket no longer fit the ring', () => {
    const log = new InvalidationLog(4);
    const ticket = log.seq;
    for (let i = 0; i < 4; i++) log.add(`x${i}`);
    expect(log.changedSince(ticket, 'a')).toBe(false);
    log.add('x4');
    expect(log.changedSince(ticket, 'a')).toBe(true);
    expect(log.changedSince(log.seq - 2, 'a')).toBe(false);
  });
});
