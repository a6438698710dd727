import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithBinaries } from './helpers/integration.js';
import { startTestOverseer, type TestOverseer } from './helpers/overseer-instance.js';
import { freePort } from './helpers/pg-cluster.js';
import { waitFor } from './helpers/poll.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

const fixtures = path.join(import.meta.dirname, 'fixtures/alarms');

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  endsAt: string;
  status: { state: string };
}
interface WebhookPayload {
  version: string;
  status: string;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

describeWithBinaries(
  ['alertmanager'],
  'delivery to a real Alertmanager and a webhook that is down, then back',
  (bins) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'overseer-notify-'));
    let db: TestDatabase;
    let am: ChildProcess;
    let amUrl: string;
    let exporter: Server;
    let failing = true;
    let count = 0;
    let hookPort: number;
    let hook: Server | undefined;
    const received: WebhookPayload[] = [];
    let overseer: TestOverseer;

    const startHook = async (): Promise<void> => {
      hook = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          received.push(JSON.parse(body) as WebhookPayload);
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((r) => hook!.listen(hookPort, '127.0.0.1', r));
    };

    beforeAll(async () => {
      db = await createTestDatabase();
      const amPort = await freePort();
      amUrl = `http://127.0.0.1:${amPort}`;
      writeFileSync(path.join(dir, 'am.yml'), "route: { receiver: 'null' }\nreceivers: [{ name: 'null' }]\n");
      am = spawn(
        bins.alertmanager,
        [
          `--config.file=${path.join(dir, 'am.yml')}`,
          `--storage.path=${path.join(dir, 'am-data')}`,
          `--web.listen-address=127.0.0.1:${amPort}`,
          '--cluster.listen-address=',
        ],
        { stdio: 'ignore' },
      );
      await waitFor(
        'Alertmanager ready',
        async () => ((await fetch(`${amUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined),
        {
          timeoutMs: 30_000,
        },
      );
      exporter = createServer((_req, res) => {
        if (failing) count += 2;
        res
          .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
          .end(`errors_total{code="104211"} ${count}\n`);
      });
      await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
      hookPort = await freePort(); // nothing listens yet: the webhook starts out down
      writeFileSync(path.join(dir, 'codes.yml'), 'classes:\n  server: { keepFiringFor: 1s }\n');
      overseer = await startTestOverseer(
        db,
        {
          scrapeInterval: '1s',
          scrapeTimeout: '900ms',
          targets: [
            {
              url: `http://127.0.0.1:${(exporter.address() as AddressInfo).port}/metrics`,
              labels: { job: 'billing' },
            },
          ],
        },
        {
          alarms: {
            catalog: path.join(dir, 'codes.yml'),
            codeSources: [{ dir: path.join(fixtures, 'billing/src'), language: 'ts' }],
            alertmanager: { url: amUrl },
            webhooks: [{ url: `http://127.0.0.1:${hookPort}/hook` }],
            delivery: { resendInterval: '1s', backoffMax: '500ms', failingAfter: '1s' },
          },
        },
      );
    });
    afterAll(async () => {
      await overseer?.stop();
      hook?.close();
      await new Promise((r) => exporter?.close(r));
      am?.kill('SIGTERM');
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const amAlerts = async (): Promise<AmAlert[]> =>
      (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as AmAlert[];

    it('the firing alarm appears in Alertmanager with its labels and annotations', async () => {
      const a = await waitFor('the alert in Alertmanager', async () =>
        (await amAlerts()).find((x) => x.labels.alertname === 'ErrorCode104211'),
      );
      expect(a.labels).toMatchObject({ code: '104211', job: 'billing', severity: 'page', class: 'server' });
      expect(a.annotations).toMatchObject({ source: 'src/pay.ts:4' });
      expect(a.status.state).toBe('active');
    });

    it('a webhook that stays down raises the OverseerNotificationsFailing self-alarm', async () => {
      const self = await waitFor('the self-alarm', async () => {
        const { alarms } = await overseer.get<{
          alarms: Array<{
            alertname: string;
            labels: Record<string, string>;
            annotations: Record<string, string>;
          }>;
        }>('/api/v1/alarms?state=firing');
        return alarms.find((a) => a.alertname === 'OverseerNotificationsFailing');
      });
      expect(self.labels.notifier).toMatch(/^webhook http:\/\/127\.0\.0\.1:\d+\/hook$/);
      // The reason carries its error code: the connection was refused at the webhook's URL.
      expect(self.annotations.description).toMatch(
        /^error 101008: POST http:\/\/127\.0\.0\.1:\d+\/hook: ECONNREFUSED$/,
      );
      const metrics = await (await fetch(`${overseer.url}/metrics`)).text();
      expect(metrics).toMatch(/overseer_notification_failures_total\{notifier="webhook [^"]+"\} [1-9]/);
      expect(metrics).toMatch(/errors_total\{code="101008"\} [1-9]/);
    });

    it('once the webhook is back it gets the firing alert (nothing lost), then the resolution; Alertmanager resolves it too', async () => {
      await startHook();
      const firing = await waitFor('the firing alert at the webhook', () =>
        received.flatMap((p) => p.alerts).find((a) => a.status === 'firing'),
      );
      expect(received[0]!.version).toBe('4');
      expect(firing.labels).toMatchObject({ alertname: 'ErrorCode104211', job: 'billing' });
      failing = false;
      await waitFor(
        'the resolution at the webhook',
        () => received.flatMap((p) => p.alerts).find((a) => a.status === 'resolved'),
        { timeoutMs: 30_000 },
      );
      await waitFor(
        'Alertmanager to drop the resolved alert from its active list',
        async () =>
          (await amAlerts()).some((x) => x.labels.alertname === 'ErrorCode104211') ? undefined : true,
        { timeoutMs: 30_000 },
      );
      const { alarms } = await overseer.get<{ alarms: Array<{ alertname: string }> }>(
        '/api/v1/alarms?state=firing',
      );
      expect(alarms.some((a) => a.alertname === 'OverseerNotificationsFailing')).toBe(false);
    });
  },
);
