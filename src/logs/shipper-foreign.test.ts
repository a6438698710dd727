import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/poll.js';
import { systemClock } from '../clock.js';
import { LocalObjectStore } from './local-store.js';
import { LogShipper, type PassReport } from './shipper.js';

/**
 * A foreign writer — another program, here a child process — that keeps appending to `app.log` every few
 * milliseconds. Its active file must never ship while it is being written, never be truncated, and ship
 * as a snapshot once it has been quiet for the folder's quiet period; a file it renames to a rotated name
 * ships at once and is deleted. Real time: quiet periods compare file mtimes with the system clock.
 */

// The writer: one numbered line every 3 ms (open-append-close, as many programs do). On stdin:
// p = pause, r = resume, o = rename app.log to a rotated name and go on in a new app.log, q = quit.
// Each command is acknowledged on stdout with the number of the last line written.
const WRITER = `
const fs = require('node:fs');
const path = require('node:path');
const [dir] = process.argv.slice(1);
const active = path.join(dir, 'app.log');
let n = 0;
let on = true;
setInterval(() => { if (on) fs.appendFileSync(active, JSON.stringify({ n: ++n }) + '\\n'); }, 3);
process.stdin.on('data', (b) => {
  for (const c of b.toString().trim()) {
    if (c === 'p') on = false;
    if (c === 'r') on = true;
    if (c === 'o') fs.renameSync(active, path.join(dir, 'app.20250102T130000Z.vm.000000.log'));
    process.stdout.write('ack ' + c + ' ' + n + '\\n');
    if (c === 'q') process.exit(0);
  }
});
`;

const QUIET_MS = 1000;
let root: string;
let foreign: string;
let archive: LocalObjectStore;
let shipper: LogShipper;
let writer: ChildProcess | undefined;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'overseer-foreign-'));
  foreign = join(root, 'app');
  await mkdir(foreign);
  archive = new LocalObjectStore(join(root, 'archive'));
  shipper = new LogShipper(
    {
      dirs: [],
      foreignDirs: [{ dir: foreign, quietMs: QUIET_MS }],
      dataDir: join(root, 'data'),
      host: 'vm',
      localRetentionMs: 0,
    },
    { store: archive, clock: systemClock, logger: pino({ level: 'silent' }), registry: new Registry() },
  );
});

afterEach(async () => {
  writer?.kill('SIGKILL');
  await shipper.stop();
  await rm(root, { recursive: true, force: true });
});

function startWriter(): { send: (c: string) => Promise<number> } {
  const child = spawn(process.execPath, ['-e', WRITER, foreign], { stdio: ['pipe', 'pipe', 'inherit'] });
  writer = child;
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  let acks = 0;
  return {
    send: async (c) => {
      child.stdin.write(c);
      const want = ++acks;
      return waitFor(`the writer to acknowledge ${c}`, () => {
        const m = [...out.matchAll(/ack (\w) (\d+)\n/g)][want - 1];
        return m ? Number(m[2]) : undefined;
      });
    },
  };
}

const numbers = (text: string): number[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { n: number }).n);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function objects(): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for await (const o of archive.list('')) {
    const gz = await readFile(join(root, 'archive', ...o.key.split('/')));
    out.set(o.key, numbers(gunzipSync(gz).toString()));
  }
  return out;
}

/** Ships until a pass uploads something; every earlier pass must have found nothing to take. */
async function shipWhenQuiet(): Promise<PassReport> {
  return waitFor(
    'a quiet file to ship',
    async () => {
      const r = await shipper.shipOnce();
      return r.uploaded > 0 ? r : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}

describe('LogShipper with a foreign writer that keeps appending', () => {
  it('ships its active file only when quiet, as whole snapshots, never truncating it; a renamed file at once', async () => {
    const w = startWriter();
    const active = join(foreign, 'app.log');
    await waitFor('the first lines', () => (existsSync(active) ? true : undefined));

    // Written every 3 ms: never quiet for a second, so never taken, however often we look.
    let size = 0;
    for (let i = 0; i < 12; i++) {
      expect(await shipper.shipOnce()).toMatchObject({ discovered: 0, uploaded: 0 });
      const now = statSync(active).size;
      expect(now).toBeGreaterThanOrEqual(size); // appended to, never truncated
      size = now;
      await new Promise((r) => setTimeout(r, 100));
    }

    const paused = await w.send('p');
    expect(await shipWhenQuiet()).toMatchObject({ discovered: 1, uploaded: 1, sourcesDeleted: 0 });
    const first = [...(await objects()).values()];
    expect(first).toEqual([range(1, paused)]);
    expect(numbers(readFileSync(active, 'utf8'))).toEqual(range(1, paused)); // untouched

    await w.send('r');
    await waitFor('more lines', () =>
      numbers(readFileSync(active, 'utf8')).length > paused + 50 ? true : undefined,
    );
    const renamedAt = await w.send('o');
    // A rotated name is complete by contract: shipped at the next pass, then deleted. The new active
    // file, still written, is not.
    const r = await shipper.shipOnce();
    expect(r).toMatchObject({ discovered: 1, uploaded: 1, sourcesDeleted: 1 });
    expect(existsSync(join(foreign, 'app.20250102T130000Z.vm.000000.log'))).toBe(false);

    const last = await w.send('p');
    await shipWhenQuiet();
    await w.send('q');
    const all = await objects();
    const keys = [...all.keys()].sort();
    expect(keys).toHaveLength(3);
    expect(all.get(keys.find((k) => k.includes('app.20250102T130000Z.vm.000000.log'))!)).toEqual(
      range(1, renamedAt),
    );
    const snapshots = keys.filter((k) => /app\.log\.\d+-[0-9a-f]{12}\.gz$/.test(k)).map((k) => all.get(k)!);
    expect(snapshots.sort((a, b) => a[0]! - b[0]!)).toEqual([range(1, paused), range(renamedAt + 1, last)]);
    // Every line written is in the store; a snapshot's lines may also come again in a later version or
    // the rotated file (snapshots ship whole), which is why rotating by rename is the better contract.
    expect(new Set([...all.values()].flat())).toEqual(new Set(range(1, last)));
    expect(numbers(readFileSync(active, 'utf8'))).toEqual(range(renamedAt + 1, last));
  });
});
