import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOverseer } from './helpers/cli-process.js';
import { startTestOverseer, type TestOverseer } from './helpers/overseer-instance.js';
import { waitFor } from './helpers/poll.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

const fixtures = path.join(import.meta.dirname, 'fixtures/alarms');

interface AlarmJson {
  id: string;
  alertname: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ackedBy: string | null;
}

describe('built-in evaluator on scraped errors_total', () => {
  let db: TestDatabase;
  let exporter: Server;
  let failing = true;
  let count = 0;
  let overseer: TestOverseer;
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-eval-it-'));
  const catalog = path.join(dir, 'codes.yml');
  let config: () => Promise<TestOverseer>;

  beforeAll(async () => {
    db = await createTestDatabase();
    exporter = createServer((_req, res) => {
      if (failing) count += 3;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        `# TYPE errors_total counter\nerrors_total{code="104211"} ${count}\nerrors_total{code="104212"} 0\n`,
      );
    });
    await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(exporter.address() as AddressInfo).port}/metrics`;
    writeFileSync(catalog, 'classes:\n  server: { keepFiringFor: 2s }\n');
    const dataDir = path.join(dir, 'data');
    config = () =>
      startTestOverseer(
        db,
        { scrapeInterval: '1s', scrapeTimeout: '900ms', targets: [{ url, labels: { job: 'billing' } }] },
        {
          dataDir,
          alarms: { catalog, codeSources: [{ dir: path.join(fixtures, 'billing/src'), language: 'ts' }] },
        },
      );
    overseer = await config();
  });
  afterAll(async () => {
    await overseer?.stop();
    await new Promise((r) => exporter?.close(r));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const alarms = async (state?: string) =>
    (await overseer.get<{ alarms: AlarmJson[] }>(`/api/v1/alarms${state ? `?state=${state}` : ''}`)).alarms;

  it('a rising error count fires ErrorCode104211 with the code, class, job and source line', async () => {
    const [a] = await waitFor('a firing alarm', async () => {
      const list = await alarms('firing');
      return list.length > 0 ? list : undefined;
    });
    expect(a).toMatchObject({
      alertname: 'ErrorCode104211',
      labels: { code: '104211', job: 'billing', severity: 'page', class: 'server' },
      annotations: {
        source: 'src/pay.ts:4',
        summary: 'billing: error 104211 (LEDGER_UNREACHABLE) is being raised',
      },
    });
    // The flat code never fires.
    expect((await alarms()).some((x) => x.alertname === 'ErrorCode104212')).toBe(false);
    const cli = await runOverseer(['alarms', 'list', '--state', 'firing'], {
      OVERSEER_URL: overseer.url,
      OVERSEER_TOKEN: overseer.token,
    });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^ID\s+ALERT\s+STATE\s+JOB\s+SEVERITY\s+SOURCE/m);
    expect(cli.stdout).toMatch(/ErrorCode104211\s+firing\s+billing\s+page\s+src\/pay\.ts:4/);
  });

  it('an ack is kept, and a restart loses neither the firing alarm nor its ack', async () => {
    const [a] = await alarms('firing');
    const acked = await overseer.get<{ ackedBy: string }>(`/api/v1/alarms/${a!.id}/ack`, 'POST');
    expect(acked.ackedBy).toBe('admin (bootstrap)');
    await overseer.stop();
    overseer = await config();
    const after = await alarms();
    expect(after.find((x) => x.id === a!.id)).toMatchObject({
      state: 'firing',
      ackedBy: 'admin (bootstrap)',
    });
  });

  it('silences: created, listed, applied to the alarm, expired; bad matchers get a clear coded error', async () => {
    const env = { OVERSEER_URL: overseer.url, OVERSEER_TOKEN: overseer.token };
    const made = await runOverseer(
      [
        'alarms',
        'silence',
        '{alertname="ErrorCode104211", job=~"bill.*"}',
        '--duration',
        '1h',
        '--comment',
        'deploying',
        '--json',
      ],
      env,
    );
    expect(made.code, made.stderr).toBe(0);
    const { id } = JSON.parse(made.stdout) as { id: string };
    expect((await alarms('firing'))[0]).toMatchObject({ silenced: true });
    const list = await runOverseer(['alarms', 'silences'], env);
    expect(list.stdout).toMatch(
      new RegExp(`${id}\\s+active\\s+alertname="ErrorCode104211",job=~"bill\\.\\*"`),
    );
    const bad = await runOverseer(['alarms', 'silence', 'job==x', '--duration', '1h', '--comment', 'x'], env);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/server error 101005/);
    const gone = await runOverseer(['alarms', 'unsilence', id], env);
    expect(gone.code, gone.stderr).toBe(0);
    expect((await alarms('firing'))[0]).toMatchObject({ silenced: false });
  });

  it('when the errors stop it resolves after the range and keep_firing_for', async () => {
    failing = false;
    const resolved = await waitFor(
      'the alarm to resolve',
      async () => (await alarms('resolved')).find((x) => x.alertname === 'ErrorCode104211'),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(resolved.state).toBe('resolved');
    expect(await alarms('firing')).toEqual([]);
  });

  it('unknown state filter and unknown alarm: clear errors with codes', async () => {
    const bad = await fetch(`${overseer.url}/api/v1/alarms?state=loud`, {
      headers: { authorization: `Bearer ${overseer.token}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: number }).code).toBe(101003);
    const none = await fetch(`${overseer.url}/api/v1/alarms/999999/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${overseer.token}` },
    });
    expect(none.status).toBe(404);
    expect(((await none.json()) as { code: number }).code).toBe(101004);
  });
});
