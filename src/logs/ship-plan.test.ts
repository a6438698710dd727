import { describe, expect, it } from 'vitest';
import type { FileState } from './journal.js';
import {
  backlogOf,
  backoffMs,
  byAge,
  isDue,
  isSnapshot,
  keyVars,
  outboxPath,
  serviceOf,
  shipState,
  snapshotId,
  statusRow,
} from './ship-plan.js';

const H = 'ab'.repeat(32);
const ROTATED = '/logs/api.20250102T130000Z.web-1.000000.log';

function state(over: Partial<FileState> = {}): FileState {
  return {
    fileId: ROTATED,
    phase: 'rotated',
    rotated: { path: ROTATED, service: 'api', host: 'web-1', bytes: 1000, startMs: 1_735_822_800_000 },
    compressed: null,
    uploaded: null,
    deletedAt: null,
    failure: null,
    ...over,
  };
}
const compressed = { gzPath: '/out/x.gz', size: 100, sha256: H, sourceBytes: 1000, sourceSha256: H };
const failure = { attempts: 2, lastError: 'boom', nextAttemptAt: 5000 };

describe('shipState', () => {
  it.each<[string, Partial<FileState>, string]>([
    ['rotated', {}, 'pending'],
    ['rotated + failed', { failure }, 'failed'],
    ['compressed', { phase: 'compressed', compressed }, 'compressed'],
    ['compressed + failed', { phase: 'compressed', compressed, failure }, 'failed'],
    ['uploaded', { phase: 'uploaded', compressed, uploaded: { key: 'k', at: 1 } }, 'uploaded'],
    [
      'uploaded, clean-up failed',
      { phase: 'uploaded', compressed, uploaded: { key: 'k', at: 1 }, failure },
      'uploaded',
    ],
    ['deleted', { phase: 'deleted', compressed, uploaded: { key: 'k', at: 1 }, deletedAt: 2 }, 'deleted'],
  ])('%s → %s', (_name, over, want) => {
    expect(shipState(state(over))).toBe(want);
  });
});

describe('isDue', () => {
  it.each([
    [null, 0, true],
    [failure, 4999, false],
    [failure, 5000, true],
  ])('failure %j at %d → %s', (f, now, want) => {
    expect(isDue(state({ failure: f }), now)).toBe(want);
  });
});

describe('backoffMs', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 };
  it.each([
    // attempts, random, expected: base·2^(n−1) capped, half fixed + half jitter
    [1, 0, 500],
    [1, 1, 1000],
    [2, 0.5, 1500],
    [3, 0, 2000],
    [6, 1, 32_000],
    [7, 0, 30_000], // 64 s capped at 60 s
    [50, 1, 60_000],
    [1000, 0.5, 45_000], // no overflow for absurd attempt counts
    [0, 1, 1000], // treated as the first
  ])('attempt %d, random %d → %d ms', (attempts, random, want) => {
    expect(backoffMs(attempts, policy, random)).toBe(want);
  });

  it('grows: the shortest delay of attempt n+1 is at least the longest of attempt n / 2 … until the cap', () => {
    for (let n = 1; n < 6; n++) expect(backoffMs(n + 1, policy, 0)).toBe(backoffMs(n, policy, 1));
  });
});

describe('backlogOf', () => {
  const limit = { limitBytes: 1000, alarmRatio: 0.8 };
  it('counts unshipped files only: the source before compression, the .gz after', () => {
    const states = [
      state({ fileId: 'a' }),
      state({ fileId: 'b', phase: 'compressed', compressed }),
      state({ fileId: 'c', phase: 'uploaded', compressed, uploaded: { key: 'k', at: 1 } }),
    ];
    expect(backlogOf(states, limit)).toEqual({
      bytes: 1100,
      files: 2,
      oldestStartMs: 1_735_822_800_000,
      limitBytes: 1000,
      ratio: 1.1,
      high: true,
      overLimit: true,
    });
  });

  it.each([
    [799, false, false],
    [800, true, false],
    [1000, true, false],
    [1001, true, true],
  ])('%d bytes of 1000 → high %s, overLimit %s', (bytes, high, overLimit) => {
    const s = state({ rotated: { ...state().rotated, bytes } });
    expect(backlogOf([s], limit)).toMatchObject({ bytes, high, overLimit });
  });

  it('leaves out files whose source vanished (nothing of them is on disk)', () => {
    expect(backlogOf([state({ fileId: 'gone' })], limit, new Set(['gone']))).toMatchObject({
      bytes: 0,
      files: 1,
    });
  });

  it('is empty without files', () => {
    expect(backlogOf([], limit)).toMatchObject({ bytes: 0, files: 0, oldestStartMs: undefined, high: false });
  });
});

describe('names', () => {
  it.each([
    [ROTATED, false],
    ['/logs/api.log', true],
    ['/var/log/nginx/access.log', true],
    ['/logs/api.20250102T130000Z.web-1.000000.log.gz', true],
  ])('isSnapshot(%s) → %s', (path, want) => {
    expect(isSnapshot(path)).toBe(want);
  });

  it('keeps a rotated name as the key file name, and names a snapshot by its size and content', () => {
    expect(keyVars(state().rotated, compressed, 'p/')).toEqual({
      prefix: 'p/',
      service: 'api',
      host: 'web-1',
      file: 'api.20250102T130000Z.web-1.000000.log',
      time: new Date(1_735_822_800_000),
    });
    const snap = { ...state().rotated, path: '/var/log/app.log', service: 'app' };
    expect(keyVars(snap, compressed, '').file).toBe(`app.log.1000-${H.slice(0, 12)}`);
  });

  it('gives each snapshot version its own id and each id its own outbox file', () => {
    expect(snapshotId('/a/app.log', 10, 1234.9)).toBe('/a/app.log#10@1234');
    const a = outboxPath('/out', '/a/app.log#10@1234', '/a/app.log');
    const b = outboxPath('/out', '/a/app.log#11@1235', '/a/app.log');
    expect(a).toMatch(/^\/out\/[0-9a-f]{12}-app\.log\.gz$/);
    expect(a).not.toBe(b);
  });

  it.each([
    ['app.log', 'app'],
    ['nginx access.log', 'nginx-access'],
    ['.log', 'unknown'],
    ['a.b.log', 'a-b'],
  ])('serviceOf(%s) → %s', (name, want) => {
    expect(serviceOf(name)).toBe(want);
  });
});

describe('ordering and status', () => {
  it('sorts oldest first, then by id', () => {
    const a = state({ fileId: 'b', rotated: { ...state().rotated, startMs: 2 } });
    const b = state({ fileId: 'a', rotated: { ...state().rotated, startMs: 2 } });
    const c = state({ fileId: 'c', rotated: { ...state().rotated, startMs: 1 } });
    expect([a, b, c].sort(byAge).map((s) => s.fileId)).toEqual(['c', 'a', 'b']);
  });

  it('renders a status row', () => {
    expect(statusRow(state({ phase: 'compressed', compressed, failure }))).toEqual({
      fileId: ROTATED,
      path: ROTATED,
      state: 'failed',
      service: 'api',
      host: 'web-1',
      bytes: 1000,
      gzBytes: 100,
      key: null,
      uploadedAt: null,
      attempts: 2,
      lastError: 'boom',
      nextAttemptAt: 5000,
    });
  });
});
