import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from './clock.js';
import { isOverseerError } from './errors/index.js';
import {
  createLogger,
  DEFAULT_REDACT_PATHS,
  installFatalHandlers,
  parseRotatedName,
  ROTATED_PATTERN,
  type CreateLoggerOptions,
  type ServiceLogger,
} from './logging.js';

let dir: string;
const handles: ServiceLogger[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(tmpdir(), 'overseer-logging-'));
});
afterEach(() => {
  for (const h of handles.splice(0)) h.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function make(over: Partial<CreateLoggerOptions> = {}): ServiceLogger {
  const h = createLogger({ service: 'ledger', dir, host: 'web-1.example', ...over });
  handles.push(h);
  return h;
}

/** Every line of the service, in shipping order (rotated by name, then the active file), parsed. */
function lines(): Record<string, any>[] {
  const names = fs.readdirSync(dir).filter((n) => ROTATED_PATTERN.test(n));
  const text = [...names.sort(), 'ledger.log']
    .map((n) => fs.readFileSync(path.join(dir, n), 'utf8'))
    .join('');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

describe('createLogger', () => {
  it('writes pino JSON lines into <dir>/<service>.log with service, host and the clock’s time', () => {
    const clock = new ManualClock(Date.parse('2025-03-04T05:06:07.089Z'));
    const { logger } = make({ clock, level: 'debug' });
    logger.debug({ tenant: 't1' }, 'hello');
    logger.trace('not at this level');
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 20,
        time: '2025-03-04T05:06:07.089Z',
        service: 'ledger',
        host: 'web-1.example',
        pid: process.pid,
        tenant: 't1',
        msg: 'hello',
      }),
    ]);
  });

  it('redacts secrets at the top level, one level down and in request headers by default', () => {
    const { logger } = make();
    logger.info(
      {
        password: 'pw-top',
        token: 'tok-top',
        apiKey: 'key-top',
        user: { name: 'ann', password: 'pw-nested', apiKey: 'key-nested' },
        db: { secret: 'sec-nested', host: 'db1' },
        req: { method: 'GET', headers: { authorization: 'Bearer s3cr3t', cookie: 'sid=abc', accept: '*/*' } },
        res: { headers: { 'set-cookie': 'sid=def' } },
      },
      'login',
    );
    const raw = fs.readFileSync(path.join(dir, 'ledger.log'), 'utf8');
    for (const secret of ['pw-', 'tok-top', 'key-', 'sec-nested', 's3cr3t', 'sid='])
      expect(raw).not.toContain(secret);
    expect(lines()[0]).toMatchObject({
      password: '[redacted]',
      token: '[redacted]',
      apiKey: '[redacted]',
      user: { name: 'ann', password: '[redacted]', apiKey: '[redacted]' },
      db: { secret: '[redacted]', host: 'db1' },
      req: { method: 'GET', headers: { authorization: '[redacted]', cookie: '[redacted]', accept: '*/*' } },
      res: { headers: { 'set-cookie': '[redacted]' } },
    });
  });

  it('redacts one level down in child bindings too, and leaves the caller’s objects as they were', () => {
    const { logger } = make();
    const user = { name: 'ann', password: 'pw-child' };
    const child = logger.child({ user, token: 'tok-child' });
    const session = { id: 's1', secret: 'sec-grandchild' };
    child.child({ session }).info({ db: { passwd: 'pw-line' } }, 'hello');
    const raw = fs.readFileSync(path.join(dir, 'ledger.log'), 'utf8');
    for (const secret of ['pw-child', 'tok-child', 'sec-grandchild', 'pw-line'])
      expect(raw).not.toContain(secret);
    expect(lines()[0]).toMatchObject({
      user: { name: 'ann', password: '[redacted]' },
      token: '[redacted]',
      session: { id: 's1', secret: '[redacted]' },
      db: { passwd: '[redacted]' },
    });
    expect(user.password).toBe('pw-child');
    expect(session.secret).toBe('sec-grandchild');
  });

  it('takes its own redact paths, replacing or extending the defaults', () => {
    make({ redact: ['card.number'] }).logger.info({ card: { number: '4111', exp: '12/30' }, password: 'p' });
    make({ service: 'other', redact: [...DEFAULT_REDACT_PATHS, 'a.b.c.pin'] }).logger.info({
      a: { b: { c: { pin: '1234' } } },
      password: 'p',
    });
    expect(lines()[0]).toMatchObject({ card: { number: '[redacted]', exp: '12/30' }, password: 'p' });
    const other = JSON.parse(fs.readFileSync(path.join(dir, 'other.log'), 'utf8')) as object;
    expect(other).toMatchObject({ a: { b: { c: { pin: '[redacted]' } } }, password: '[redacted]' });
  });

  it.each([[{ redact: ['a..b'] }], [{ redact: ['a[b'] }], [{ level: 'loud' as 'info' }]])(
    'rejects %j with LOG_LOGGER_OPTIONS_INVALID and leaves no file open',
    (over) => {
      let caught: unknown;
      try {
        createLogger({ service: 'ledger', dir, ...over });
      } catch (e) {
        caught = e;
      }
      expect(isOverseerError(caught) && caught.code).toBe(101503);
    },
  );

  it('rotates through the logger: every line kept, names sorted = time order across hours', () => {
    const clock = new ManualClock(Date.parse('2025-12-31T22:30:00Z'));
    const { logger, rotateNow } = make({ clock, maxBytes: 4096 });
    for (let i = 0; i < 600; i++) {
      logger.info({ i, pad: 'p'.repeat(i % 50) }, 'tick');
      clock.advance(20_000); // 600 × 20 s: past midnight and the new year
    }
    rotateNow();
    const all = lines();
    expect(all.map((l) => l.i as number)).toEqual([...Array(600).keys()]);
    const times = all.map((l) => Date.parse(l.time as string));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const names = fs.readdirSync(dir).filter((n) => ROTATED_PATTERN.test(n));
    expect(names.some((n) => n.includes('.20260101T000000Z.'))).toBe(true);
    for (const n of names) {
      const first = JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8').split('\n')[0]!) as {
        time: string;
      };
      // A file is named by its start, to the second: never after its first line.
      expect(parseRotatedName(n)!.startMs).toBeLessThanOrEqual(Date.parse(first.time));
      expect(parseRotatedName(n)!.host).toBe('web-1-example');
    }
  });
});

describe('installFatalHandlers', () => {
  it('logs the uncaught error at fatal, flushes the buffer, exits 1; uninstall removes it', () => {
    const log = make({ bufferBytes: 1024 * 1024, flushIntervalMs: 60_000 });
    const exit = vi.fn();
    const before = process.listeners('uncaughtException').length;
    const uninstall = installFatalHandlers(log, { exit });
    const handler = process.listeners('uncaughtException').at(-1)!;
    log.logger.info('before');
    expect(fs.readFileSync(path.join(dir, 'ledger.log'), 'utf8')).toBe('');
    handler(new Error('boom'), 'uncaughtException');
    expect(exit).toHaveBeenCalledWith(1);
    expect(lines()).toMatchObject([{ msg: 'before' }, { level: 60, err: { message: 'boom' } }]);
    uninstall();
    expect(process.listeners('uncaughtException')).toHaveLength(before);
  });
});

describe('a crashing service process', () => {
  const repoRoot = path.resolve(import.meta.dirname, '..');
  const script = (): string => {
    const file = path.join(dir, 'service.ts');
    fs.writeFileSync(
      file,
      `import { createLogger, installFatalHandlers } from ${JSON.stringify(pathToFileURL(path.join(repoRoot, 'src/logging.ts')).href)};
const [dir, mode, n] = process.argv.slice(2) as [string, string, string];
const buffered = mode !== 'sigkill';
const log = createLogger({ service: 'svc', dir, maxBytes: 64 * 1024, bufferBytes: buffered ? 256 * 1024 : 0, flushIntervalMs: 60_000 });
installFatalHandlers(log);
for (let i = 0; i < Number(n); i++) log.logger.info({ i }, 'line');
if (mode === 'sigkill') process.kill(process.pid, 'SIGKILL');
if (mode === 'flushed-sigkill') {
  log.flushSync();
  for (let i = 0; i < 100; i++) log.logger.info({ i: -1 }, 'after the flush');
  process.kill(process.pid, 'SIGKILL');
}
if (mode === 'exit') process.exit(0);
if (mode === 'throw') throw new Error('boom');
`,
    );
    return file;
  };
  const run = (mode: string, n: number) => {
    const logs = path.join(dir, 'logs');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script(), logs, mode, String(n)], {
      cwd: repoRoot,
      timeout: 30_000,
      encoding: 'utf8',
    });
    const text = fs
      .readdirSync(logs)
      .sort((a, b) => (a === 'svc.log' ? 1 : b === 'svc.log' ? -1 : a < b ? -1 : 1))
      .map((f) => fs.readFileSync(path.join(logs, f), 'utf8'))
      .join('');
    const parsed = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { i?: number; level: number; err?: { message: string } });
    return { r, parsed, files: fs.readdirSync(logs) };
  };
  const N = 3000;
  const first = (p: { i?: number }[]) => p.filter((l) => (l.i ?? -1) >= 0).map((l) => l.i);

  it('SIGKILL after synchronous writes loses nothing', () => {
    const { r, parsed, files } = run('sigkill', N);
    expect(r.signal).toBe('SIGKILL');
    expect(first(parsed)).toEqual([...Array(N).keys()]);
    expect(files.length).toBeGreaterThan(2); // rotated along the way
  });

  it('buffered: an uncaught exception logs fatal, flushes synchronously and exits 1', () => {
    const { r, parsed } = run('throw', N);
    expect(r.status).toBe(1);
    expect(first(parsed)).toEqual([...Array(N).keys()]);
    expect(parsed.at(-1)).toMatchObject({ level: 60, err: { message: 'boom' } });
  });

  it('buffered: process.exit flushes through the exit hook', () => {
    const { r, parsed } = run('exit', N);
    expect(r.status).toBe(0);
    expect(first(parsed)).toEqual([...Array(N).keys()]);
  });

  it('buffered: SIGKILL loses only what came after the last flush (at most the buffer)', () => {
    const { r, parsed } = run('flushed-sigkill', N);
    expect(r.signal).toBe('SIGKILL');
    expect(first(parsed)).toEqual([...Array(N).keys()]);
    // Of the 100 later lines, those in the buffer are gone (a rotation may have written some out first);
    // every line that did land is whole.
    expect(parsed.length).toBeLessThan(N + 100);
  });
});
