import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isOverseerError } from '../../errors/index.js';
import { postJson } from './types.js';

describe('postJson: every delivery failure is NOTIFICATION_DELIVERY_FAILED with the reason', () => {
  let server: Server;
  let base = '';
  let closedPort = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') res.writeHead(200).end('{}');
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 2_000).unref();
      else res.writeHead(503).end('overloaded, try later');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('resolves on a 2xx answer', async () => {
    await expect(postJson(`${base}/ok`, { a: 1 }, 1_000)).resolves.toBeUndefined();
  });

  it.each([
    ['an HTTP error status', () => `${base}/fail`, /: HTTP 503 overloaded, try later$/],
    ['no answer in time', () => `${base}/slow`, /: no answer within 200 ms$/],
    ['a refused connection', () => `http://127.0.0.1:${closedPort}/x`, /: ECONNREFUSED$/],
  ])('%s', async (_, url, reason) => {
    const err = await postJson(url(), {}, 200).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOverseerError(err)).toBe(true);
    if (!isOverseerError(err)) return;
    expect(err.code).toBe(ErrorCodes.NOTIFICATION_DELIVERY_FAILED);
    expect(err.message).toMatch(reason);
    expect(err.message.startsWith(`POST ${url()}`)).toBe(true);
    expect(err.hint).toMatch(/alarms\.alertmanager\.url/);
  });
});
