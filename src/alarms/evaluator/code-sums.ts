import { seriesLabels } from '../../collector/exposition/lexer.js';
import type { SampleWindow } from '../../collector/sample-window.js';
import { promIncreaseOf } from './increase.js';

/** A scrape target as the sums see it: its window id and the job its series are summed under. */
export interface SummedTarget {
  id: string;
  job: string;
}

/** Per target: the code index of each row of the counter, valid while `keys[row]` is the row's series. */
interface RowCodes {
  keys: (string | undefined)[];
  codes: Int32Array;
}

/** Increase sums of one job: per code index, the sum, and whether any series of that code had one. */
interface JobSums {
  values: Float64Array;
  present: Uint8Array;
}

const NO_CODE = -1;
const UNKNOWN = -2;

/**
 * `sum by (job, code) (increase(<counter>[range]))` over the sample window, for every code at once: one pass
 * over the counter's series per cycle rather than one per rule. The code of each series is parsed from its
 * key once and cached by row, so a cycle over a million series is array reads and additions.
 */
export class CodeSums {
  private readonly codeIndex = new Map<string, number>();
  private readonly rows = new Map<string, RowCodes>();
  private readonly jobs = new Map<string, JobSums>();
  private seen = 0;

  constructor(private readonly metric: string) {}

  /** Series read by the last `compute`. */
  get series(): number {
    return this.seen;
  }

  /** Recomputes every sum at `now` over `[now - rangeMs, now]`. */
  compute(window: SampleWindow, targets: Iterable<SummedTarget>, now: number, rangeMs: number): void {
    for (const j of this.jobs.values()) j.present.fill(0);
    const live = new Set<string>();
    let seen = 0;
    for (const target of targets) {
      live.add(target.id);
      let cache = this.rows.get(target.id);
      if (cache === undefined) this.rows.set(target.id, (cache = { keys: [], codes: new Int32Array(64) }));
      const rows = cache;
      // The job is the target's: its sums are looked up once per target, not per series.
      let sums = this.jobSums(target.job, 0);
      window.scan(target.id, this.metric, now - rangeMs, now, (row, series, t, v, n) => {
        seen++;
        let code = row < rows.codes.length && rows.keys[row] === series ? rows.codes[row]! : UNKNOWN;
        if (code === UNKNOWN) code = this.remember(rows, row, series);
        if (code === NO_CODE) return;
        const inc = promIncreaseOf(t, v, n, now, rangeMs);
        if (inc === undefined) return;
        if (code >= sums.values.length) sums = this.jobSums(target.job, code);
        if (sums.present[code] === 0) {
          sums.present[code] = 1;
          sums.values[code] = inc;
        } else sums.values[code]! += inc;
      });
    }
    for (const id of this.rows.keys()) if (!live.has(id)) this.rows.delete(id);
    this.seen = seen;
  }

  /** The sums of one code by job, from the last `compute`; jobs where no series had an increase are absent. */
  byJob(code: string): Map<string, number> {
    const out = new Map<string, number>();
    const i = this.codeIndex.get(code);
    if (i === undefined) return out;
    for (const [job, sums] of this.jobs) if (sums.present[i] === 1) out.set(job, sums.values[i]!);
    return out;
  }

  private remember(rows: RowCodes, row: number, series: string): number {
    if (row >= rows.codes.length) {
      const codes = new Int32Array(Math.max(row + 1, rows.codes.length * 2));
      codes.set(rows.codes);
      rows.codes = codes;
    }
    const pairs = seriesLabels(series);
    let code = NO_CODE;
    for (let i = 0; i < pairs.length; i += 2) {
      if (pairs[i] !== 'code') continue;
      const name = pairs[i + 1]!;
      code = this.codeIndex.get(name) ?? this.codeIndex.size;
      if (code === this.codeIndex.size) this.codeIndex.set(name, code);
    }
    rows.keys[row] = series;
    rows.codes[row] = code;
    return code;
  }

  private jobSums(job: string, code: number): JobSums {
    let sums = this.jobs.get(job);
    if (sums === undefined || code >= sums.values.length) {
      const size = Math.max(1024, this.codeIndex.size * 2, code + 1);
      const grown = { values: new Float64Array(size), present: new Uint8Array(size) };
      if (sums !== undefined) {
        grown.values.set(sums.values);
        grown.present.set(sums.present);
      }
      this.jobs.set(job, (sums = grown));
    }
    return sums;
  }
}
