import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import type { CliContext } from './context.js';

/** A stand-in for GET /api/v1/billing/usage: two JSON pages, or CSV; it records what it was asked. */
function usageStub(asked: URL[]): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    asked.push(url);
    if (req.headers.authorization !== 'Bearer tok') {
      res.writeHead(401, { 'content-type': 'application/problem+json' });
      return res.end(JSON.stringify({ title: 'no', code: 100303 }));
    }
    if (url.searchParams.get('format') === 'csv') {
      res.writeHead(200, { 'content-type': 'text/csv' });
      return res.end('tenant,space,hour,cpu_ms\nt1,s1,2026-11-25T10:00:00.000Z,100\n');
    }
    const row = (space: string) => ({ tenant: 't1', space, hour: '2026-11-25T10:00:00.000Z', cpuMs: 100 });
    const first = url.searchParams.get('cursor') === null;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        granularity: 'hour',
        rows: first ? [row('s1')] : [row('s2')],
        nextCursor: first ? 'page2' : null,
      }),
    );
  });
}

describe('overseer billing usage', () => {
  const asked: URL[] = [];
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = usageStub(asked);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const ctx: CliContext = {
      env: { OVERSEER_URL: url, OVERSEER_TOKEN: 'tok' },
      output: { out: (t) => out.push(t), err: (t) => err.push(t) },
      stopSignal: () => new Promise<string>(() => {}),
    };
    asked.length = 0;
    const code = await runCli(['billing', 'usage', ...argv], ctx);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('follows every page and prints one table', async () => {
    const r = await run('--tenant', 't1', '--from', '2026-11-01', '--to', '2026-12-01', '--space', 's1');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      'TENANT  SPACE  HOUR                      CPU_MS',
      't1      s1     2026-11-25T10:00:00.000Z  100',
      't1      s2     2026-11-25T10:00:00.000Z  100',
    ]);
    expect(asked.map((u) => u.search)).toEqual([
      '?tenant=t1&from=2026-11-01&to=2026-12-01&space=s1',
      '?tenant=t1&from=2026-11-01&to=2026-12-01&space=s1&cursor=page2',
    ]);
  });

  it('--json prints the rows of every page; without --from/--to it asks for this UTC month', async () => {
    const r = await run('--tenant', 't1', '--json');
    expect(JSON.parse(r.out)).toHaveLength(2);
    const q = asked[0]!.searchParams;
    expect(q.get('from')).toMatch(/^\d{4}-\d{2}-01$/);
    expect(q.get('to')).toMatch(/^\d{4}-\d{2}-01$/);
    expect(q.get('from')! < q.get('to')!).toBe(true);
  });

  it('--csv asks for format=csv and prints the body as it is', async () => {
    const r = await run('--tenant', 't1', '--csv', '--granularity', 'day');
    expect(r.code).toBe(0);
    expect(r.out).toBe('tenant,space,hour,cpu_ms\nt1,s1,2026-11-25T10:00:00.000Z,100\n');
    expect(asked[0]!.searchParams.get('format')).toBe('csv');
    expect(asked[0]!.searchParams.get('granularity')).toBe('day');
  });
});
