import { randomUUID } from 'node:crypto';
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { Hono, type Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ErrorCodes, OverseerError, isOverseerError } from '../errors/index.js';
import type { ErrorCounter } from '../instrument.js';
import { authenticate, type TokenVerifier } from './auth.js';
import type { AppEnv } from './env.js';
import { createHttpMetrics } from './http-metrics.js';
import { problemResponse } from './problem.js';

export interface Readiness {
  /** Undefined when ready; otherwise why not (e.g. "migrating", "starting collector"). */
  notReadyReason(): string | undefined;
}

export interface AppDeps {
  registry: Registry;
  logger: Logger;
  tokens: TokenVerifier;
  readiness: Readiness;
  tracer: Tracer;
  /** Mounts the API routes of each area under /api/v1 (already authenticated). */
  routes: ReadonlyArray<(api: Hono<AppEnv>) => void>;
  /** Counts every error answered, by code (errors_total{code}), so Overseer alarms on its own codes. */
  errors?: ErrorCounter;
  /** Paths outside /api that need no token (like /metrics), e.g. the embedded node metrics. */
  publicRoutes?: ReadonlyArray<(app: Hono<AppEnv>) => void>;
}

const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/metrics/node']);

/** The route pattern that answered (bounded cardinality for metrics and span names), or "unmatched". */
function routeOf(c: Context<AppEnv, any, any>): string {
  const routes = matchedRoutes(c as unknown as Context).filter((r) => r.method !== 'ALL');
  return routes.at(-1)?.path ?? 'unmatched';
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const metrics = createHttpMetrics(deps.registry);

  // Outermost: request id, span, metrics and one log line per request, whatever happens inside.
  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id') ?? randomUUID();
    c.set('requestId', requestId);
    // Before the handler: set on a finished response, a header makes Hono rebuild it around its body as a
    // stream, which then costs every answer a stream read on the way out (a third of a cached 12 KB page).
    c.header('x-request-id', requestId);
    const t0 = performance.now();
    await deps.tracer.startActiveSpan(
      `${c.req.method} ${c.req.path}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method, 'url.path': c.req.path } },
      async (span) => {
        try {
          await next();
        } finally {
          const route = routeOf(c);
          const status = c.res.status;
          const seconds = (performance.now() - t0) / 1000;
          span.updateName(`${c.req.method} ${route}`);
          span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
          metrics.requests.inc({ method: c.req.method, route, status: String(status) });
          metrics.duration.observe({ method: c.req.method, route }, seconds);
          // Probes and scrapes arrive every few seconds: keep them out of the info log unless they fail.
          const quiet = status < 400 && QUIET_PATHS.has(c.req.path);
          deps.logger[quiet ? 'debug' : 'info'](
            {
              requestId,
              method: c.req.method,
              path: c.req.path,
              route,
              status,
              ms: Math.round(seconds * 1e4) / 10,
              ...(c.get('principal') ? { actor: c.get('principal').name } : {}),
            },
            'request',
          );
        }
      },
    );
  });

  app.get('/healthz', (c) => c.text('ok\n'));
  app.get('/readyz', (c) => {
    const reason = deps.readiness.notReadyReason();
    return reason === undefined ? c.text('ready\n') : c.text(`not ready: ${reason}\n`, 503);
  });
  app.get('/metrics', async (c) => {
    const body = await deps.registry.metrics();
    return c.body(body, 200, { 'content-type': deps.registry.contentType });
  });

  for (const mount of deps.publicRoutes ?? []) mount(app);

  // Registered before any API route so it runs first for every /api path, existing or not.
  app.use('/api/*', authenticate(deps.tokens));
  const api = new Hono<AppEnv>();
  for (const mount of deps.routes) mount(api);
  app.route('/api/v1', api);

  app.notFound(() => {
    throw new OverseerError(ErrorCodes.HTTP_NOT_FOUND, 'no such path', {
      status: 404,
      hint: 'see README.md for the API paths',
    });
  });

  app.onError((err, c) => {
    if (isOverseerError(err)) {
      deps.errors?.countError(err.code);
      if (err.status >= 500)
        deps.logger.error({ err, code: err.code, requestId: c.get('requestId') }, err.message);
      return problemResponse(c, err);
    }
    const wrapped = new OverseerError(ErrorCodes.HTTP_INTERNAL, 'internal error', {
      status: 500,
      hint: `the server logged the cause under request id ${c.get('requestId')}`,
      cause: err,
    });
    deps.errors?.countError(wrapped.code);
    deps.logger.error(
      { err, code: wrapped.code, requestId: c.get('requestId') },
      'unhandled error in request',
    );
    return problemResponse(c, wrapped);
  });

  return app;
}
