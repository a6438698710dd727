import type { ShipEvent, StatusRow } from '../logs/shipper.js';
import type { CliContext } from './context.js';
import { processOutput } from './output.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
const human = (n: number): string => {
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) [n, i] = [n / 1024, i + 1];
  return `${i === 0 ? Math.round(n) : n.toFixed(1)} ${UNITS[i]}`;
};

/** A file that could not be shipped in this run (it stays on disk and is retried). */
export interface ShipFailure {
  path: string;
  step: string;
  code: number;
  message: string;
  attempts: number;
  nextAttemptAt: string;
}

/**
 * `overseer logs ship`'s progress on stderr: files and source bytes shipped of those waiting, and the
 * rate. Redrawn in place on a terminal (≤ 5×/s), a plain line a second otherwise, and a last line at the
 * end. Totals start from the journal's waiting files and grow with each file the pass discovers.
 */
export class ShipProgress {
  private readonly t0 = performance.now();
  private last = -Infinity;
  private readonly tty: boolean;
  /** Source bytes of every file this run is about, by journal id. */
  private readonly sizes = new Map<string, number>();
  private readonly done = new Set<string>();
  readonly failures: ShipFailure[] = [];
  doneBytes = 0;
  gzBytes = 0;

  constructor(
    private readonly ctx: CliContext,
    waiting: readonly StatusRow[],
  ) {
    this.tty = ctx.output === processOutput && process.stderr.isTTY === true;
    for (const r of waiting)
      if (r.state !== 'uploaded' && r.state !== 'deleted') this.sizes.set(r.fileId, r.bytes);
  }

  get totalFiles(): number {
    return this.sizes.size;
  }

  get totalBytes(): number {
    let n = 0;
    for (const b of this.sizes.values()) n += b;
    return n;
  }

  readonly onEvent = (e: ShipEvent): void => {
    switch (e.type) {
      case 'discovered':
        this.sizes.set(e.fileId, e.bytes);
        break;
      case 'compressed':
        this.sizes.set(e.fileId, e.bytes); // what was gzipped (a growing foreign file may have grown)
        break;
      case 'uploaded':
        if (this.done.has(e.fileId)) break;
        this.done.add(e.fileId);
        this.doneBytes += this.sizes.get(e.fileId) ?? 0;
        this.gzBytes += e.bytes;
        break;
      case 'failed':
        this.failures.push({
          path: e.path,
          step: e.step,
          code: e.code,
          message: e.message,
          attempts: e.attempts,
          nextAttemptAt: new Date(e.nextAttemptAt).toISOString(),
        });
        break;
      default:
        return;
    }
    this.show();
  };

  get seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Source bytes shipped per second so far. */
  get rate(): number {
    return this.doneBytes / Math.max(this.seconds, 0.001);
  }

  show(final = false): void {
    const now = performance.now();
    if (!final && now - this.last < (this.tty ? 200 : 1000)) return;
    this.last = now;
    const line =
      `${this.done.size}/${this.totalFiles} files shipped · ${human(this.doneBytes)} of ${human(this.totalBytes)} ` +
      `(${human(this.rate)}/s, ${human(this.gzBytes)} gzipped) · ${this.failures.length} failed`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else this.ctx.output.err(line);
  }
}
