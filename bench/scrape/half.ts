import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { makeTempDir, removeTempDir, stopProcess } from '../lib/cleanup.js';
import { waitFor } from '../lib/http.js';
import { closeLog, logTail, openLog } from '../lib/log-file.js';
import { progress } from '../lib/progress.js';
import { measureRounds, type HalfResult } from './measure.js';
import type { ScrapeSettings } from './settings.js';
import type { TargetServer } from './target-client.js';

/** One scraper under test: how to start it and how to see that it is ready and has scraped everything. */
export interface ScraperSpec {
  label: string;
  /** Starts the process in `dir`, writing its output to the `log` fd; returns it and its base URL. */
  start(dir: string, log: number): Promise<{ child: ChildProcess; baseUrl: string }>;
  ready(baseUrl: string): Promise<boolean>;
  /** Targets that have been scraped successfully at least once, and a line describing progress. */
  scraped(baseUrl: string): Promise<{ up: number; detail: string }>;
  readyTimeoutMs: number;
}

/** start → ready → every target scraped once → measure N rounds → stop; always stops and cleans up. */
export async function runScraper(
  spec: ScraperSpec,
  settings: ScrapeSettings,
  targets: TargetServer,
): Promise<HalfResult> {
  const dir = makeTempDir(`overseer-bench-${spec.label}-`);
  const logFile = path.join(dir, 'output.log');
  const log = openLog(logFile);
  let child: ChildProcess | undefined;
  try {
    const started = await spec.start(dir, log);
    child = started.child;
    const proc = child;
    const alive = (): void => {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`${spec.label} exited (${proc.exitCode ?? proc.signalCode})`);
    };
    progress(`${spec.label}: started (pid ${proc.pid}) at ${started.baseUrl}, log ${logFile}`);
    await waitFor(() => spec.ready(started.baseUrl), {
      what: `${spec.label} ready`,
      timeoutMs: spec.readyTimeoutMs,
      check: alive,
    });
    let detail = '';
    await waitFor(
      async () => {
        const s = await spec.scraped(started.baseUrl);
        detail = s.detail;
        return s.up >= settings.targets;
      },
      {
        what: `${spec.label} to scrape all ${settings.targets} targets once`,
        timeoutMs: (settings.intervalS * 2 + 60) * 1000,
        intervalMs: 2_000,
        describe: () => detail,
        check: alive,
      },
    );
    progress(`${spec.label}: all targets scraped once (${detail})`);
    if (proc.pid === undefined) throw new Error(`${spec.label} has no pid`);
    return await measureRounds(proc.pid, spec.label, targets, settings.rounds, settings.intervalS);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message}\n--- last lines of ${spec.label} output ---\n${logTail(logFile)}`, {
      cause: err,
    });
  } finally {
    if (child) {
      progress(`${spec.label}: stopping`);
      await stopProcess(child, 15_000);
    }
    closeLog(log);
    removeTempDir(dir);
  }
}
