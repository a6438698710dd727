import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HostLoad } from '../src/collector/metrics-source.js';
import { describeWithBinaries } from './helpers/integration.js';
import { startTestOverseer, type TestOverseer } from './helpers/overseer-instance.js';
import { waitFor } from './helpers/poll.js';
import { burnCpu, startNodeExporter, type RealServer } from './helpers/real-servers.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

interface CpuSnapshot {
  at: number;
  idle: number;
  total: number;
}

/** The aggregate `cpu` line of /proc/stat: idle and the sum of the eight modes node_exporter exports. */
function readProcStat(): CpuSnapshot {
  const at = Date.now();
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return { at, idle: f[3]!, total: f.reduce((a, b) => a + b, 0) };
}

function readMemRatio(): number {
  const info = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(info)![1]);
  return 1 - kb('MemAvailable') / kb('MemTotal');
}

function nearest(snaps: CpuSnapshot[], at: number): CpuSnapshot {
  return snaps.reduce((best, s) => (Math.abs(s.at - at) < Math.abs(best.at - at) ? s : best));
}

describeWithBinaries(['nodeExporter'], 'host load from a real node_exporter', (bins) => {
  let db: TestDatabase;
  let exporter: RealServer;
  let overseer: TestOverseer;
  const burner = burnCpu();

  beforeAll(async () => {
    db = await createTestDatabase();
    exporter = await startNodeExporter(bins.nodeExporter);
    overseer = await startTestOverseer(db, {
      scrapeInterval: '1s',
      scrapeTimeout: '900ms',
      loadWindow: '8s',
      targets: [{ url: `${exporter.url}/metrics`, labels: { host: 'node-a' } }],
    });
  });
  afterAll(async () => {
    await burner.stop();
    await overseer?.stop();
    await exporter?.stop();
    await db?.drop();
  });

  it('agrees with /proc/stat and /proc/meminfo within 2 percentage points', async () => {
    // The test samples /proc itself every 50 ms, then compares over exactly the window Overseer used.
    const snaps: CpuSnapshot[] = [readProcStat()];
    const sampler = setInterval(() => snaps.push(readProcStat()), 50);
    try {
      const host = await waitFor(
        'a CPU ratio over a full 8 s window',
        async () => {
          const { hosts } = await overseer.get<{ hosts: HostLoad[] }>('/api/v1/hosts');
          const h = hosts.find((x) => x.host === 'node-a');
          return h?.cpu !== null && (h?.cpuWindowSeconds ?? 0) >= 6.5 ? h : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const memNow = readMemRatio();
      clearInterval(sampler);
      const to = Date.parse(host.lastScrape!);
      const from = to - host.cpuWindowSeconds! * 1000;
      const a = nearest(snaps, from);
      const b = nearest(snaps, to);
      expect(Math.abs(a.at - from)).toBeLessThan(200);
      expect(Math.abs(b.at - to)).toBeLessThan(200);
      const procCpu = 1 - (b.idle - a.idle) / (b.total - a.total);
      expect(host.up).toBe(true);
      expect(host.memorySource).toBe('MemAvailable');
      // The busy child keeps at least half a core of the two busy: a broken formula cannot pass at ~0.
      expect(procCpu).toBeGreaterThan(0.3);
      expect(Math.abs(host.cpu! - procCpu)).toBeLessThanOrEqual(0.02);
      expect(Math.abs(host.memory! - memNow)).toBeLessThanOrEqual(0.02);
      expect(host.load1).toBeGreaterThan(0);
    } finally {
      clearInterval(sampler);
    }
  });
});
