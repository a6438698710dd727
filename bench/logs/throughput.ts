import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/logging.js';
import { LocalObjectStore } from '../../src/logs/local-store.js';
import { LogShipper } from '../../src/logs/shipper.js';
import { makeTempDir, removeTempDir } from '../lib/cleanup.js';
import { progress } from '../lib/progress.js';
import { judge, type Goal, type Result } from '../lib/results.js';

/**
 * (a) Log throughput of `overseer/logging` with rotation, gzip and upload running in the same process,
 * next to plain pino writing to one file through pino.destination in the same (synchronous) mode. Both
 * write the same calls in batches, yielding to the event loop between batches (as a service does
 * between requests), so the shipper's gzip, hashing and copying happen during the timed window.
 */

const LINES = Number(process.env.BENCH_LOGS_LINES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 100;
const MAX_BYTES = 8 * 1024 * 1024;
const GOAL: Goal = { minRatio: 0.8, text: '≥ 0.8× plain pino to a file (same sync mode)' };

interface Run {
  ms: number;
  bytes: number;
  rotations: number;
  shipped: number;
}

async function writeLines(log: Logger): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < LINES;) {
    const end = Math.min(LINES, i + BATCH);
    for (; i < end; i++)
      log.info({ i, tenant: 't-42', route: '/api/v1/items', status: 200, ms: 12.5 }, 'request served');
    await new Promise((r) => setImmediate(r));
  }
  return performance.now() - t0;
}

async function plainPino(dir: string): Promise<Run> {
  const file = path.join(dir, 'plain.log');
  const dest = pino.destination({ dest: file, sync: true });
  const ms = await writeLines(pino(dest));
  dest.flushSync();
  return { ms, bytes: statSync(file).size, rotations: 0, shipped: 0 };
}

async function overseer(dir: string, ship: boolean): Promise<Run> {
  const logs = path.join(dir, 'logs');
  let bytes = 0;
  let shipper: LogShipper | undefined;
  const log = createLogger({
    service: 'bench',
    dir: logs,
    maxBytes: MAX_BYTES,
    onRotate: (_file, n) => {
      bytes += n;
      shipper?.kick();
    },
  });
  if (ship) {
    shipper = new LogShipper(
      { dirs: [logs], dataDir: path.join(dir, 'data'), host: 'bench', localRetentionMs: 0, intervalMs: 1000 },
      {
        store: new LocalObjectStore(path.join(dir, 'archive')),
        clock: systemClock,
        logger: pino({ level: 'silent' }),
        registry: new Registry(),
      },
    );
    await shipper.start();
  }
  const ms = await writeLines(log.logger);
  const rotations = log.destination.stats().rotations;
  bytes += log.destination.stats().activeBytes;
  const shipped = ship ? countFiles(path.join(dir, 'archive')) : 0;
  log.close();
  await shipper?.stop({ deadlineMs: 0 });
  return { ms, bytes, rotations, shipped };
}

function countFiles(dir: string): number {
  let n = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile() && e.name.endsWith('.gz')) n++;
  return n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perSec = (r: Run): number => LINES / (r.ms / 1000);
const mbPerSec = (r: Run): number => r.bytes / 1e6 / (r.ms / 1000);

export async function throughput(): Promise<Result[]> {
  const runs = { plain: [] as Run[], ours: [] as Run[], noShip: [] as Run[] };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so neither always runs on a warm page cache or a just-collected heap.
    const order =
      round % 2 === 0 ? (['plain', 'ours', 'noShip'] as const) : (['ours', 'noShip', 'plain'] as const);
    for (const which of order) {
      const dir = makeTempDir(`overseer-bench-logs-${which}-`);
      try {
        runs[which].push(which === 'plain' ? await plainPino(dir) : await overseer(dir, which === 'ours'));
      } finally {
        removeTempDir(dir);
      }
    }
    progress(`logs: throughput round ${round + 1}/${ROUNDS}`);
  }
  const ours = median(runs.ours.map(perSec));
  const plain = median(runs.plain.map(perSec));
  const noShip = median(runs.noShip.map(perSec));
  const last = runs.ours.at(-1)!;
  const mid = (rs: Run[]) => rs.find((r) => perSec(r) === median(rs.map(perSec)))!;
  return [
    {
      name: 'throughput-with-rotation-gzip-upload',
      unit: 'lines/s',
      value: ours,
      baseline: { name: 'plain pino → pino.destination({ sync: true })', value: plain },
      ratioOf: 'ours/baseline',
      ratio: ours / plain,
      goal: GOAL,
      pass: judge(ours, ours / plain, GOAL),
      notes: [
        `${LINES} lines × ${ROUNDS} rounds (median), batches of ${BATCH} with a yield between; rotation at ${MAX_BYTES / 2 ** 20} MiB; gzip + upload to a local archive running meanwhile`,
        `ours ${mbPerSec(mid(runs.ours)).toFixed(1)} MB/s (${(mid(runs.ours).bytes / LINES).toFixed(0)} B/line: ISO time, service, host, redaction), plain ${mbPerSec(mid(runs.plain)).toFixed(1)} MB/s (${(mid(runs.plain).bytes / LINES).toFixed(0)} B/line)`,
        `overseer/logging with no shipper running: ${noShip.toFixed(0)} lines/s (${(noShip / plain).toFixed(2)}× plain)`,
        `last round: ${last.rotations} rotations, ${last.shipped} files gzipped and uploaded while writing`,
      ],
    },
  ];
}
