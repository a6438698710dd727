import { trace } from '@opentelemetry/api';
import type { Hono } from 'hono';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/test-db.js';
import { systemClock } from '../clock.js';
import { AuditLog } from '../db/audit-log.js';
import { migrateToLatest } from '../db/migrate.js';
import { openDatabase, type OpenedDatabase } from '../db/open.js';
import { createErrorCounter } from '../instrument.js';
import { createApp } from './app.js';
import { requireRole } from './auth.js';
import type { AppEnv } from './env.js';
import { tokenRoutes } from './routes/tokens.js';
import { TokenStore } from './tokens.js';

const logger = pino({ level: 'silent' });

describe('HTTP app on real Postgres: auth, roles, problem+json', () => {
  let testDb: TestDatabase;
  let opened: OpenedDatabase;
  let app: Hono<AppEnv>;
  let ready: string | undefined = 'starting';
  const registry = new Registry();
  const tok: Record<string, string> = {};

  beforeAll(async () => {
    testDb = await createTestDatabase();
    opened = await openDatabase({ url: testDb.url, dataDir: '/nonexistent', logger });
    await migrateToLatest(opened.db, logger);
    const tokens = new TokenStore({ db: opened.db, clock: systemClock });
    for (const role of ['admin', 'operator', 'viewer', 'tenant:t1'] as const) {
      tok[role] = (await tokens.create(role, role)).token;
    }
    const revoked = await tokens.create('gone', 'admin');
    await tokens.revoke(revoked.id);
    tok.revoked = revoked.token;
    app = createApp({
      registry,
      errors: createErrorCounter(registry),
      logger,
      tokens,
      tracer: trace.getTracer('test'),
      readiness: { notReadyReason: () => ready },
      routes: [
        tokenRoutes({ tokens, audit: new AuditLog({ db: opened.db }) }),
        (api) => {
          api.get('/test/viewer', requireRole('viewer'), (c) => c.json({ ok: true }));
          api.post('/test/operator', requireRole('operator'), (c) => c.json({ ok: true }));
          api.get('/test/boom', () => {
            throw new Error('secret internals');
          });
        },
      ],
    });
  });
  afterAll(async () => {
    await opened?.close();
    await testDb?.drop();
  });

  const call = (path: string, token?: string, init: RequestInit = {}) =>
    app.request(path, {
      ...init,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
    });

  it.each([
    ['an answer', '/api/v1/whoami', 'admin', 200],
    ['no token', '/api/v1/whoami', undefined, 401],
    ['no such path', '/api/v1/nope', 'admin', 404],
    ['a probe', '/healthz', undefined, 200],
  ] as const)(
    'every response carries x-request-id, the caller’s if it sent one: %s',
    async (_n, p, who, status) => {
      const token = who === undefined ? undefined : tok[who];
      const mine = await call(p, token, { headers: { 'x-request-id': 'req-42' } });
      expect([mine.status, mine.headers.get('x-request-id')]).toEqual([status, 'req-42']);
      const made = await call(p, token);
      expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('counts every error it answers in errors_total{code}, unexpected ones as 100302', async () => {
    await call('/api/v1/whoami');
    await call('/api/v1/whoami');
    await call('/api/v1/test/boom', tok.admin);
    const text = await registry.metrics();
    expect(text).toMatch(/^errors_total\{code="100303"\} [2-9]/m);
    expect(text).toMatch(/^errors_total\{code="100302"\} [1-9]/m);
  });

  it('/healthz, /readyz and /metrics need no token; /readyz follows readiness', async () => {
    expect((await call('/healthz')).status).toBe(200);
    const notReady = await call('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('starting');
    ready = undefined;
    expect((await call('/readyz')).status).toBe(200);
    const metrics = await call('/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain(
      'overseer_http_requests_total{method="GET",route="/readyz",status="200"}',
    );
  });

  it.each([
    ['/api/v1/test/viewer', undefined, 401, 100303],
    ['/api/v1/does/not/exist', undefined, 401, 100303],
    ['/api/nothing-here', undefined, 401, 100303],
    ['/api/v1/test/viewer', 'wrong', 401, 100304],
    ['/api/v1/test/viewer', 'revoked', 401, 100304],
    ['/api/v1/test/viewer', 'tenant:t1', 403, 100305],
    ['/api/v1/tokens', 'operator', 403, 100305],
    ['/api/v1/does/not/exist', 'viewer', 404, 100301],
    ['/api/v1/test/boom', 'viewer', 500, 100302],
  ])('GET %s with %s token → %i (code %i)', async (path, who, status, code) => {
    const res = await call(path, who === undefined ? undefined : (tok[who] ?? who));
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status, code, instance: path, type: `urn:overseer:error:${code}` });
    expect(typeof body.title).toBe('string');
    expect(typeof body.detail).toBe('string');
    expect(JSON.stringify(body)).not.toContain('secret internals');
    if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it.each([
    ['viewer', 'GET', '/api/v1/test/viewer', 200],
    ['operator', 'GET', '/api/v1/test/viewer', 200],
    ['admin', 'GET', '/api/v1/test/viewer', 200],
    ['viewer', 'POST', '/api/v1/test/operator', 403],
    ['operator', 'POST', '/api/v1/test/operator', 200],
    ['admin', 'POST', '/api/v1/test/operator', 200],
    ['tenant:t1', 'GET', '/api/v1/whoami', 200],
  ])('%s may %s %s → %i', async (who, method, path, status) => {
    expect((await call(path, tok[who], { method })).status).toBe(status);
  });

  it('admin creates a token for a role; it works at once, and the change is audited', async () => {
    const res = await call('/api/v1/tokens', tok.admin, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci', role: 'operator' }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { token: string; id: number };
    const me = await call('/api/v1/whoami', created.token);
    expect(await me.json()).toMatchObject({ name: 'ci', role: 'operator' });
    const list = (await (await call('/api/v1/tokens', tok.admin)).json()) as {
      tokens: Array<{ name: string; lastUsedAt: string | null }>;
    };
    expect(list.tokens.find((t) => t.name === 'ci')?.lastUsedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.stringify(list)).not.toContain(created.token);
    const audit = (await (await call('/api/v1/audit', tok.operator)).json()) as {
      entries: Array<{ action: string }>;
    };
    expect(audit.entries[0]).toMatchObject({
      action: 'token.create',
      actor: 'admin',
      subject: `token/${created.id}`,
    });
    // Only the hash is stored.
    const stored = await opened.db.selectFrom('api_tokens').select('token_sha256').execute();
    expect(stored.map((r) => r.token_sha256)).not.toContain(created.token);
  });

  it.each([
    ['not JSON', '{', 400, 100308],
    ['missing role', '{"name":"x"}', 400, 100306],
    ['unknown role', '{"name":"x","role":"root"}', 400, 100701],
  ])('bad token request (%s) → %i with code %i', async (_n, body, status, code) => {
    const res = await call('/api/v1/tokens', tok.admin, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { code: number }).code).toBe(code);
  });
});
