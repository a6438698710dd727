import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, systemClock } from '../clock.js';
import { isOverseerError } from '../errors/index.js';
import { parseRotatedName, ROTATED_PATTERN } from './log-names.js';
import { RotatingFile, type RotatingFileOptions } from './rotating-file.js';

const HOUR = 3_600_000;
const utc = (iso: string): number => Date.parse(iso);
let dir: string;
const open: RotatingFile[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(tmpdir(), 'overseer-rotating-'));
});
afterEach(() => {
  for (const f of open.splice(0)) f.close();
  vi.useRealTimers();
  fs.rmSync(dir, { recursive: true, force: true });
});

function make(over: Partial<RotatingFileOptions> = {}): RotatingFile {
  const f = new RotatingFile({
    dir,
    service: 'svc',
    host: 'h1',
    maxBytes: 64 * 1024 * 1024,
    maxAgeMs: HOUR,
    clock: new ManualClock(utc('2025-01-01T10:17:23.456Z')),
    ...over,
  });
  open.push(f);
  return f;
}

const rotated = (): string[] =>
  fs
    .readdirSync(dir)
    .filter((n) => ROTATED_PATTERN.test(n))
    .sort();
const read = (name: string): string => fs.readFileSync(path.join(dir, name), 'utf8');
/** Every line in shipping order: rotated files by name, then the active file. */
function allLines(): string[] {
  const text = [...rotated(), 'svc.log'].map(read).join('');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}
const line = (i: number, pad = 0): string => `${JSON.stringify({ i, msg: 'x'.repeat(pad) })}\n`;

describe('RotatingFile by size', () => {
  it('keeps every line, whole and in order, and no file over maxBytes', () => {
    const onRotate = vi.fn<(file: string, bytes: number) => void>();
    const f = make({ maxBytes: 1000, onRotate });
    const written: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const l = line(i, (i * 37) % 120);
      written.push(l.slice(0, -1));
      f.write(l);
    }
    f.close();
    expect(allLines()).toEqual(written);
    const names = rotated();
    expect(names.length).toBeGreaterThan(100);
    for (const n of [...names, 'svc.log']) {
      const text = read(n);
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1000);
      expect(text.endsWith('\n')).toBe(true);
    }
    // One frozen second: the names differ (and sort) by seq alone.
    expect(names.map((n) => parseRotatedName(n)?.seq)).toEqual(names.map((_, i) => i));
    expect(onRotate.mock.calls.map(([file, bytes]) => [path.basename(file), bytes])).toEqual(
      names.map((n) => [n, fs.statSync(path.join(dir, n)).size]),
    );
  });

  it('gives a line larger than maxBytes a file of its own, unsplit', () => {
    const f = make({ maxBytes: 100 });
    f.write(line(1));
    f.write(line(2, 500));
    f.write(line(3));
    f.close();
    expect(rotated().map(read)).toEqual([line(1), line(2, 500)]);
    expect(read('svc.log')).toBe(line(3));
  });

  it('counts bytes, not characters', () => {
    const f = make({ maxBytes: 20 });
    f.write('"ééééééé"\n'); // 10 characters, 17 bytes
    f.write('"é"\n');
    f.close();
    expect(rotated()).toHaveLength(1);
  });
});

describe('RotatingFile by age', () => {
  it('rotates at each UTC hour, on write or by the timer check, named by each file’s start', () => {
    const clock = new ManualClock(utc('2025-01-01T10:17:23.456Z'));
    const f = make({ clock });
    f.write(line(1));
    clock.set(utc('2025-01-01T10:59:59.999Z'));
    f.write(line(2));
    expect(rotated()).toEqual([]);
    clock.set(utc('2025-01-01T11:00:00.000Z'));
    f.write(line(3)); // the write notices the hour has passed
    expect(rotated()).toEqual(['svc.20250101T101723Z.h1.000000.log']);
    clock.set(utc('2025-01-01T12:00:00.020Z'));
    f.checkAge(); // no write: the timer's check
    expect(rotated()).toEqual(['svc.20250101T101723Z.h1.000000.log', 'svc.20250101T110000Z.h1.000000.log']);
    clock.set(utc('2025-01-01T13:00:01Z'));
    f.checkAge(); // an empty file is not rotated; its period starts again
    expect(rotated()).toHaveLength(2);
    clock.set(utc('2025-01-01T13:20:00Z'));
    f.write(line(4));
    clock.set(utc('2025-01-02T00:00:00Z')); // across a day, then a year
    f.write(line(5));
    clock.set(utc('2026-01-01T00:00:00Z'));
    f.write(line(6));
    f.close();
    expect(rotated()).toEqual([
      'svc.20250101T101723Z.h1.000000.log',
      'svc.20250101T110000Z.h1.000000.log',
      'svc.20250101T130001Z.h1.000000.log',
      'svc.20250102T000000Z.h1.000000.log',
    ]);
    expect(allLines()).toEqual([1, 2, 3, 4, 5, 6].map((i) => line(i).slice(0, -1)));
  });

  it('aligns other ages to multiples of maxAgeMs since the epoch', () => {
    const clock = new ManualClock(utc('2025-01-01T10:07:00Z'));
    const f = make({ clock, maxAgeMs: 15 * 60_000 });
    f.write(line(1));
    clock.set(utc('2025-01-01T10:14:59Z'));
    f.checkAge();
    expect(rotated()).toEqual([]);
    clock.set(utc('2025-01-01T10:15:00Z'));
    f.checkAge();
    expect(rotated()).toEqual(['svc.20250101T100700Z.h1.000000.log']);
  });

  it('rotates from its own timer, without writes (fake timers drive the system clock)', () => {
    vi.useFakeTimers({ now: utc('2025-01-01T10:59:00Z') });
    const f = make({ clock: systemClock });
    f.write(line(1));
    vi.advanceTimersByTime(59_000);
    expect(rotated()).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(rotated()).toEqual(['svc.20250101T105900Z.h1.000000.log']);
    f.write(line(2));
    vi.advanceTimersByTime(HOUR);
    expect(rotated()).toEqual(['svc.20250101T105900Z.h1.000000.log', 'svc.20250101T110000Z.h1.000000.log']);
  });
});

describe('RotatingFile at start', () => {
  it('rotates a leftover active file first, named by its first line’s time', () => {
    const old = [
      '{"level":30,"time":"2025-01-01T08:00:00.250Z","msg":"a"}',
      '{"level":30,"time":"2025-01-01T08:10:00.000Z","msg":"b"}',
    ];
    fs.writeFileSync(path.join(dir, 'svc.log'), old.map((l) => `${l}\n`).join(''));
    const onRotate = vi.fn();
    const f = make({ clock: new ManualClock(utc('2025-01-01T09:30:00Z')), onRotate });
    expect(rotated()).toEqual(['svc.20250101T080000Z.h1.000000.log']);
    expect(onRotate).toHaveBeenCalledOnce();
    expect(read('svc.log')).toBe('');
    f.write(line(1));
    expect(allLines()).toEqual([...old, line(1).slice(0, -1)]);
  });

  it.each([
    ['not JSON', 'crash mid-way, no JSON here\n'],
    ['a time in seconds', '{"time":1735718400}\n'],
    ['no newline yet', '{"time":"2025-01-01T08:00:00Z"'],
  ])('falls back to the file’s times when the first line has %s', (_what, content) => {
    const file = path.join(dir, 'svc.log');
    fs.writeFileSync(file, content);
    const mtime = new Date('2025-01-01T07:00:05Z');
    fs.utimesSync(file, mtime, mtime);
    make({ clock: new ManualClock(utc('2025-01-01T09:30:00Z')) });
    expect(rotated()).toEqual(['svc.20250101T070005Z.h1.000000.log']);
  });

  it('reuses an empty leftover instead of rotating it', () => {
    fs.writeFileSync(path.join(dir, 'svc.log'), '');
    make().write(line(1));
    expect(rotated()).toEqual([]);
    expect(read('svc.log')).toBe(line(1));
  });

  it('names continue after files of earlier runs, even when the clock stepped back', () => {
    fs.writeFileSync(path.join(dir, 'svc.20250101T090000Z.h1.000003.log'), 'old\n');
    fs.writeFileSync(path.join(dir, 'svc.20250101T100000Z.other-host.000009.log'), 'theirs\n');
    const clock = new ManualClock(utc('2025-01-01T09:00:00.500Z'));
    const f = make({ clock });
    f.write(line(1));
    expect(path.basename(f.rotateNow()!)).toBe('svc.20250101T090000Z.h1.000004.log');
    clock.set(utc('2025-01-01T08:00:00Z'));
    f.write(line(2));
    expect(path.basename(f.rotateNow()!)).toBe('svc.20250101T090000Z.h1.000005.log');
  });

  it('rolls over to the next second after seq 999999', () => {
    fs.writeFileSync(path.join(dir, 'svc.20250101T101723Z.h1.999999.log'), 'old\n');
    const f = make();
    f.write(line(1));
    expect(path.basename(f.rotateNow()!)).toBe('svc.20250101T101724Z.h1.000000.log');
  });

  it('never renames onto an existing file', () => {
    const f = make();
    f.write(line(1));
    fs.writeFileSync(path.join(dir, 'svc.20250101T101723Z.h1.000000.log'), 'someone else’s\n');
    expect(path.basename(f.rotateNow()!)).toBe('svc.20250101T101723Z.h1.000001.log');
    expect(read('svc.20250101T101723Z.h1.000000.log')).toBe('someone else’s\n');
  });

  it.each([
    [{ maxBytes: 0 }],
    [{ maxBytes: 1.5 }],
    [{ maxAgeMs: 999 }],
    [{ maxAgeMs: Number.NaN }],
    [{ bufferBytes: -1 }],
    [{ bufferBytes: 64 * 1024 * 1024 }],
    [{ flushIntervalMs: 0 }],
  ])('rejects %j with LOG_ROTATE_OPTIONS_INVALID', (over) => {
    expect(() => make(over)).toThrow(expect.objectContaining({ code: 101502 }));
  });

  it('fails with LOG_FILE_OPEN_FAILED when the directory cannot be made', () => {
    fs.writeFileSync(path.join(dir, 'a-file'), '');
    let caught: unknown;
    try {
      make({ dir: path.join(dir, 'a-file', 'logs') });
    } catch (e) {
      caught = e;
    }
    expect(isOverseerError(caught) && caught.code).toBe(101504);
  });

  it('creates the directory', () => {
    make({ dir: path.join(dir, 'a', 'b') }).write(line(1));
    expect(fs.readFileSync(path.join(dir, 'a', 'b', 'svc.log'), 'utf8')).toBe(line(1));
  });
});

describe('RotatingFile durability and shutdown', () => {
  it('syncs and renames on rotateNow, skips an empty file, closes twice, drops writes after close', () => {
    const f = make();
    expect(f.rotateNow()).toBeUndefined();
    f.write(line(1));
    const file = f.rotateNow();
    expect(file && fs.readFileSync(file, 'utf8')).toBe(line(1));
    f.write(line(2));
    f.flushSync();
    f.close();
    f.close();
    f.write(line(3));
    expect(f.rotateNow()).toBeUndefined();
    expect(f.stats()).toMatchObject({ rotations: 1, droppedLines: 1 });
    expect(read('svc.log')).toBe(line(2));
  });

  it('buffers up to bufferBytes, flushing on overflow, flushSync, rotation and the timer', async () => {
    const L = Buffer.byteLength(line(1, 20));
    const f = make({ bufferBytes: 3 * L, flushIntervalMs: 20, maxBytes: 4 * L + 10 });
    f.write(line(1, 20));
    f.write(line(2, 20));
    expect(read('svc.log')).toBe('');
    expect(f.stats().bufferedBytes).toBe(2 * L);
    f.write(line(3, 20)); // exactly full
    f.write(line(4, 20)); // would overflow: the buffer goes out first
    expect(read('svc.log')).toBe(line(1, 20) + line(2, 20) + line(3, 20));
    f.flushSync();
    expect(read('svc.log')).toHaveLength(4 * L);
    f.write(line(5, 20)); // would pass maxBytes: rotation, the buffer written before the rename
    expect(rotated().map(read)).toEqual([[1, 2, 3, 4].map((i) => line(i, 20)).join('')]);
    expect(read('svc.log')).toBe('');
    await new Promise((r) => setTimeout(r, 60));
    expect(read('svc.log')).toBe(line(5, 20));
  });

  it('reports a failed write once per minute, counts the lost lines and never throws', () => {
    fs.symlinkSync('/dev/full', path.join(dir, 'svc.log'));
    const onError = vi.fn();
    const clock = new ManualClock(utc('2025-01-01T10:00:00Z'));
    const f = make({ clock, onError });
    for (let i = 0; i < 5; i++) f.write(line(i));
    expect(f.stats().droppedLines).toBe(5);
    expect(onError.mock.calls.map(([e]) => (e as { code: number }).code)).toEqual([101506]);
    clock.advance(60_000);
    f.write(line(9));
    expect(onError).toHaveBeenCalledTimes(2);
  });

  it('reports a failed rotation, keeps writing, and reopens when the active file was removed', () => {
    const onError = vi.fn();
    const f = make({ onError });
    f.write(line(1));
    fs.unlinkSync(path.join(dir, 'svc.log'));
    expect(f.rotateNow()).toBeUndefined();
    expect(onError.mock.calls.map(([e]) => (e as { code: number }).code)).toEqual([101505]);
    f.write(line(2));
    expect(read('svc.log')).toBe(line(2));
  });
});

describe('RotatingFile throughput (sanity, not a timed assertion)', () => {
  it.for([0, 64 * 1024])('bufferBytes %d: 100k lines, all on disk', async (bufferBytes, { annotate }) => {
    const f = make({ bufferBytes, maxBytes: 4 * 1024 * 1024 });
    const l = line(0, 180);
    const t0 = performance.now();
    for (let i = 0; i < 100_000; i++) f.write(l);
    f.close();
    const ms = performance.now() - t0;
    await annotate(`${Math.round(100_000 / (ms / 1000)).toLocaleString('en')} lines/s`);
    expect(allLines()).toHaveLength(100_000);
  });
});
