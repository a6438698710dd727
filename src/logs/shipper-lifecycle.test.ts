import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/poll.js';
import { testShipper, writeRotated } from '../../test/helpers/logs-shipper.js';
import { ManualClock } from '../clock.js';
import { ErrorCodes } from '../errors/index.js';
import { LocalObjectStore } from './local-store.js';
import type { ObjectStore, PutOptions, StoredObject } from './object-store.js';
import { SHIPPER_ABORT_GRACE_MS, type LogShipper, type LogShipperOptions } from './shipper.js';

/**
 * The shipper as a component: one journal writer per data dir (the lock), the last pass at stop within
 * its deadline, and `retryNow` (what `overseer logs ship` asks for).
 */

const T0 = Date.UTC(2025, 0, 2, 13);

/** The local archive, or down, or hanging on put until the upload is aborted. */
class SwitchStore implements ObjectStore {
  mode: 'up' | 'down' | 'hang' | 'deaf' = 'up';
  /** Ends the puts held in `deaf` mode (which ignore the abort). */
  release: () => void = () => undefined;
  constructor(private readonly inner: ObjectStore) {}
  get describe() {
    return this.inner.describe;
  }
  async put(key: string, file: string, opts: PutOptions): Promise<void> {
    if (this.mode === 'down') throw new Error('connect ECONNREFUSED (test store down)');
    if (this.mode === 'hang') {
      await new Promise<void>((_, reject) =>
        opts.signal?.addEventListener('abort', () => reject(opts.signal!.reason as Error)),
      );
    }
    if (this.mode === 'deaf') await new Promise<void>((resolve) => (this.release = resolve));
    return this.inner.put(key, file, opts);
  }
  head(key: string): Promise<StoredObject | undefined> {
    if (this.mode === 'down') return Promise.reject(new Error('connect ECONNREFUSED (test store down)'));
    return this.inner.head(key);
  }
  list(prefix: string): AsyncIterable<StoredObject> {
    return this.inner.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

let root: string;
let logs: string;
let dataDir: string;
let archive: LocalObjectStore;
let store: SwitchStore;
const clock = new ManualClock(Date.now());
const shippers: LogShipper[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'overseer-shipper-life-'));
  logs = join(root, 'logs');
  dataDir = join(root, 'data');
  await mkdir(logs);
  archive = new LocalObjectStore(join(root, 'archive'));
  store = new SwitchStore(archive);
});

afterEach(async () => {
  store.mode = 'up';
  for (const s of shippers.splice(0)) await s.stop({ deadlineMs: 1000 });
  await rm(root, { recursive: true, force: true });
});

function make(over: Partial<LogShipperOptions> = {}) {
  const t = testShipper(
    { dirs: [logs], dataDir, host: 'web-1', localRetentionMs: 0, intervalMs: 60_000, ...over },
    { store, clock },
  );
  shippers.push(t.shipper);
  return t;
}

const rotated = (seq: number, data = `{"seq":${seq}}\n`) => writeRotated(logs, T0, seq, data);

async function keys(): Promise<string[]> {
  const out: string[] = [];
  for await (const o of archive.list('')) out.push(o.key);
  return out.sort();
}

describe('LogShipper: one journal writer per data dir', () => {
  it('refuses a second shipper while the first holds the journal, naming the holder', async () => {
    await rotated(0);
    const first = make({ owner: 'overseer serve' }).shipper;
    expect(await first.shipOnce()).toMatchObject({ uploaded: 1 });

    const { shipper: second, errorCount } = make({ owner: 'overseer logs ship' });
    await rotated(1);
    const r = await second.shipOnce();
    expect(r.error?.code).toBe(ErrorCodes.LOG_SHIP_JOURNAL_LOCKED);
    expect(r.error?.message).toContain(`in use by overseer serve (pid ${process.pid}`);
    expect(r.error?.hint).toContain('stop it, or wait');
    expect(r).toMatchObject({ discovered: 0, uploaded: 0 });
    expect(await errorCount(ErrorCodes.LOG_SHIP_JOURNAL_LOCKED)).toBe(1);

    await first.stop();
    expect(await second.shipOnce()).toMatchObject({ discovered: 1, uploaded: 1, error: undefined });
    expect(await keys()).toHaveLength(2);
  });

  it('a started shipper waits for the lock instead of failing to start, and ships once it has it', async () => {
    const holder = make().shipper;
    await holder.shipOnce();
    const { shipper, errorCount } = make({ intervalMs: 20 });
    await shipper.start(); // does not throw
    expect(await errorCount(ErrorCodes.LOG_SHIP_JOURNAL_LOCKED)).toBeGreaterThan(0);
    await rotated(0);
    await holder.stop();
    await waitFor('the started shipper to take the lock and ship', async () =>
      (await keys()).length === 1 ? true : undefined,
    );
  });
});

describe('LogShipper.stop', () => {
  it('runs a last pass: a file rotated just before stop is shipped', async () => {
    const { shipper } = make();
    await shipper.start();
    await waitFor('the first pass', async () => ((await shipper.status()).length === 0 ? true : undefined));
    const f = await rotated(0, 'rotated at shutdown\n');
    await shipper.stop();
    expect(await keys()).toEqual([`api/web-1/2025/01/02/13/${f.slice(logs.length + 1)}.gz`]);
    // And nothing after it: a stopped shipper takes no more passes.
    await rotated(1);
    expect(await shipper.shipOnce()).toMatchObject({ skipped: true });
  });

  it('gives the last pass only its deadline: a hung upload is aborted and resumes at the next start', async () => {
    const { shipper } = make();
    await shipper.start();
    await waitFor('the first pass', async () => ((await shipper.status()).length === 0 ? true : undefined));
    await rotated(0);
    store.mode = 'hang';
    const t0 = performance.now();
    await shipper.stop({ deadlineMs: 300 });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(await keys()).toEqual([]);
    expect((await shipper.status()).map((r) => r.state)).toEqual(['compressed']);

    store.mode = 'up';
    const next = make().shipper;
    expect(await next.shipOnce()).toMatchObject({ uploaded: 1, failed: 0 });
  });

  it('stops within its deadline and grace even when a step ignores the abort', async () => {
    const { shipper } = make();
    await shipper.start();
    await waitFor('the first pass', async () => ((await shipper.status()).length === 0 ? true : undefined));
    await rotated(0);
    store.mode = 'deaf';
    const t0 = performance.now();
    await shipper.stop({ deadlineMs: 200 });
    expect(performance.now() - t0).toBeLessThan(200 + SHIPPER_ABORT_GRACE_MS + 2000);
    store.mode = 'up';
    store.release(); // the stray step finishes after the stop, as it would in a process about to exit
  });
});

describe('LogShipper.shipOnce({ retryNow })', () => {
  it('takes files whose backoff has not run out; a plain pass leaves them waiting', async () => {
    const { shipper } = make({ backoff: { baseMs: 3_600_000, maxMs: 3_600_000 } });
    await rotated(0);
    store.mode = 'down';
    expect(await shipper.shipOnce()).toMatchObject({ failed: 1 });
    store.mode = 'up';
    expect(await shipper.shipOnce()).toMatchObject({ uploaded: 0, failed: 0 });
    expect(await shipper.shipOnce({ retryNow: true })).toMatchObject({ uploaded: 1, gzDeleted: 1 });
    expect(await keys()).toHaveLength(1);
  });
});
