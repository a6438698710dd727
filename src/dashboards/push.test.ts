import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isOverseerError } from '../errors/index.js';
import { generate } from './generate.js';
import { pushRulesToPrometheus, pushToGrafana } from './push.js';

// Grafana does not run on this machine (no Debian package): a receiver that answers as its
// POST /api/dashboards/db does stands in for it. Prometheus's reload is tested against the real one in
// test/dashboards-prometheus.integration.test.ts.
describe('push to a Grafana HTTP API', () => {
  let server: Server;
  let url = '';
  const received: Array<{ auth: string | undefined; body: Record<string, unknown> }> = [];
  let refuseUid: string | undefined;
  const generated = generate({ families: [], codes: [], ruleOptions: { scrapeIntervalMs: 15_000 } });

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as { dashboard: { uid: string } };
        if (req.url !== '/api/dashboards/db' || req.method !== 'POST') return res.writeHead(404).end();
        if (body.dashboard.uid === refuseUid) return res.writeHead(412).end('{"message":"version-mismatch"}');
        received.push({ auth: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('sends every dashboard with the token, overwrite on its uid, and the folder', async () => {
    const progress: string[] = [];
    const pushed = await pushToGrafana(generated, { url, token: 'glsa_x', folderUid: 'ops' }, (n, t, uid) =>
      progress.push(`${n}/${t} ${uid}`),
    );
    expect(pushed).toEqual(generated.dashboards.map((d) => d.uid));
    expect(progress.at(-1)).toBe(`${pushed.length}/${pushed.length} ${pushed.at(-1)}`);
    expect(received).toHaveLength(pushed.length);
    for (const r of received) {
      expect(r.auth).toBe('Bearer glsa_x');
      expect(r.body).toMatchObject({ overwrite: true, folderUid: 'ops', dashboard: { id: null } });
    }
    expect(received.map((r) => (r.body.dashboard as { uid: string }).uid)).toEqual(pushed);
  });

  it('a refusal is GRAFANA_PUSH_FAILED naming the dashboard and what was pushed before it', async () => {
    received.length = 0;
    refuseUid = generated.dashboards[1]!.uid;
    const err = await pushToGrafana(generated, { url, token: undefined, folderUid: undefined }).catch(
      (e: unknown) => e,
    );
    expect(isOverseerError(err) && err.code).toBe(ErrorCodes.GRAFANA_PUSH_FAILED);
    if (!isOverseerError(err)) return;
    expect(err.message).toContain(`dashboard ${refuseUid}: HTTP 412`);
    expect(err.details).toEqual([`pushed before it: ${generated.dashboards[0]!.uid}`]);
    expect(received[0]!.auth).toBeUndefined();
  });
});

describe('rules into a Prometheus rules folder', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-push-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const generated = generate({ families: [], codes: [], ruleOptions: { scrapeIntervalMs: 15_000 } });

  it('writes the rule files (not their tests), whole, and reports an unreachable reload with its code', async () => {
    const err = await pushRulesToPrometheus(generated, {
      rulesDir: path.join(dir, 'rules'),
      url: 'http://127.0.0.1:1',
    }).catch((e: unknown) => e);
    expect(readdirSync(path.join(dir, 'rules')).sort()).toEqual(['error-codes.yml', 'node.yml']);
    for (const f of generated.rules)
      expect(readFileSync(path.join(dir, 'rules', path.basename(f.path)), 'utf8')).toBe(f.content);
    expect(isOverseerError(err) && err.code).toBe(ErrorCodes.PROMETHEUS_RELOAD_FAILED);
  });
});
