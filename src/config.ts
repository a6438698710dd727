import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYamlValue } from 'yaml';
import { z } from 'zod';
import { bytes, duration } from './config/units.js';
import { YamlLocator } from './config/locate.js';
import { knownKeysAt, leafPaths } from './config/schema-walk.js';
import { closest } from './config/suggest.js';
import { mergedPolicy, policyOverridesSchema, policyProblems } from './capacity/policy.js';
import { ErrorCodes, OverseerError } from './errors/index.js';
import { DEFAULT_REDACT_PATHS } from './logging.js';

const url = z.url({ message: 'must be an absolute URL like http://host:port' });
const hostPort = z
  .string()
  .regex(
    /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/,
    'must be host:port, e.g. 127.0.0.1:9300 or [::1]:9300',
  );

const target = z.strictObject({ url, labels: z.record(z.string(), z.string()).default({}) });

/** The one schema of overseer.yaml. Every key is optional; defaults are the embedded mode. */
export const configSchema = z.strictObject({
  server: z
    .strictObject({ listen: hostPort.default('127.0.0.1:9300'), shutdownTimeout: duration.prefault('10s') })
    .prefault({}),
  dataDir: z.string().min(1).default('.overseer'),
  database: z.strictObject({ url: z.string().min(1).optional() }).default({}),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    })
    .prefault({}),
  telemetry: z
    .strictObject({
      tracing: z
        .strictObject({
          enabled: z.boolean().default(false),
          endpoint: url.default('http://127.0.0.1:4318/v1/traces'),
          serviceName: z.string().min(1).default('overseer'),
          sampleRatio: z.number().min(0).max(1).default(1),
        })
        .prefault({}),
    })
    .prefault({}),
  collector: z
    .strictObject({
      scrapeInterval: duration.prefault('15s'),
      scrapeTimeout: duration.prefault('10s'),
      targets: z.array(target).default([]),
      fileSd: z.array(z.string().min(1)).default([]),
      /** How often file_sd files are read again even without a change event (Prometheus: 5m). */
      fileSdRefreshInterval: duration.prefault('5m'),
      prometheus: z.strictObject({ url, timeout: duration.prefault('10s') }).optional(),
      /** A larger (uncompressed) body fails the scrape, as Prometheus's body_size_limit. */
      bodySizeLimit: bytes.prefault('16MiB'),
      /** More samples in one scrape fail it, as Prometheus's sample_limit. 0: no limit. */
      sampleLimit: z.number().int().min(0).default(100_000),
      /** Scrapes in flight at once; the others wait their turn (never more than one per target). */
      maxConcurrentScrapes: z.number().int().min(1).default(64),
      /** How much history the in-memory window keeps for rates. */
      window: duration.prefault('10m'),
      /** Series the window holds over all targets; new series beyond it are counted and dropped. */
      maxSeries: z.number().int().min(1).default(500_000),
      /** The range CPU utilisation is computed over (rate window). */
      loadWindow: duration.prefault('1m'),
      /** A target that left discovery (or never answered) is forgotten this long after its last success. */
      evictAfter: duration.prefault('10m'),
      /** With no targets and no Prometheus, scrape this machine's own /proc metrics (embedded mode). */
      selfScrape: z.boolean().default(true),
    })
    .prefault({}),
  alarms: z
    .strictObject({
      codeSources: z
        .array(
          z.strictObject({
            dir: z.string().min(1),
            language: z.enum(['ts', 'java']).default('ts'),
            /** Names the service in alerts; default: the folder above `dir` (e.g. billing for billing/src). */
            service: z.string().min(1).optional(),
            /** The const/enum/class holding the codes. */
            container: z.string().min(1).default('ErrorCodes'),
          }),
        )
        .default([]),
      catalog: z.string().min(1).optional(),
      alertmanager: z.strictObject({ url }).optional(),
      webhooks: z.array(z.strictObject({ url })).default([]),
      delivery: z
        .strictObject({
          /** Firing alerts are sent to Alertmanager again this often (Prometheus: 1m). */
          resendInterval: duration.prefault('1m'),
          /** A webhook hears about a still-firing, unacknowledged alarm again after this long. */
          repeatInterval: duration.prefault('4h'),
          /** Alerts waiting per notifier while it is down; beyond, the oldest is dropped and counted. */
          maxQueue: z.number().int().min(1).default(10_000),
          backoffMax: duration.prefault('1m'),
          /** Delivery failing this long raises the OverseerNotificationsFailing self-alarm. */
          failingAfter: duration.prefault('2m'),
        })
        .prefault({}),
    })
    .prefault({}),
  dashboards: z
    .strictObject({
      /** Where `overseer generate` writes by default. */
      out: z.string().min(1).default('dashboards'),
      /** `generate --push`: dashboards to Grafana's HTTP API (token: a service account that may edit). */
      grafana: z
        .strictObject({ url, token: z.string().min(1).optional(), folderUid: z.string().min(1).optional() })
        .optional(),
      /** `generate --push`: rule files into Prometheus's rules folder, then POST <url>/-/reload. */
      prometheus: z.strictObject({ rulesDir: z.string().min(1), url: url.optional() }).optional(),
    })
    .prefault({}),
  logs: z
    .strictObject({
      /** Overseer writes its own log into the first (overseer.log) and ships every rotated file of each. */
      dirs: z.array(z.string().min(1)).default(['logs']),
      /** Folders other programs write: a file ships once rotated (our name pattern) or quiet this long. */
      foreign: z
        .array(z.strictObject({ dir: z.string().min(1), quietPeriod: duration.optional() }))
        .default([]),
      /** Values at these paths (pino redact syntax) are written as [redacted] in Overseer's own logs. */
      redact: z.array(z.string().min(1)).default([...DEFAULT_REDACT_PATHS]),
      rotate: z
        .strictObject({ maxBytes: bytes.prefault('64MiB'), maxAge: duration.prefault('1h') })
        .prefault({}),
      s3: z
        .strictObject({
          bucket: z.string().min(1),
          prefix: z.string().default('logs/'),
          region: z.string().min(1).default('us-east-1'),
          endpoint: url.optional(),
          forcePathStyle: z.boolean().default(false),
          requestChecksumCalculation: z.enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED']).default('WHEN_SUPPORTED'),
        })
        .optional(),
      localRetention: duration.prefault('7d'),
      /** Compressed files waiting for upload, at most; the self-alarm fires at 80 %. Nothing un-uploaded is ever deleted. */
      maxBacklogBytes: bytes.prefault('10GiB'),
      /** A foreign file that is not rotated is shipped once it has not changed for this long. */
      quietPeriod: duration.prefault('5m'),
      /** Object key of a shipped file: {prefix} {service} {host} {file}, YYYY MM DD HH of the file's UTC start. */
      keyTemplate: z.string().min(1).default('{prefix}{service}/{host}/YYYY/MM/DD/HH/{file}.gz'),
      /** Delete shipped objects under the prefix older than this; absent: keep them (bucket lifecycle rules). */
      remoteRetention: duration.optional(),
      /** How often the shipper looks for closed files. */
      shipInterval: duration.prefault('30s'),
      /** Seconds the shipper may still upload at shutdown; the rest resumes on the next start. */
      shutdownUploadDeadline: duration.prefault('10s'),
    })
    .prefault({}),
  billing: z
    .strictObject({
      spoolDirs: z.array(z.string().min(1)).default(['billing-spool']),
      closeAfter: duration.prefault('2h'),
      rawRetention: duration.prefault('35d'),
      /** How long ingested files stay in each spool's done/ (their records are in the database). */
      doneRetention: duration.prefault('7d'),
      /** Largest NDJSON body POST /api/v1/billing/records takes; beyond, 413 (error code) and nothing read. */
      maxPostBytes: bytes.prefault('16MiB'),
      /** node-cron expressions of the leader-only jobs. */
      schedule: z
        .strictObject({
          scan: z.string().min(1).default('* * * * *'),
          close: z.string().min(1).default('* * * * *'),
          retention: z.string().min(1).default('17 3 * * *'),
        })
        .prefault({}),
    })
    .prefault({}),
  capacity: z
    .strictObject({
      interval: duration.prefault('10s'),
      minHostsPerTenant: z.number().int().min(1).default(3),
      mode: z.enum(['plan', 'auto']).default('plan'),
      /** Tenant demand = billed cpu_ms and memory_byte_seconds over this much recent time (whole hours). */
      demandWindow: duration.prefault('1h'),
      /** Planner policy overrides: watermarks, N-of-M samples, budgets, cooldown (src/capacity/policy.ts). */
      policy: policyOverridesSchema.optional(),
    })
    // Checked here as serve will use it (minHostsPerTenant falls back to capacity's), so `config check`
    // names an inconsistent policy with its place instead of serve failing after the database started.
    .superRefine((c, ctx) => {
      const policy = mergedPolicy({
        ...c.policy,
        minHostsPerTenant: c.policy?.minHostsPerTenant ?? c.minHostsPerTenant,
      });
      for (const message of policyProblems(policy))
        ctx.addIssue({ code: 'custom', message, path: ['policy'] });
    })
    .prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type RawConfig = z.input<typeof configSchema>;

/** `OVERSEER_SERVER_LISTEN` ↔ `server.listen`, for every leaf of the schema. */
export function envNameFor(pathSegs: readonly string[]): string {
  return 'OVERSEER_' + pathSegs.map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

export const ENV_OVERRIDES: ReadonlyMap<string, string[]> = new Map(
  leafPaths(configSchema).map((p) => [envNameFor(p), p]),
);
/** Env names the CLI reads itself; not config, so not "unknown". */
const CLI_ENV = new Set(['OVERSEER_URL', 'OVERSEER_TOKEN']);

export interface LoadedConfig {
  config: Config;
  /** Where the config came from, for logs: the file path or "defaults". */
  source: string;
  /** Env overrides that were applied, by env name. */
  envApplied: string[];
  /** Non-fatal findings, e.g. an OVERSEER_* variable that is not a config key. */
  warnings: string[];
}

function setIn(obj: Record<string, unknown>, segs: readonly string[], value: unknown): void {
  let cur = obj;
  for (const seg of segs.slice(0, -1)) {
    const next = cur[seg];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]!] = value;
}

/**
 * Reads overseer.yaml (optional), applies env overrides (`OVERSEER_…`, and `DATABASE_URL`, which wins),
 * validates against the one schema and returns the config, or throws an OverseerError that lists every
 * problem with its path, its line in the file and a hint for unknown keys.
 */
export function loadConfig(
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): LoadedConfig {
  let raw: Record<string, unknown> = {};
  let locator: YamlLocator | undefined;
  const source = file ?? 'defaults';
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new OverseerError(ErrorCodes.CONFIG_FILE_UNREADABLE, `cannot read config file ${file}`, {
        hint: 'check the path given to --config; omit --config to run on embedded defaults',
        details: [String((cause as Error).message)],
        cause,
        exitCode: 2,
      });
    }
    locator = new YamlLocator(text);
    if (locator.doc.errors.length > 0) {
      throw new OverseerError(ErrorCodes.CONFIG_YAML_MALFORMED, `config file ${file} is not valid YAML`, {
        hint: 'fix the YAML syntax at the position shown (indentation, a missing colon, an unclosed quote)',
        details: locator.doc.errors.map((e) => {
          const { line, col } = locator!.linePos(e.pos[0]);
          return `${file}:${line}:${col}: ${e.message.split('\n')[0]}`;
        }),
        exitCode: 2,
      });
    }
    const value: unknown = locator.doc.toJS();
    if (value !== null && value !== undefined) {
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new OverseerError(
          ErrorCodes.CONFIG_NOT_AN_OBJECT,
          `config file ${file} must be a YAML mapping`,
          {
            hint: 'the top level holds keys like server:, dataDir:, database:, collector:',
            exitCode: 2,
          },
        );
      }
      raw = value as Record<string, unknown>;
    }
  }

  const envApplied: string[] = [];
  const warnings: string[] = [];
  const fromEnv = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('OVERSEER_') || value === undefined || CLI_ENV.has(name)) continue;
    const segs = ENV_OVERRIDES.get(name);
    if (!segs) {
      const hint = closest(name, [...ENV_OVERRIDES.keys()]);
      warnings.push(
        `environment variable ${name} is not a config key${hint ? ` (did you mean ${hint}?)` : ''}`,
      );
      continue;
    }
    setIn(raw, segs, parseEnvValue(value));
    fromEnv.set(segs.join('.'), name);
    envApplied.push(name);
  }
  if (env.DATABASE_URL) {
    setIn(raw, ['database', 'url'], env.DATABASE_URL);
    fromEnv.set('database.url', 'DATABASE_URL');
    envApplied.push('DATABASE_URL');
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const details = result.error.issues.map((issue) => describeIssue(issue, file, locator, fromEnv));
    throw new OverseerError(
      ErrorCodes.CONFIG_INVALID,
      `invalid configuration (${source}): ${details.length} problem(s)`,
      {
        hint: 'fix every listed key; README.md lists the keys and their defaults',
        details,
        exitCode: 2,
      },
    );
  }
  const config = result.data;
  const base = file !== undefined ? path.dirname(path.resolve(file)) : process.cwd();
  resolvePaths(config, base);
  return { config, source, envApplied, warnings };
}

/** Files and folders named in the config are relative to the config file's folder (as in Prometheus). */
function resolvePaths(c: Config, base: string): void {
  const abs = (p: string): string => path.resolve(base, p);
  c.dataDir = abs(c.dataDir);
  c.logs.dirs = c.logs.dirs.map(abs);
  c.logs.foreign = c.logs.foreign.map((f) => ({ ...f, dir: abs(f.dir) }));
  c.billing.spoolDirs = c.billing.spoolDirs.map(abs);
  c.collector.fileSd = c.collector.fileSd.map(abs);
  c.alarms.codeSources = c.alarms.codeSources.map((s) => ({ ...s, dir: abs(s.dir) }));
  if (c.alarms.catalog !== undefined) c.alarms.catalog = abs(c.alarms.catalog);
}

/** Env values are YAML scalars or flow collections: `true`, `3`, `[a, b]`, `{url: …}`; plain text otherwise. */
function parseEnvValue(text: string): unknown {
  try {
    const v: unknown = parseYamlValue(text);
    return v === null ? text : v;
  } catch {
    return text;
  }
}

function describeIssue(
  issue: z.core.$ZodIssue,
  file: string | undefined,
  locator: YamlLocator | undefined,
  fromEnv: ReadonlyMap<string, string>,
): string {
  const dotted = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(configSchema, issue.path);
    return issue.keys
      .map((key) => {
        const where = locator?.locate(issue.path, key);
        const full = dotted ? `${dotted}.${key}` : key;
        const suggestion = closest(key, known);
        const hint = suggestion ? `did you mean "${suggestion}"?` : `known keys here: ${known.join(', ')}`;
        return `${where && file ? `${file}:${where}: ` : ''}${full}: unknown key (${hint})`;
      })
      .join('\n  - ');
  }
  const envName = fromEnv.get(dotted);
  const where = envName
    ? `env ${envName}: `
    : (() => {
        const pos = locator?.locate(issue.path);
        return pos && file ? `${file}:${pos}: ` : '';
      })();
  return `${where}${dotted || '(top level)'}: ${issue.message}`;
}
