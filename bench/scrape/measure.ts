import { sleepWithProgress } from '../lib/progress.js';
import { rssBytes, treeCpuSeconds } from '../lib/proc-stat.js';
import type { TargetServer } from './target-client.js';

export interface HalfResult {
  cpuSecondsPerRound: number;
  rssBytes: number;
  /**
   * RSS when the measured rounds began (every series already created): a scraper in a steady state ends
   * near it. Growth here is garbage reaching the old generation — V8 pretenuring every sample did that.
   */
  rssStartBytes: number;
  /** Requests the target server answered during the window: should be ≈ rounds × targets. */
  scrapes: number;
  gzipShare: number;
  windowS: number;
}

/** CPU (utime+stime of the process tree) over `rounds` scrape intervals, divided by `rounds`. */
export async function measureRounds(
  pid: number,
  label: string,
  targets: TargetServer,
  rounds: number,
  intervalS: number,
): Promise<HalfResult> {
  const s0 = await targets.stats();
  const cpu0 = treeCpuSeconds(pid);
  const rss0 = rssBytes(pid);
  const t0 = Date.now();
  await sleepWithProgress(rounds * intervalS * 1000, `${label}: measuring ${rounds} round(s)`);
  const cpu1 = treeCpuSeconds(pid);
  const windowS = (Date.now() - t0) / 1000;
  const s1 = await targets.stats();
  const scrapes = s1.requests - s0.requests;
  return {
    cpuSecondsPerRound: (cpu1 - cpu0) / rounds,
    rssBytes: rssBytes(pid),
    rssStartBytes: rss0,
    scrapes,
    gzipShare: scrapes > 0 ? (s1.gzip - s0.gzip) / scrapes : 0,
    windowS,
  };
}
