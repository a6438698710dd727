import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../http/app.js';
import { inSpan, startTracing } from './tracing.js';

const logger = pino({ level: 'silent' });

interface OtlpSpan {
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

/** A real OTLP/HTTP receiver on loopback that keeps every span it is sent. */
describe('tracing over OTLP/HTTP', () => {
  let server: Server;
  let endpoint: string;
  const spans: OtlpSpan[] = [];
  const contentTypes: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        contentTypes.push(req.headers['content-type'] ?? '');
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
        };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('exports a span per request (named by route) and per background job', async () => {
    const tracing = await startTracing({
      enabled: true,
      endpoint,
      serviceName: 'overseer-test',
      sampleRatio: 1,
      logger,
    });
    const app = createApp({
      registry: new Registry(),
      logger,
      tokens: { verify: () => Promise.resolve(undefined) },
      tracer: tracing.tracer,
      readiness: { notReadyReason: () => undefined },
      routes: [],
    });
    expect((await app.request('/healthz')).status).toBe(200);
    await inSpan(tracing.tracer, 'job.test', () => Promise.resolve(1));
    await tracing.stop(); // flushes
    await tracing.stop(); // and is safe twice

    expect(contentTypes[0]).toContain('json');
    const names = spans.map((s) => s.name);
    expect(names).toContain('GET /healthz');
    expect(names).toContain('job.test');
    const req = spans.find((s) => s.name === 'GET /healthz')!;
    const attr = Object.fromEntries(req.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    expect(attr).toMatchObject({ 'http.route': '/healthz', 'http.request.method': 'GET' });
  });
});
