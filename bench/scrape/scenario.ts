import { progress } from '../lib/progress.js';
import { openFilesLimit } from '../lib/proc-stat.js';
import { judge, type Goal, type Result } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';
import { runScraper, type ScraperSpec } from './half.js';
import type { HalfResult } from './measure.js';
import { overseerSpec } from './overseer.js';
import { prometheusSpec } from './prometheus.js';
import { scrapeSettings, type ScrapeSettings } from './settings.js';
import { startTargetServer, type TargetServer } from './target-client.js';

const GOAL: Goal = { maxRatio: 1, text: 'overseer/prometheus ≤ 1.0×' };
const GROWTH_GOAL: Goal = { maxRatio: 1.1, text: 'RSS at the end ≤ 1.1× RSS when the rounds began' };
const MiB = 1024 * 1024;

type Outcome = { ok: HalfResult } | { error: string };

async function attempt(spec: ScraperSpec, settings: ScrapeSettings, targets: TargetServer): Promise<Outcome> {
  if (settings.only && settings.only !== spec.label)
    return { error: `skipped (BENCH_SCRAPE_ONLY=${settings.only})` };
  try {
    return { ok: await runScraper(spec, settings, targets) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    progress(`${spec.label}: FAILED: ${message}`);
    return { error: message.split('\n')[0] ?? message };
  }
}

function describe(label: string, o: Outcome, s: ScrapeSettings): string {
  if ('error' in o) return `${label}: failed, see error`;
  const r = o.ok;
  const rounds = r.scrapes / s.targets;
  return (
    `${label}: ${r.scrapes} scrapes in ${r.windowS.toFixed(1)} s (${rounds.toFixed(2)} rounds for ${s.rounds} nominal` +
    `${Math.abs(rounds - s.rounds) > 0.05 * s.rounds ? ' — WARNING: off by > 5 %' : ''}), ` +
    `${Math.round(r.gzipShare * 100)} % gzip, RSS ${(r.rssBytes / MiB).toFixed(0)} MiB ` +
    `(${(r.rssStartBytes / MiB).toFixed(0)} MiB when the measured rounds began)`
  );
}

function pick(o: Outcome, f: (r: HalfResult) => number): number | null {
  return 'ok' in o ? f(o.ok) : null;
}

async function run(): Promise<Result[]> {
  const s = scrapeSettings();
  const limit = openFilesLimit();
  if (limit < s.targets * 2 + 256)
    throw new Error(
      `open-files limit ${limit} is too low for ${s.targets} targets: raise it (ulimit -n ${s.targets * 2 + 256})`,
    );
  progress(
    `scrape: ${s.targets} targets × ${s.series} series, every ${s.intervalS} s, ${s.rounds} measured round(s) per scraper`,
  );
  const targets = await startTargetServer({ targets: s.targets, series: s.series, gzip: s.gzip });
  let prom: Outcome;
  let ovs: Outcome;
  try {
    progress(
      `scrape: target server up on ${targets.ports.length} ports, ${targets.bodyBytes} bytes per body`,
    );
    // One after the other, never together: the machine may have only two cores.
    prom = await attempt(prometheusSpec(s, targets.ports), s, targets);
    ovs = await attempt(overseerSpec(s, targets.ports), s, targets);
  } finally {
    await targets.stop();
  }
  const ours = pick(ovs, (r) => r.cpuSecondsPerRound);
  const base = pick(prom, (r) => r.cpuSecondsPerRound);
  const ratio = ours !== null && base !== null ? ours / base : null;
  const errors = [
    'error' in prom ? `prometheus: ${prom.error}` : '',
    'error' in ovs ? `overseer: ${ovs.error}` : '',
  ];
  const error = errors.filter(Boolean).join('; ') || undefined;
  const notes = [
    `${s.targets} targets × ${s.series} series, interval ${s.intervalS} s, timeout ${s.timeoutS} s, ${s.rounds} rounds, body ${targets.bodyBytes} bytes, gzip ${s.gzip ? 'on' : 'off'}`,
    describe('prometheus', prom, s),
    describe('overseer', ovs, s),
  ];
  const rssOurs = pick(ovs, (r) => r.rssBytes / MiB);
  const rssBase = pick(prom, (r) => r.rssBytes / MiB);
  const rssStartOurs = pick(ovs, (r) => r.rssStartBytes / MiB);
  const growth = rssOurs !== null && rssStartOurs !== null ? rssOurs / rssStartOurs : null;
  return [
    {
      name: 'cpu-per-round',
      unit: 'CPU s/round',
      value: ours,
      baseline: { name: 'prometheus 2.42', value: base },
      ratioOf: 'ours/baseline',
      ratio,
      goal: GOAL,
      pass: judge(ours, ratio, GOAL),
      notes,
      ...(error ? { error } : {}),
    },
    {
      // A scraper in a steady state (every series created before the rounds began) must not grow: this
      // caught V8 pretenuring every parsed sample into the old generation (RSS ~1.0 → ~1.7 GiB).
      name: 'rss-growth',
      unit: 'MiB',
      value: rssOurs,
      baseline: { name: 'overseer when the measured rounds began', value: rssStartOurs },
      ratioOf: 'ours/baseline',
      ratio: growth,
      goal: GROWTH_GOAL,
      pass: judge(rssOurs, growth, GROWTH_GOAL),
    },
    {
      name: 'rss-at-end',
      unit: 'MiB',
      value: rssOurs,
      baseline: { name: 'prometheus 2.42', value: rssBase },
      ratioOf: 'ours/baseline',
      ratio: rssOurs !== null && rssBase !== null ? rssOurs / rssBase : null,
      goal: null,
      pass: null,
    },
  ];
}

export const scrapeScenario: Scenario = {
  name: 'scrape',
  description: 'CPU s per scrape round of 1,000 loopback targets × 800 series, Overseer vs Prometheus 2.42',
  run,
};
