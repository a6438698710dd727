import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isOverseerError } from '../errors/index.js';
import { ApiClient, apiFailureOf } from './client.js';

describe('ApiClient failures', () => {
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/stale') {
        res.writeHead(409, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ title: 'plan is stale', code: 101907, hint: 'look again', errors: ['x'] }));
      } else {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it.each([
    ['/stale', 409, 101907],
    ['/other', 502, undefined],
  ])('%s: a coded CLI error whose cause has the status and the server code', async (path, status, code) => {
    const err = await new ApiClient({ baseUrl, token: 't' }).request('POST', path).catch((e: unknown) => e);
    expect(isOverseerError(err) && err.code).toBe(ErrorCodes.CLI_API_ERROR);
    expect((err as Error).cause).toEqual({ status, code });
    expect(apiFailureOf(err)).toEqual({ status, code });
  });

  it('an error that is no API failure has none', () => {
    expect(apiFailureOf(new Error('x'))).toBeUndefined();
    expect(apiFailureOf('x')).toBeUndefined();
  });
});
