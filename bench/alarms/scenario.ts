import * as path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { AlarmCode } from '../../src/alarms/code-catalog.js';
import { AlarmStore } from '../../src/alarms/evaluator/alarm-store.js';
import { compileCodeRules } from '../../src/alarms/evaluator/compile.js';
import { AlarmEvaluator } from '../../src/alarms/evaluator/evaluator.js';
import { ManualClock } from '../../src/clock.js';
import type { Sample } from '../../src/collector/exposition/types.js';
import { SampleWindow } from '../../src/collector/sample-window.js';
import { alertAnnotations } from '../../src/dashboards/error-code-rules.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { makeTempDir } from '../lib/cleanup.js';
import { progress } from '../lib/progress.js';
import { judge, type Goal, type Result } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';

const HOSTS = Number(process.env.BENCH_ALARM_HOSTS ?? 100);
const CODES = Number(process.env.BENCH_ALARM_CODES ?? 10_000);
const INTERVAL = 15_000;
const WINDOW = 10 * 60_000;
const JOBS = 4;
const WARMUP = 3;
const CYCLES = Number(process.env.BENCH_ALARM_CYCLES ?? 15);
const GOAL: Goal = { maxValue: 200, text: '≤ 200 ms per cycle (10,000 codes × 100 hosts)' };

function codes(): AlarmCode[] {
  return Array.from({ length: CODES }, (_, i) => ({
    service: 'svc',
    name: `CODE_${i}`,
    code: 100_000 + i,
    class: i % 5 === 0 ? 'client' : 'server',
    owner: 'team-a',
    description: null,
    runbookUrl: null,
    source: `src/handlers/h${i % 300}.ts:${(i % 500) + 1}`,
    definedAt: `src/errors.ts:${i + 1}`,
    alert: true,
    problems: [],
  }));
}

/** 1 code in 100 rises on 1 host in 10 (an incident's worth of alarms); the rest stay flat. */
const rising = (code: number, host: number): boolean => code % 100 === 0 && host % 10 === 0;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function run(): Promise<Result[]> {
  const dir = makeTempDir('overseer-bench-alarms-');
  const logger = pino({ level: 'warn' });
  progress(`alarms: embedded database in ${dir} (first start runs initdb)`);
  const opened = await openDatabase({ url: undefined, dataDir: path.join(dir, 'data'), logger });
  try {
    await migrateToLatest(opened.db, logger);
    const window = new SampleWindow({ windowMs: WINDOW, intervalMs: INTERVAL, maxSeries: 2 * HOSTS * CODES });
    const targets = Array.from({ length: HOSTS }, (_, h) => ({
      target: {
        id: `host-${h}`,
        labels: { job: `svc-${h % JOBS}`, instance: `10.0.${h >> 8}.${h & 255}:9100` },
      },
      goneSince: undefined,
    }));
    // One sample array per target, values bumped in place between scrapes (the window copies them).
    const bodies = targets.map((_, h) =>
      Array.from({ length: CODES }, (_, i): Sample => ({
        name: 'errors_total',
        labels: ['code', String(100_000 + i)],
        value: 0,
        timestampMs: undefined,
        exemplar: undefined,
        family: 0,
        series: `errors_total{code="${100_000 + i}"}`,
      })).map((s, i) => ({ s, rises: rising(i, h) })),
    );
    let now = 1_800_000_000_000;
    const scrape = (): void => {
      now += INTERVAL;
      targets.forEach((t, h) => {
        const body = bodies[h]!;
        for (const b of body) if (b.rises) b.s.value += 1;
        window.append(
          t.target.id,
          now,
          body.map((b) => b.s),
        );
      });
    };
    const slots = WINDOW / INTERVAL + 1;
    progress(`alarms: filling the window: ${HOSTS} hosts × ${CODES} series × ${slots} scrapes`);
    for (let k = 0; k < slots; k++) scrape();
    progress(`alarms: window holds ${window.seriesCount} series, ${(window.bytes / 2 ** 20).toFixed(0)} MiB`);

    const list = codes();
    const byCode = new Map(list.map((c) => [String(c.code), c]));
    const rules = compileCodeRules(list, { scrapeIntervalMs: INTERVAL }).map((r) => ({
      ...r,
      annotations: alertAnnotations(byCode.get(r.code)!),
    }));
    const clock = new ManualClock(now);
    const make = (withRules: boolean): AlarmEvaluator =>
      new AlarmEvaluator({
        store: new AlarmStore(opened.db),
        window,
        statuses: () => targets,
        rules: () => (withRules ? rules : []),
        intervalMs: INTERVAL,
        clock,
        logger,
        registry: new Registry(),
      });
    const ours = make(true);
    const base = make(false);
    const firstStart = performance.now();
    await ours.evaluateOnce(now);
    const first = performance.now() - firstStart;
    const active = ours.alarms().length;
    const expected = (CODES / 100) * Math.min(JOBS, HOSTS / 10);
    if (active === 0 || active > expected)
      throw new Error(`expected ${expected} alert instances after the first cycle, got ${active}`);

    const times = { ours: [] as number[], base: [] as number[] };
    progress(`alarms: ${WARMUP} warm-up + ${CYCLES} cycles each, with ${rules.length} rules and with none`);
    for (let k = 0; k < WARMUP + CYCLES; k++) {
      scrape();
      clock.set(now);
      // Alternate which goes first, so neither always runs on a just-collected heap.
      const order = k % 2 === 0 ? (['ours', 'base'] as const) : (['base', 'ours'] as const);
      for (const which of order) {
        const t0 = performance.now();
        await (which === 'ours' ? ours : base).evaluateOnce(now);
        if (k >= WARMUP) times[which].push(performance.now() - t0);
      }
      if (k % 5 === 4) progress(`alarms: cycle ${k + 1}/${WARMUP + CYCLES}`);
    }
    const value = median(times.ours);
    const baseline = median(times.base);
    return [
      {
        name: 'evaluate-10k-codes-100-hosts',
        unit: 'ms/cycle',
        value,
        baseline: { name: 'same cycle, no rules', value: baseline },
        ratioOf: 'ours/baseline',
        ratio: value / baseline,
        goal: GOAL,
        pass: judge(value, value / baseline, GOAL),
        notes: [
          `${HOSTS} hosts × ${CODES} errors_total series = ${window.seriesCount} series, ${rules.length} rules, window ${WINDOW / 60_000}m at ${INTERVAL / 1000}s`,
          `median of ${CYCLES} cycles after ${WARMUP} warm-up; with rules min ${Math.min(...times.ours).toFixed(1)} max ${Math.max(...times.ours).toFixed(1)} ms`,
          `first cycle (${active} alert instances created and written to the embedded database): ${first.toFixed(1)} ms`,
          `heap used after the run: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
        ],
      },
    ];
  } finally {
    await opened.close();
  }
}

export const alarmsScenario: Scenario = {
  name: 'alarms',
  description: 'one evaluation cycle of 10,000 error-code rules over 100 hosts (1M series)',
  run,
};
