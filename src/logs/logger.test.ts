import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../config.js';
import { ROTATED_PATTERN } from './log-names.js';
import { createLogger, createOverseerLogger, OWN_SERVICE, type RootLogger } from './logger.js';
import { Tee } from './tee.js';

let dir: string;
const roots: RootLogger[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(tmpdir(), 'overseer-root-logger-'));
});
afterEach(() => {
  for (const r of roots.splice(0)) r.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A destination that keeps what it is given (stdout's stand-in). */
function sink(opts: { throws?: boolean } = {}) {
  const chunks: string[] = [];
  let flushed = 0;
  return {
    chunks,
    flushed: () => flushed,
    write(chunk: string) {
      if (opts.throws) throw new Error('EPIPE (test)');
      chunks.push(chunk);
    },
    flushSync() {
      flushed++;
    },
  };
}

const parse = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const fileLines = (d: string) =>
  fs
    .readdirSync(d)
    .sort((a, b) => (a === `${OWN_SERVICE}.log` ? 1 : b === `${OWN_SERVICE}.log` ? -1 : a < b ? -1 : 1))
    .flatMap((n) => parse(fs.readFileSync(path.join(d, n), 'utf8')));

function root(...args: Parameters<typeof createLogger>): RootLogger {
  const r = createLogger(...args);
  roots.push(r);
  return r;
}

describe("Overseer's root logger", () => {
  it('writes each line into <dir>/overseer.log and the same bytes to stdout', () => {
    const out = sink();
    const r = root({
      level: 'info',
      destination: out,
      file: { dir, maxBytes: 1 << 20, maxAgeMs: 3_600_000 },
    });
    r.logger.child({ component: 'http' }).info({ status: 200 }, 'served');
    r.logger.debug('below the level');
    const text = fs.readFileSync(path.join(dir, 'overseer.log'), 'utf8');
    expect(out.chunks.join('')).toBe(text);
    expect(parse(text)).toEqual([
      expect.objectContaining({
        service: 'overseer',
        component: 'http',
        status: 200,
        msg: 'served',
        level: 30,
      }),
    ]);
    expect(r.file?.destination.file).toBe(path.join(dir, 'overseer.log'));
  });

  it.each([
    ['the defaults', undefined, { authorization: '[redacted]', token: '[redacted]', user: 'ann' }],
    [
      'configured paths, which replace the defaults',
      ['user'],
      { authorization: 'Bearer x', token: 't', user: '[redacted]' },
    ],
  ])('redacts secrets with %s, in the file and on stdout alike', (_name, redact, expected) => {
    const out = sink();
    const r = root({
      level: 'info',
      destination: out,
      file: { dir, maxBytes: 1 << 20, maxAgeMs: 3_600_000 },
      ...(redact ? { redact } : {}),
    });
    r.logger.info({
      req: { headers: { authorization: 'Bearer x' } },
      authorization: 'Bearer x',
      token: 't',
      user: 'ann',
    });
    const [line] = fileLines(dir);
    expect(line).toMatchObject(expected);
    expect(parse(out.chunks.join(''))).toEqual([line]);
  });

  it('without a folder writes to stdout only, still redacting', () => {
    const out = sink();
    const r = root({ level: 'info', destination: out });
    r.logger.info({ password: 'hunter2' }, 'hello');
    expect(r.file).toBeUndefined();
    expect(parse(out.chunks.join(''))).toEqual([
      expect.objectContaining({ password: '[redacted]', msg: 'hello' }),
    ]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('keeps every line in the file when stdout breaks', () => {
    const r = root({
      level: 'info',
      destination: sink({ throws: true }),
      file: { dir, maxBytes: 1 << 20, maxAgeMs: 3_600_000 },
    });
    for (let i = 0; i < 10; i++) r.logger.info({ i });
    expect(fileLines(dir).map((l) => l.i)).toEqual([...Array(10).keys()]);
  });

  it('flushes both streams on flushSync, and pino does after a fatal line', () => {
    const out = sink();
    const r = root({
      level: 'info',
      destination: out,
      file: { dir, maxBytes: 1 << 20, maxAgeMs: 3_600_000 },
    });
    r.flushSync();
    expect(out.flushed()).toBe(1);
    r.logger.fatal('bye');
    expect(out.flushed()).toBe(2);
  });
});

describe('createOverseerLogger (serve)', () => {
  const config = (logs: Record<string, unknown>) =>
    configSchema.parse({ log: { level: 'debug' }, logs: { ...logs } });

  it('writes into the first logs.dirs folder, rotated per logs.rotate, with logs.redact', () => {
    const first = path.join(dir, 'a');
    const r = createOverseerLogger(
      config({ dirs: [first, path.join(dir, 'b')], rotate: { maxBytes: '1KiB' }, redact: ['tenantKey'] }),
      { stdout: sink() },
    );
    roots.push(r);
    for (let i = 0; i < 40; i++) r.logger.debug({ i, tenantKey: 'k' }, 'x'.repeat(50));
    expect(fs.readdirSync(first).filter((n) => ROTATED_PATTERN.test(n)).length).toBeGreaterThan(2);
    const lines = fileLines(first);
    expect(lines.map((l) => l.i)).toEqual([...Array(40).keys()]);
    expect(new Set(lines.map((l) => l.tenantKey))).toEqual(new Set(['[redacted]']));
    expect(fs.existsSync(path.join(dir, 'b'))).toBe(false);
  });

  it('logs to stdout only when logs.dirs is empty', () => {
    const r = createOverseerLogger(config({ dirs: [] }), { stdout: sink() });
    roots.push(r);
    expect(r.file).toBeUndefined();
  });
});

describe('Tee', () => {
  it('writes the primary first and survives a throwing flush', () => {
    const order: string[] = [];
    const tee = new Tee(
      { write: (c: string) => void order.push(`file ${c}`), flushSync: () => void order.push('file flush') },
      {
        write: (c: string) => void order.push(`out ${c}`),
        flushSync: () => {
          throw new Error('sonic boom is not ready yet');
        },
      },
    );
    tee.write('a');
    tee.flushSync();
    expect(order).toEqual(['file a', 'out a', 'file flush']);
  });
});

describe('a crashing serve process', () => {
  it('ends in a fatal line, flushed into the file and onto stdout, and exit 1', () => {
    const repoRoot = path.resolve(import.meta.dirname, '../..');
    const script = path.join(dir, 'crash.ts');
    const url = (p: string) => JSON.stringify(pathToFileURL(path.join(repoRoot, p)).href);
    fs.writeFileSync(
      script,
      `import { createOverseerLogger } from ${url('src/logs/logger.ts')};
import { configSchema } from ${url('src/config.ts')};
const root = createOverseerLogger(configSchema.parse({ logs: { dirs: [process.argv[2]] } }));
root.installFatalHandlers();
for (let i = 0; i < 2000; i++) root.logger.info({ i }, 'line');
setImmediate(() => { throw new Error('boom'); });
`,
    );
    const logs = path.join(dir, 'logs');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, logs], {
      cwd: repoRoot,
      timeout: 30_000,
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    const inFile = fileLines(logs);
    expect(inFile.filter((l) => typeof l.i === 'number')).toHaveLength(2000);
    expect(inFile.at(-1)).toMatchObject({ level: 60, err: { message: 'boom' } });
    const onStdout = parse(r.stdout);
    expect(onStdout).toHaveLength(2001);
    expect(onStdout.at(-1)).toMatchObject({ level: 60, err: { message: 'boom' } });
  });
});
