import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock.js';
import { ErrorCodes } from '../errors/index.js';
import { entriesOf, Journal, journalPath, nextState, replay } from './journal.js';
import type { FileState, JournalEntry } from './journal.js';

const H = 'a'.repeat(64);
const DAY = 86_400_000;
const rotated = (fileId: string): JournalEntry => ({
  type: 'rotated',
  fileId,
  path: `/logs/${fileId}.log`,
  service: 'api',
  host: 'h1',
  bytes: 10,
  startMs: 1000,
});
const compressed = (fileId: string): JournalEntry => ({
  type: 'compressed',
  fileId,
  gzPath: `/logs/${fileId}.log.gz`,
  size: 5,
  sha256: H,
  sourceBytes: 10,
  sourceSha256: H,
});
const uploaded = (fileId: string, at = 2000): JournalEntry => ({
  type: 'uploaded',
  fileId,
  key: `k/${fileId}`,
  at,
});
const deleted = (fileId: string, at = 3000): JournalEntry => ({ type: 'deleted', fileId, at });
const failed = (fileId: string, attempts = 1): JournalEntry => ({
  type: 'failed',
  fileId,
  attempts,
  lastError: 'boom',
  nextAttemptAt: 9000,
});
const line = (e: JournalEntry) => JSON.stringify(e) + '\n';

/** Folds entries with nextState; the first refusal, if any, is returned as a string. */
function fold(entries: JournalEntry[]): Map<string, FileState> | string {
  const states = new Map<string, FileState>();
  for (const e of entries) {
    const next = nextState(states.get(e.fileId), e);
    if (typeof next === 'string') return next;
    states.set(e.fileId, next);
  }
  return states;
}

describe('nextState', () => {
  it.each<[string, JournalEntry[], string]>([
    ['rotated', [rotated('f')], 'rotated'],
    ['compressed', [rotated('f'), compressed('f')], 'compressed'],
    ['re-compressed', [rotated('f'), compressed('f'), compressed('f')], 'compressed'],
    ['uploaded', [rotated('f'), compressed('f'), uploaded('f')], 'uploaded'],
    ['deleted', [rotated('f'), compressed('f'), uploaded('f'), deleted('f')], 'deleted'],
    ['failed keeps the phase', [rotated('f'), compressed('f'), failed('f')], 'compressed'],
    ['progress after failure', [rotated('f'), failed('f'), compressed('f')], 'compressed'],
  ])('%s', (_name, entries, phase) => {
    const states = fold(entries);
    expect(typeof states).not.toBe('string');
    expect((states as Map<string, FileState>).get('f')?.phase).toBe(phase);
  });

  it.each<[string, JournalEntry[], string]>([
    ['step before rotated', [compressed('f')], 'no rotated entry'],
    ['rotated twice', [rotated('f'), rotated('f')], 'already in the journal'],
    ['upload before compress', [rotated('f'), uploaded('f')], 'uploaded cannot follow rotated'],
    [
      'delete before upload',
      [rotated('f'), compressed('f'), deleted('f')],
      'deleted cannot follow compressed',
    ],
    ['upload twice', [rotated('f'), compressed('f'), uploaded('f'), uploaded('f')], 'cannot follow uploaded'],
    [
      'failed after deleted',
      [rotated('f'), compressed('f'), uploaded('f'), deleted('f'), failed('f')],
      'deleted',
    ],
  ])('refuses %s', (_name, entries, message) => {
    expect(fold(entries)).toContain(message);
  });

  it('tracks failures and clears them on progress', () => {
    const s = fold([rotated('f'), compressed('f'), failed('f', 1), failed('f', 2)]) as Map<string, FileState>;
    expect(s.get('f')?.failure).toEqual({ attempts: 2, lastError: 'boom', nextAttemptAt: 9000 });
    const t = fold([rotated('f'), compressed('f'), failed('f'), uploaded('f')]) as Map<string, FileState>;
    expect(t.get('f')?.failure).toBeNull();
    expect(t.get('f')?.uploaded).toEqual({ key: 'k/f', at: 2000 });
  });

  it.each<[string, JournalEntry[]]>([
    ['rotated', [rotated('f')]],
    ['failed while rotated', [rotated('f'), failed('f', 3)]],
    ['compressed', [rotated('f'), compressed('f')]],
    ['uploaded and failing', [rotated('f'), compressed('f'), uploaded('f'), failed('f', 2)]],
    ['deleted', [rotated('f'), compressed('f'), failed('f'), uploaded('f'), deleted('f')]],
  ])('entriesOf(%s) folds back to the same state', (_name, entries) => {
    const s = (fold(entries) as Map<string, FileState>).get('f')!;
    expect((fold(entriesOf(s)) as Map<string, FileState>).get('f')).toEqual(s);
  });
});

describe('replay', () => {
  const good = line(rotated('a')) + line(compressed('a'));
  it.each<[string, string, number]>([
    ['a clean journal', good, good.length],
    ['an empty journal', '', 0],
    ['an unterminated final line', good + '{"type":"uploa', good.length],
    ['a complete entry without its newline', good + line(uploaded('a')).trimEnd(), good.length],
    ['a garbage final line', good + 'x\u0000\u0000}\n', good.length],
    ['zeros after the last line', good + '\u0000'.repeat(4096), good.length],
  ])('keeps everything up to %s', (_name, text, validBytes) => {
    const r = replay(Buffer.from(text));
    expect(r.problems).toEqual([]);
    expect(r.validBytes).toBe(validBytes);
  });

  it.each<[string, string]>([
    ['a garbage line in the middle', line(rotated('a')) + 'garbage\n' + line(rotated('b'))],
    ['a refused step in the middle', line(deleted('a')) + line(rotated('b'))],
  ])('reports %s as corruption', (_name, text) => {
    expect(replay(Buffer.from(text)).problems).toHaveLength(1);
  });
});

let dir: string;
let file: string;
const clock = new ManualClock(10 * DAY);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'overseer-journal-'));
  file = journalPath(dir);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('Journal', () => {
  it('creates <dataDir>/logs/journal.ndjson and keeps appends across a reopen', async () => {
    const j = await Journal.open(file, { clock });
    await j.append(rotated('a'));
    await j.append(compressed('a'));
    expect(j.states().get('a')?.phase).toBe('compressed');
    await j.close();
    await j.close();
    const again = await Journal.open(file, { clock });
    expect(again.states()).toEqual(j.states());
    await again.close();
  });

  it('cuts a torn final line away before appending', async () => {
    await mkdir(join(dir, 'logs'));
    await writeFile(file, line(rotated('a')) + '{"type":"compre');
    const j = await Journal.open(file, { clock });
    expect(j.tornBytes).toBe(15);
    await j.append(compressed('a'));
    await j.close();
    expect(await readFile(file, 'utf8')).toBe(line(rotated('a')) + line(compressed('a')));
  });

  it('refuses to open a journal corrupted in the middle', async () => {
    await mkdir(join(dir, 'logs'));
    await writeFile(file, line(rotated('a')) + 'garbage\n' + line(rotated('b')));
    await expect(Journal.open(file, { clock })).rejects.toMatchObject({
      code: ErrorCodes.LOG_JOURNAL_CORRUPT,
    });
  });

  it('refuses bad entries without writing them and stays usable', async () => {
    const j = await Journal.open(file, { clock });
    await j.append(rotated('a'));
    const bad = [
      deleted('a'),
      { ...rotated('b'), bytes: Number.NaN },
      { type: 'nope' } as unknown as JournalEntry,
    ];
    for (const e of bad) {
      await expect(j.append(e)).rejects.toMatchObject({ code: ErrorCodes.LOG_JOURNAL_ENTRY_INVALID });
    }
    await j.append(compressed('a'));
    await j.close();
    expect(await readFile(file, 'utf8')).toBe(line(rotated('a')) + line(compressed('a')));
  });

  it('serializes concurrent appends in call order', async () => {
    const j = await Journal.open(file, { clock });
    const ids = Array.from({ length: 50 }, (_, i) => `f${i}`);
    await Promise.all(ids.flatMap((id) => [j.append(rotated(id)), j.append(compressed(id))]));
    await j.close();
    const text = await readFile(file, 'utf8');
    expect(text).toBe(ids.map((id) => line(rotated(id)) + line(compressed(id))).join(''));
  });

  it('rejects appends beyond maxPending at once and counts them', async () => {
    const j = await Journal.open(file, { clock, maxPending: 2 });
    const first = [j.append(rotated('a')), j.append(rotated('b'))];
    await expect(j.append(rotated('c'))).rejects.toMatchObject({ code: ErrorCodes.LOG_JOURNAL_QUEUE_FULL });
    expect(j.depth).toBe(2);
    expect(j.rejected).toBe(1);
    await Promise.all(first);
    expect(j.depth).toBe(0);
    await j.close();
    await expect(j.append(rotated('d'))).rejects.toMatchObject({ code: ErrorCodes.LOG_JOURNAL_CLOSED });
  });

  it('resolves an append only after its fdatasync returned', async () => {
    const j = await Journal.open(file, { clock });
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const real = proto.datasync;
    const spy = vi.spyOn(proto, 'datasync').mockImplementation(async function (this: unknown) {
      await gate;
      return real.call(this);
    });
    let done = false;
    const p = j.append(rotated('a')).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(done).toBe(false);
    release();
    await p;
    await j.close();
  });

  it('after a failed fsync refuses every append until reopened', async () => {
    const j = await Journal.open(file, { clock });
    await j.append(rotated('a'));
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    vi.spyOn(proto, 'datasync').mockRejectedValueOnce(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await expect(j.append(compressed('a'))).rejects.toMatchObject({
      code: ErrorCodes.LOG_JOURNAL_WRITE_FAILED,
    });
    await expect(j.append(rotated('b'))).rejects.toMatchObject({ code: ErrorCodes.LOG_JOURNAL_WRITE_FAILED });
    await j.close();
    const again = await Journal.open(file, { clock });
    expect(again.states().get('a')).toBeDefined();
    await again.close();
  });
});

const root = fileURLToPath(new URL('../..', import.meta.url));
const lib = new URL('./journal.ts', import.meta.url).href;

/** Runs `body` in a child process with `journal` (open on `file`) and `entry(i)` in scope. */
function child(body: string): {
  exited: Promise<NodeJS.Signals | null>;
  stdout: () => string;
  kill: () => void;
} {
  const src =
    `import { Journal } from ${JSON.stringify(lib)};\n` +
    `const journal = await Journal.open(${JSON.stringify(file)}, { clock: { nowMs: () => ${clock.nowMs()}, now: () => new Date() } });\n` +
    `const entry = (i) => ({ type: 'rotated', fileId: 'c' + i, path: '/l', service: 's', host: 'h', bytes: i, startMs: 0 });\n` +
    body;
  const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], {
    cwd: root,
    stdio: 'pipe',
  });
  let out = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return {
    exited: new Promise((resolve) => p.on('exit', (_c, sig) => resolve(sig))),
    stdout: () => out,
    kill: () => p.kill('SIGKILL'),
  };
}

describe('crash safety', () => {
  it('an append that resolved survives a SIGKILL right after', async () => {
    const c = child(
      `for (let i = 0; i < 20; i++) await journal.append(entry(i));\n` +
        `console.log('appended'); process.kill(process.pid, 'SIGKILL');\n`,
    );
    expect(await c.exited).toBe('SIGKILL');
    expect(c.stdout()).toContain('appended');
    const j = await Journal.open(file, { clock });
    expect([...j.states().keys()]).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
    await j.close();
  });

  it('compaction keeps live state, drops old deletions, and later appends land in the new file', async () => {
    const j = await Journal.open(file, { clock });
    for (const id of ['old', 'recent', 'live']) {
      for (const e of [rotated(id), failed(id, 1), failed(id, 2), compressed(id), uploaded(id)])
        await j.append(e);
    }
    await j.append(deleted('old', clock.nowMs() - 8 * DAY));
    await j.append(deleted('recent', clock.nowMs() - DAY));
    const before = (await stat(file)).size;
    const live = new Map([...j.states()].filter(([id]) => id !== 'old'));

    expect(await j.compact()).toMatchObject({ kept: 2, dropped: 1 });
    expect((await stat(file)).size).toBeLessThan(before / 2);
    expect(j.states()).toEqual(live);
    await j.append(rotated('after'));
    await j.close();

    const again = await Journal.open(file, { clock });
    expect(again.states()).toEqual(new Map([...live, ['after', again.states().get('after')!]]));
    expect(existsSync(file + '.compact.tmp')).toBe(false);
    await again.close();
  });

  it('a failed compaction changes nothing and the journal stays usable', async () => {
    const j = await Journal.open(file, { clock });
    await j.append(rotated('a'));
    await mkdir(file + '.compact.tmp');
    await writeFile(join(file + '.compact.tmp', 'x'), '');
    await expect(j.compact()).rejects.toMatchObject({ code: ErrorCodes.LOG_JOURNAL_COMPACT_FAILED });
    await j.append(compressed('a'));
    await j.close();
    expect(await readFile(file, 'utf8')).toBe(line(rotated('a')) + line(compressed('a')));
  });

  it('a leftover half-written compaction is ignored and removed at open', async () => {
    await mkdir(join(dir, 'logs'));
    await writeFile(file, line(rotated('a')) + line(compressed('a')));
    await writeFile(file + '.compact.tmp', line(rotated('a')).slice(0, 20));
    const j = await Journal.open(file, { clock });
    expect(j.states().get('a')?.phase).toBe('compressed');
    expect(existsSync(file + '.compact.tmp')).toBe(false);
    await j.close();
  });

  it('a SIGKILL during compaction leaves the old or the new journal, both valid', async () => {
    // Half the files were deleted long ago: the old journal folds to all of them, the new one to the rest.
    const text: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const id = `f${i}`;
      text.push(line(rotated(id)), line(compressed(id)), line(uploaded(id)));
      if (i % 2 === 0) text.push(line(deleted(id, 0)));
    }
    const old = replay(Buffer.from(text.join(''))).states;
    const compacted = new Map([...old].filter(([, s]) => s.deletedAt === null));

    // Kill at random moments, several times: some land mid-write of the temp file, some between renames.
    await mkdir(join(dir, 'logs'));
    for (let round = 0; round < 4; round++) {
      await writeFile(file, text.join(''));
      const c = child(`console.log('ready');\nfor (;;) await journal.compact();\n`);
      while (!c.stdout().includes('ready')) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, Math.random() * 60));
      c.kill();
      expect(await c.exited).toBe('SIGKILL');

      const j = await Journal.open(file, { clock });
      const states = j.states();
      expect([old.size, compacted.size]).toContain(states.size);
      expect(states).toEqual(states.size === old.size ? old : compacted);
      expect(j.tornBytes).toBe(0);
      await j.close();
    }
  });
});
