import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runOverseer, spawnOverseer } from './helpers/cli-process.js';
import { freePort } from './helpers/pg-cluster.js';
import { waitFor } from './helpers/poll.js';

/**
 * `overseer serve` logs through `overseer/logging`: JSON lines on stdout and in `<logs.dirs[0]>/overseer.log`.
 * On SIGTERM it stops HTTP and the components, rotates its own file and ships it in the shipper's last
 * pass. While it runs it holds the ship journal: `overseer logs ship` is refused (error 101720).
 */

type Line = { msg?: string; service?: string; component?: string; level?: number };
const parse = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

describe('overseer serve and its own logs', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'overseer-logs-serve-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('logs to stdout and overseer.log, refuses `logs ship` meanwhile, and ships its own log on SIGTERM', async () => {
    const logs = path.join(root, 'logs');
    const dataDir = path.join(root, 'data');
    const port = await freePort();
    const config = path.join(root, 'overseer.yaml');
    writeFileSync(
      config,
      [
        `server: { listen: "127.0.0.1:${port}" }`,
        `dataDir: ${JSON.stringify(dataDir)}`,
        `logs: { dirs: [${JSON.stringify(logs)}], shipInterval: 1h }`,
        '',
      ].join('\n'),
    );
    const proc = spawnOverseer(['--config', config, 'serve'], {}, root);
    try {
      await waitFor('ready', () => (parse(proc.stdout()).some((l) => l.msg === 'ready') ? true : undefined), {
        timeoutMs: 60_000,
      });
      const own = path.join(logs, 'overseer.log');
      // The same lines in the file as on stdout (the file is written first).
      expect(parse(readFileSync(own, 'utf8')).some((l) => l.msg === 'ready')).toBe(true);

      const refused = await runOverseer(['--config', config, 'logs', 'ship'], {}, root);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(
        /error 101720: the log-ship journal in .* is in use by overseer serve \(pid \d+/,
      );
      expect(refused.stderr).toContain(
        'hint: that process ships these files itself: stop it, or wait for it',
      );
      // Reading is always allowed.
      expect((await runOverseer(['--config', config, 'logs', 'status'], {}, root)).code).toBe(0);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited, proc.stderr()).toBe(0);

    const stdout = parse(proc.stdout());
    expect(stdout.find((l) => l.msg === 'ready')).toMatchObject({ service: 'overseer' });
    // Shipped at shutdown: everything up to the rotation, which came after HTTP and the components stopped.
    // One file, or two when the run crossed an hour (the own log also rotates on each UTC hour).
    const archived = files(path.join(dataDir, 'archive'))
      .filter((f) => f.endsWith('.log.gz'))
      .sort();
    expect(archived.length).toBeGreaterThanOrEqual(1);
    for (const f of archived)
      expect(f).toMatch(
        /archive\/overseer\/[^/]+\/\d{4}\/\d\d\/\d\d\/\d\d\/overseer\.\d{8}T\d{6}Z\.[^/]+\.\d{6}\.log\.gz$/,
      );
    const shipped = archived.flatMap((f) => parse(gunzipSync(readFileSync(f)).toString()));
    const msgs = shipped.map((l) => l.msg);
    expect(msgs).toContain('ready');
    expect(msgs).toContain('stopping');
    expect(msgs.indexOf('stopping')).toBeGreaterThan(msgs.indexOf('ready'));
    // What was logged after the rotation waits in the new active file for the next start.
    const rest = parse(readFileSync(path.join(logs, 'overseer.log'), 'utf8')).map((l) => l.msg);
    expect(rest).toContain('last ship pass done');
    expect(rest.at(-1)).toBe('stopped');
    expect(msgs).not.toContain('stopped');

    // The service is gone, so is its lock: an offline pass now may run (and finds nothing to do).
    const ship = await runOverseer(['--config', config, '--json', 'logs', 'ship'], {}, root);
    expect(ship.code, ship.stderr).toBe(0);
    expect(JSON.parse(ship.stdout)).toMatchObject({ uploaded: 0, failed: 0, backlog: { files: 0 } });
  });
});
