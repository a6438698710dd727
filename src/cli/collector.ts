import type { Command } from 'commander';
import type { HostLoad } from '../collector/metrics-source.js';
import { clientFor, type CliContext, type GlobalOptions } from './context.js';
import { table } from './output.js';

interface TargetRow {
  url: string;
  labels: Record<string, string>;
  health: string;
  lastScrape: string | null;
  lastScrapeDurationSeconds: number | null;
  samples: number;
  lastError: string | null;
}

const percent = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

/** "12s ago" from an RFC 3339 time. */
function ago(iso: string | null, nowMs: number): string {
  if (iso === null) return 'never';
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

export function collectorCommands(program: Command, ctx: CliContext): void {
  program
    .command('hosts')
    .description('CPU and memory load per host (from scrapes, or from Prometheus in scale-out mode)')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const { hosts } = await (
        await clientFor(ctx, opts)
      ).request<{ hosts: HostLoad[] }>('GET', '/api/v1/hosts');
      if (opts.json) {
        ctx.output.out(JSON.stringify(hosts, null, 2));
        return;
      }
      const now = Date.now();
      ctx.output.out(
        hosts.length === 0
          ? 'no hosts yet (no target with node_exporter metrics has been scraped)'
          : table(
              ['HOST', 'UP', 'CPU', 'MEMORY', 'LOAD1', 'LAST SCRAPE', 'SOURCE'],
              hosts.map((h) => [
                h.host,
                h.up ? 'yes' : 'NO',
                percent(h.cpu),
                percent(h.memory),
                h.load1 === null ? '-' : h.load1.toFixed(2),
                ago(h.lastScrape, now),
                h.source,
              ]),
            ),
      );
    });

  program
    .command('targets')
    .description('scrape targets with health, last scrape, duration, samples and last error')
    .option('--health <state>', 'only targets that are up, down, unknown or gone')
    .action(async (o: { health?: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const query = o.health ? `?health=${encodeURIComponent(o.health)}` : '';
      const { targets } = await (
        await clientFor(ctx, opts)
      ).request<{ targets: TargetRow[] }>('GET', `/api/v1/targets${query}`);
      if (opts.json) {
        ctx.output.out(JSON.stringify(targets, null, 2));
        return;
      }
      const now = Date.now();
      ctx.output.out(
        targets.length === 0
          ? 'no targets'
          : table(
              ['URL', 'HEALTH', 'LAST SCRAPE', 'DURATION', 'SAMPLES', 'ERROR'],
              targets.map((t) => [
                t.url,
                t.health,
                ago(t.lastScrape, now),
                t.lastScrapeDurationSeconds === null
                  ? '-'
                  : `${(t.lastScrapeDurationSeconds * 1000).toFixed(0)}ms`,
                t.samples,
                t.lastError ?? '',
              ]),
            ),
      );
    });
}
