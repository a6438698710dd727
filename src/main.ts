import * as path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { Alarms } from './alarms/alarms.js';
import { AlarmStore } from './alarms/evaluator/alarm-store.js';
import { AlarmEvaluator } from './alarms/evaluator/evaluator.js';
import { alarmRoutes } from './alarms/routes.js';
import { Billing } from './billing/billing.js';
import { Capacity } from './capacity/capacity.js';
import { policyFrom } from './capacity/policy.js';
import { capacityRoutes } from './capacity/routes.js';
import { configuredShipperOptions, configuredStore } from './logs/configured.js';
import { LogShipper, SHIPPER_ABORT_GRACE_MS } from './logs/shipper.js';
import { billingRoutes } from './billing/routes.js';
import { UsageChangeFeed } from './billing/usage-changes.js';
import { UsageCache } from './billing/usage-cache.js';
import { dashboardRoutes } from './dashboards/routes.js';
import { AlertmanagerNotifier } from './alarms/notify/alertmanager.js';
import { NotificationDispatcher } from './alarms/notify/dispatcher.js';
import { WebhookNotifier } from './alarms/notify/webhook.js';
import { Silences } from './alarms/silences.js';
import { Collector } from './collector/collector.js';
import { collectorRoutes, selfNodeMetricsRoute } from './collector/routes.js';
import { AuditLog } from './db/audit-log.js';
import { migrateToLatest } from './db/migrate.js';
import { openDatabase } from './db/open.js';
import type { Database } from './db/schema.js';
import { ErrorCodes, OverseerError, isOverseerError } from './errors/index.js';
import { ensureAdminToken } from './http/admin-token.js';
import { createApp } from './http/app.js';
import { tokenRoutes } from './http/routes/tokens.js';
import { HttpServer } from './http/server.js';
import { TokenStore } from './http/tokens.js';
import { Lifecycle, type StopReport } from './lifecycle.js';
import { createErrorCounter } from './instrument.js';
import { inSpan, startTracing } from './telemetry/tracing.js';
import { version } from './version.js';

export interface RunningOverseer {
  url: string;
  adminTokenFile: string;
  database: { kind: 'postgres' | 'pglite'; where: string };
  db: Kysely<Database>;
  registry: Registry;
  collector: Collector;
  capacity: Capacity;
  stop(): Promise<StopReport>;
}

export interface StartDeps {
  logger: Logger;
  clock?: Clock;
  /** Overseer's own log file (serve): rotated at shutdown, after HTTP and before the last ship pass. */
  ownLog?: { rotateNow: () => string | undefined };
}

/**
 * The composition root: the only place that knows every component. Start order (each step needs the ones
 * before it): tracing → metrics registry → database → migrations → tokens + admin token → HTTP → collector
 * → alarms (catalog, notifications, evaluator) → billing (leader-only jobs) → log shipping → capacity (leader-only loop) → ready. Stop runs the same list in reverse, except that log shipping stops after HTTP (its last pass takes Overseer's own log, rotated then). If any step fails, what already started is
 * stopped again and the error is thrown: nothing is left half-started.
 */
export async function startOverseer(config: Config, deps: StartDeps): Promise<RunningOverseer> {
  const logger = deps.logger;
  const clock = deps.clock ?? systemClock;
  const lifecycle = new Lifecycle({
    logger: logger.child({ component: 'lifecycle' }),
    stepTimeoutMs: config.server.shutdownTimeout,
  });
  let notReady: string | undefined = 'starting';

  try {
    const tracing = await startTracing({
      ...config.telemetry.tracing,
      logger: logger.child({ component: 'tracing' }),
    });
    lifecycle.defer('tracing', () => tracing.stop());

    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    new Gauge({
      name: 'overseer_build_info',
      help: 'Always 1; labels carry the version and Node.js version of this process.',
      labelNames: ['version', 'nodejs'],
      registers: [registry],
    }).set({ version: version(), nodejs: process.version }, 1);
    new Gauge({
      name: 'overseer_ready',
      help: '1 once migrations ran and every component started; 0 while starting or stopping.',
      registers: [registry],
      collect() {
        this.set(notReady === undefined ? 1 : 0);
      },
    });

    const opened = await inSpan(tracing.tracer, 'startup.database', () =>
      openDatabase({
        url: config.database.url,
        dataDir: config.dataDir,
        logger: logger.child({ component: 'db' }),
      }),
    );
    lifecycle.defer('database', () => opened.close());
    logger.info({ kind: opened.kind, where: opened.where }, 'database open');
    await inSpan(tracing.tracer, 'startup.migrate', () =>
      migrateToLatest(opened.db, logger.child({ component: 'db' })),
    );

    const tokens = new TokenStore({ db: opened.db, clock });
    const audit = new AuditLog({ db: opened.db });
    const adminTokenFile = await ensureAdminToken({ dataDir: config.dataDir, tokens, logger });

    // Overseer counts its own errors like any service it watches, so its alarms cover it too.
    const errors = createErrorCounter(registry);

    // Area components are built before HTTP (their routes are mounted on it) and started after it.
    let selfUrl = '';
    const collector = new Collector({
      config: config.collector,
      registry,
      logger: logger.child({ component: 'collector' }),
      clock,
      selfUrl: () => selfUrl,
      countError: (code) => errors.countError(code),
    });

    const alarms = new Alarms({
      config: config.alarms,
      scrapeIntervalMs: config.collector.scrapeInterval,
      logger: logger.child({ component: 'alarms' }),
      countError: (code) => errors.countError(code),
    });

    const billing = new Billing({
      db: opened.db,
      config: config.billing,
      dbKind: opened.kind,
      dataDir: config.dataDir,
      clock,
      logger: logger.child({ component: 'billing' }),
      registry,
      countError: (code) => errors.countError(code),
    });
    // Usage pages kept while billing_hourly's change notifications are heard (the feed starts with billing).
    const usageCache = new UsageCache({ registry });
    const usageFeed = new UsageChangeFeed({
      listen: opened.listen,
      cache: usageCache,
      logger: logger.child({ component: 'billing' }),
    });

    const capacity = new Capacity({
      db: opened.db,
      dbKind: opened.kind,
      dataDir: config.dataDir,
      config: config.capacity,
      policy: policyFrom({
        ...config.capacity.policy,
        minHostsPerTenant: config.capacity.policy?.minHostsPerTenant ?? config.capacity.minHostsPerTenant,
      }),
      source: collector.source,
      clock,
      logger: logger.child({ component: 'capacity' }),
      registry,
      countError: (code) => errors.countError(code),
    });

    // Logs: shipped to S3 when configured, else into <dataDir>/archive (the embedded default).
    const logStore = configuredStore(config, logger.child({ component: 'log-store' }));
    lifecycle.defer('log-store', () => Promise.resolve(logStore.stop()));
    const logShipper = new LogShipper(
      configuredShipperOptions(config, {
        owner: 'overseer serve',
        // The last pass plus its abort grace must fit in the lifecycle's per-step timeout.
        stopDeadlineMs: Math.max(
          0,
          Math.min(
            config.logs.shutdownUploadDeadline,
            config.server.shutdownTimeout - SHIPPER_ABORT_GRACE_MS - 500,
          ),
        ),
      }),
      {
        store: logStore.store,
        clock,
        logger: logger.child({ component: 'log-shipper' }),
        registry,
        countError: (code) => errors.countError(code),
      },
    );

    const silences = new Silences(opened.db, clock);
    await silences.load();
    const evaluator = new AlarmEvaluator({
      store: new AlarmStore(opened.db),
      window: collector.window,
      statuses: () => collector.manager.statuses(),
      rules: () => alarms.rules(),
      intervalMs: config.collector.scrapeInterval,
      clock,
      logger: logger.child({ component: 'alarm-evaluator' }),
      registry,
      onChanges: (changes) => dispatcher.onChanges(changes),
    });
    const dispatcher = new NotificationDispatcher({
      targets: [
        ...(config.alarms.alertmanager
          ? [
              {
                notifier: new AlertmanagerNotifier(config.alarms.alertmanager.url),
                kind: 'alertmanager' as const,
              },
            ]
          : []),
        ...config.alarms.webhooks.map((w) => ({
          notifier: new WebhookNotifier(w.url, () => selfUrl),
          kind: 'webhook' as const,
        })),
      ],
      silences,
      alarms: () => evaluator.alarms(),
      countError: (code) => errors.countError(code),
      resendIntervalMs: config.alarms.delivery.resendInterval,
      repeatIntervalMs: config.alarms.delivery.repeatInterval,
      externalUrl: () => selfUrl,
      delivery: {
        maxQueue: config.alarms.delivery.maxQueue,
        maxBatch: 64,
        backoffBaseMs: 500,
        backoffMaxMs: config.alarms.delivery.backoffMax,
        failingAlarmAfterMs: config.alarms.delivery.failingAfter,
      },
      registry,
      logger: logger.child({ component: 'notifications' }),
      clock,
    });

    const app = createApp({
      registry,
      logger: logger.child({ component: 'http' }),
      tokens,
      tracer: tracing.tracer,
      readiness: { notReadyReason: () => notReady },
      errors,
      routes: [
        tokenRoutes({ tokens, audit }),
        collectorRoutes(collector),
        alarmRoutes(alarms, evaluator, silences, audit, dispatcher),
        dashboardRoutes({
          families: () => collector.catalog.entries(),
          codes: () => alarms.codes(),
          ruleOptions: () => ({
            scrapeIntervalMs: config.collector.scrapeInterval,
            classes: alarms.catalogFile()?.classes,
          }),
        }),
        billingRoutes({
          db: opened.db,
          closeAfterMs: config.billing.closeAfter,
          maxPostBytes: config.billing.maxPostBytes,
          // POSTed lines that could not be counted: next to the first spool's own rejected/.
          rejectedDir: path.join(
            config.billing.spoolDirs[0] ?? path.join(config.dataDir, 'billing-spool'),
            'rejected',
          ),
          clock,
          usageCache,
        }),
        capacityRoutes({ db: opened.db, capacity }),
      ],
      publicRoutes: [selfNodeMetricsRoute(collector)],
    });
    const http = new HttpServer({
      app,
      listen: config.server.listen,
      logger: logger.child({ component: 'http' }),
    });
    // Shutdown order for logs (the stack is last-in-first-out, so these stop after HTTP and every area
    // component): rotate Overseer's own log file, then the shipper's last pass ships it (and whatever else
    // was rotated) within shutdownUploadDeadline, then the store closes. The shipper starts further down.
    lifecycle.defer('log-shipper', () => logShipper.stop());
    const ownLog = deps.ownLog;
    if (ownLog) lifecycle.defer('own-log-rotate', () => Promise.resolve(void ownLog.rotateNow()));
    await lifecycle.start(http);
    selfUrl = http.url;
    // Area components start after HTTP (so /healthz answers while they start, and the collector can scrape
    // this process's own node metrics) and before "ready": collector → alarms → billing → logs → capacity.
    notReady = 'starting collector';
    await inSpan(tracing.tracer, 'startup.collector', () => lifecycle.start(collector));
    notReady = 'starting alarms';
    await inSpan(tracing.tracer, 'startup.alarms', () => lifecycle.start(alarms));
    // Notifications before the evaluator: its first cycle may already have something to send.
    await lifecycle.start(dispatcher);
    await lifecycle.start(evaluator);
    notReady = 'starting billing';
    await inSpan(tracing.tracer, 'startup.billing', async () => {
      await lifecycle.start(usageFeed);
      await lifecycle.start(billing);
    });
    notReady = 'starting log shipping';
    await inSpan(tracing.tracer, 'startup.logs', () => logShipper.start()); // stop: deferred above
    notReady = 'starting capacity';
    await inSpan(tracing.tracer, 'startup.capacity', () => lifecycle.start(capacity));

    notReady = undefined;
    logger.info({ url: http.url, components: lifecycle.names }, 'ready');
    return {
      url: http.url,
      adminTokenFile,
      database: { kind: opened.kind, where: opened.where },
      db: opened.db,
      registry,
      collector,
      capacity,
      stop: async () => {
        notReady = 'stopping';
        return lifecycle.stop();
      },
    };
  } catch (cause) {
    notReady = 'failed';
    await lifecycle.stop();
    if (isOverseerError(cause)) throw cause;
    throw new OverseerError(ErrorCodes.STARTUP_FAILED, 'overseer failed to start', {
      details: [String((cause as Error).message || cause)],
      hint: 'the log above names the failing step',
      cause,
    });
  }
}
