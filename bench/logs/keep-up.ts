import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../../src/clock.js';
import { ROTATED_PATTERN } from '../../src/logging.js';
import { LocalObjectStore } from '../../src/logs/local-store.js';
import { LogShipper } from '../../src/logs/shipper.js';
import { makeTempDir, removeTempDir, track } from '../lib/cleanup.js';
import { progress } from '../lib/progress.js';
import type { Result } from '../lib/results.js';

/**
 * (b) Does the shipper keep up with 100 MB/min? A service process (writer.ts) logs at RATE for SECONDS,
 * rotating every MAX_BYTES; the shipper runs in this process on its normal schedule (every INTERVAL, no
 * hook from the writer, as for any service in another process) into a local archive. Each second we
 * sample the backlog: rotated files not yet uploaded (journaled or not), in source bytes. After the
 * writer stops, we time how long until nothing is left. Keeping up means the backlog stays near one
 * interval's worth and drains within about one interval.
 */

const RATE_MB_MIN = Number(process.env.BENCH_LOGS_RATE_MB_MIN ?? 120);
const SECONDS = Number(process.env.BENCH_LOGS_SECONDS ?? 60);
const INTERVAL_MS = Number(process.env.BENCH_LOGS_SHIP_INTERVAL_MS ?? 5000);
const MAX_BYTES = 4 * 1024 * 1024;
const GOAL_MB_MIN = 100;
const WRITER = fileURLToPath(new URL('./writer.ts', import.meta.url));

interface Backlog {
  files: number;
  bytes: number;
}

async function backlogOf(shipper: LogShipper, logs: string): Promise<Backlog> {
  const rows = await shipper.status();
  const known = new Set(rows.map((r) => r.path));
  let files = 0;
  let bytes = 0;
  for (const r of rows)
    if (r.state !== 'uploaded') {
      files++;
      bytes += r.bytes;
    }
  for (const name of readdirSync(logs)) {
    const p = path.join(logs, name);
    if (!ROTATED_PATTERN.test(name) || known.has(p)) continue;
    files++;
    bytes += statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  }
  return { files, bytes };
}

export async function keepUp(): Promise<Result[]> {
  const dir = makeTempDir('overseer-bench-logs-keepup-');
  const logs = path.join(dir, 'logs');
  const shipper = new LogShipper(
    {
      dirs: [logs],
      dataDir: path.join(dir, 'data'),
      host: 'bench',
      localRetentionMs: 0,
      intervalMs: INTERVAL_MS,
    },
    {
      store: new LocalObjectStore(path.join(dir, 'archive')),
      clock: systemClock,
      logger: pino({ level: 'warn' }),
      registry: new Registry(),
    },
  );
  try {
    await shipper.start();
    const rate = (RATE_MB_MIN * 1e6) / 60;
    progress(
      `logs: keep-up: writing ${RATE_MB_MIN} MB/min for ${SECONDS} s, shipping every ${INTERVAL_MS / 1000} s`,
    );
    const cpu0 = process.cpuUsage();
    const child = track(
      spawn(
        process.execPath,
        ['--import', 'tsx', WRITER, logs, String(rate), String(SECONDS), String(MAX_BYTES)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      ),
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let done = false;
    void exited.then(() => (done = true));

    const samples: Backlog[] = [];
    while (!done) {
      await new Promise((r) => setTimeout(r, 1000));
      samples.push(await backlogOf(shipper, logs));
      if (samples.length % 15 === 0)
        progress(`logs: keep-up: ${samples.length} s, backlog ${JSON.stringify(samples.at(-1))}`);
    }
    if ((await exited) !== 0) throw new Error(`the writer exited with ${await exited}`);
    const written = JSON.parse(out) as { lines: number; bytes: number; seconds: number };
    const atEnd = await backlogOf(shipper, logs);
    const t0 = performance.now();
    let drained: Backlog = atEnd;
    while (drained.files > 0 && performance.now() - t0 < 10 * INTERVAL_MS) {
      await new Promise((r) => setTimeout(r, 100));
      drained = await backlogOf(shipper, logs);
    }
    const drainS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const rows = await shipper.status({ includeDeleted: true });
    const mbMin = (written.bytes / 1e6 / written.seconds) * 60;
    const maxFiles = Math.max(...samples.map((s) => s.files));
    const maxBytes = Math.max(...samples.map((s) => s.bytes));
    const intervalS = INTERVAL_MS / 1000;
    const pass = drained.files === 0 && mbMin >= GOAL_MB_MIN && drainS <= 2 * intervalS;
    return [
      {
        name: 'keep-up-100MB-per-min',
        unit: 's to drain',
        value: drainS,
        baseline: { name: 'one shipInterval', value: intervalS },
        ratioOf: 'ours/baseline',
        ratio: drainS / intervalS,
        goal: {
          maxRatio: 2,
          text: `written at ≥ ${GOAL_MB_MIN} MB/min, backlog drained within 2 shipIntervals`,
        },
        pass,
        notes: [
          `written: ${mbMin.toFixed(0)} MB/min for ${written.seconds.toFixed(0)} s (${(written.bytes / 1e6).toFixed(0)} MB, ${written.lines} lines), rotated every ${MAX_BYTES / 2 ** 20} MiB: ${rows.length} files shipped`,
          `backlog while writing (rotated, not yet uploaded): max ${maxFiles} files / ${(maxBytes / 1e6).toFixed(1)} MB, median ${median(samples.map((s) => s.files))} files; at the writer's end ${atEnd.files} files / ${(atEnd.bytes / 1e6).toFixed(1)} MB`,
          `one interval of writing is ${((rate * intervalS) / 1e6).toFixed(1)} MB; left after draining: ${drained.files} files`,
          `shipper CPU (this process: gzip, sha256, copy): ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s over ${(written.seconds + drainS).toFixed(0)} s`,
        ],
      },
    ];
  } finally {
    await shipper.stop({ deadlineMs: 0 });
    removeTempDir(dir);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
