import type { FileReport } from '../billing/spool.js';
import type { CliContext } from './context.js';
import { processOutput } from './output.js';

/** One status line on stderr: redrawn in place on a terminal (≤ 5×/s), a plain line a second otherwise. */
export class Progress {
  private readonly t0 = performance.now();
  private last = -Infinity;
  readonly tty: boolean;
  done = 0;
  records = 0;
  current = 0;
  accepted = 0;
  duplicates = 0;
  rejected = 0;

  constructor(
    private readonly ctx: CliContext,
    private readonly total: number,
  ) {
    this.tty = ctx.output === processOutput && process.stderr.isTTY === true;
  }

  fileDone(r: FileReport | undefined): void {
    this.done++;
    this.current = 0;
    if (r === undefined) return this.show();
    this.records += r.records + r.rejected;
    this.accepted += r.accepted;
    this.duplicates += r.duplicates;
    this.rejected += r.rejected;
    this.show();
  }

  show(final = false): void {
    const now = performance.now();
    if (!final && now - this.last < (this.tty ? 200 : 1000)) return;
    this.last = now;
    const n = this.records + this.current;
    const rate = Math.round(n / Math.max((now - this.t0) / 1000, 0.001));
    const line =
      `${this.done}/${this.total} files · ${n} records (${rate}/s) · ${this.accepted} accepted · ` +
      `${this.duplicates} duplicates · ${this.rejected} rejected`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else this.ctx.output.err(line);
  }
}
