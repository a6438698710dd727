import { canonicalSeries, seriesLabels } from './exposition/lexer.js';
import type { LabelPairs, Sample } from './exposition/types.js';

/** One series of one target, as the window holds it. */
export interface WindowRow {
  series: string;
  name: string;
  labels: LabelPairs;
}

export interface Point {
  t: number;
  v: number;
}

export interface AppendResult {
  /** Series seen for the first time (or again after they aged out). */
  created: number;
  /** Series not stored because the window is full (maxSeries). */
  dropped: number;
  /** A series that appeared twice: the scrape was not recorded. */
  duplicate: string | undefined;
}

/**
 * The samples of one target: a ring of the last `slots` scrapes. Values sit in one Float64Array
 * (row-major, `slots` per row) and scrape times in another, so 1,000 targets × 800 series cost about
 * 8 bytes a sample and no object per sample. A series missing from a scrape gets Prometheus's stale
 * marker (a NaN with a payload no real sample has) in that slot.
 */
class TargetRing {
  readonly index = new Map<string, number>();
  /**
   * The series key of each row, and nothing else: 800k rows must not mean millions of small objects for
   * the garbage collector to trace every cycle. Name and labels are derived from the key when asked.
   */
  readonly rows: (string | undefined)[] = [];
  /**
   * The key each row is looked up by in the scrape loop: the canonical key, or the series as the exporter
   * writes it when its labels are not in name order (a lean parse leaves the canonical key unbuilt). Other
   * spellings of the same series seen later are aliases in `index` too, listed in `aliases`.
   */
  readonly keys: (string | undefined)[] = [];
  readonly aliases = new Map<number, string[]>();
  /** Row of each sample position in the previous scrape: exporters repeat their order. */
  prevRows = new Int32Array(0);
  readonly byName = new Map<string, number[]>();
  readonly times: Float64Array;
  values: Float64Array;
  words: Uint32Array;
  lastSeen: Int32Array;
  /** Per row, the append call that last looked it up (finds a series twice in one scrape). */
  mark: Int32Array;
  epoch = 0;
  /** Row of each sample of the scrape being appended. */
  scratch = new Int32Array(0);
  readonly free: number[] = [];
  /** Number of scrapes appended; slot of scrape k is k % slots. */
  seq = 0;

  constructor(readonly slots: number) {
    this.times = new Float64Array(slots).fill(NaN);
    this.values = new Float64Array(0);
    this.words = new Uint32Array(this.values.buffer);
    this.lastSeen = new Int32Array(0);
    this.mark = new Int32Array(0);
  }

  grow(): void {
    const rows = Math.max(64, this.lastSeen.length * 2);
    const values = new Float64Array(rows * this.slots);
    values.set(this.values);
    const lastSeen = new Int32Array(rows).fill(-1);
    lastSeen.set(this.lastSeen);
    const mark = new Int32Array(rows);
    mark.set(this.mark);
    this.values = values;
    this.words = new Uint32Array(values.buffer);
    this.lastSeen = lastSeen;
    this.mark = mark;
  }

  get live(): number {
    return this.index.size;
  }
}

function nameOf(series: string): string {
  const brace = series.indexOf('{');
  return brace < 0 ? series : series.slice(0, brace);
}

/** Name and labels back from a canonical series key. */
export function rowOf(series: string): WindowRow {
  return { series, name: nameOf(series), labels: seriesLabels(series) };
}

// Prometheus's StaleNaN: 0x7ff0000000000002, little-endian words.
const STALE_LO = 2;
const STALE_HI = 0x7ff00000;

function isStale(words: Uint32Array, i: number): boolean {
  return words[2 * i] === STALE_LO && words[2 * i + 1] === STALE_HI;
}

export interface SampleWindowOptions {
  /** How long history is kept, and the scrape interval: together they size the ring. */
  windowMs: number;
  intervalMs: number;
  maxSeries: number;
}

export class SampleWindow {
  private readonly targets = new Map<string, TargetRing>();
  private readonly slots: number;
  private series = 0;
  private droppedTotal = 0;

  private readonly scratchT: Float64Array;
  private readonly scratchV: Float64Array;

  constructor(private readonly opts: SampleWindowOptions) {
    this.slots = Math.max(2, Math.ceil(opts.windowMs / opts.intervalMs) + 1);
    this.scratchT = new Float64Array(this.slots);
    this.scratchV = new Float64Array(this.slots);
  }

  /** Series held over all targets. */
  get seriesCount(): number {
    return this.series;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  /** Bytes of sample storage allocated (values and bookkeeping), for the memory gauge. */
  get bytes(): number {
    let total = 0;
    for (const r of this.targets.values())
      total += r.values.byteLength + r.lastSeen.byteLength + r.times.byteLength;
    return total;
  }

  /**
   * Records one successful scrape; series absent from it get a stale marker. A series twice in one scrape
   * is found here, in the lookup every sample needs anyway (the parser is told not to hash them again):
   * then nothing of the scrape is recorded and `duplicate` names the series.
   */
  append(targetId: string, tMs: number, samples: readonly Sample[]): AppendResult {
    let ring = this.targets.get(targetId);
    if (ring === undefined) {
      ring = new TargetRing(this.slots);
      this.targets.set(targetId, ring);
    }
    const epoch = ++ring.epoch;
    if (ring.scratch.length < samples.length) ring.scratch = new Int32Array(samples.length * 2);
    const rows = ring.scratch;
    let created = 0;
    let dropped = 0;
    const prev = ring.prevRows;
    for (let k = 0; k < samples.length; k++) {
      const s = samples[k]!;
      // Same position as last scrape: one string comparison instead of hashing the series.
      const guess = k < prev.length ? prev[k]! : -1;
      const key = s.series !== '' ? s.series : s.raw!;
      let row = guess >= 0 && ring.keys[guess] === key ? guess : ring.index.get(key);
      if (row === undefined && key !== s.series) {
        // Written in another label order than before (or for the first time): find it by its canonical key.
        row = ring.index.get(canonicalSeries(s));
        if (row !== undefined) this.alias(ring, row, key);
      }
      if (row === undefined) {
        if (this.series >= this.opts.maxSeries) {
          dropped++;
          rows[k] = -1;
          continue;
        }
        row = this.addRow(ring, s);
        created++;
      } else if (ring.mark[row] === epoch) {
        return { created, dropped, duplicate: s.series };
      }
      ring.mark[row] = epoch;
      rows[k] = row;
    }
    const seq = ring.seq;
    const slot = seq % this.slots;
    ring.times[slot] = tMs;
    for (let k = 0; k < samples.length; k++) {
      const row = rows[k]!;
      if (row < 0) continue;
      ring.values[row * this.slots + slot] = samples[k]!.value;
      ring.lastSeen[row] = seq;
    }
    if (ring.prevRows.length !== samples.length) ring.prevRows = new Int32Array(samples.length);
    ring.prevRows.set(rows.subarray(0, samples.length));
    this.droppedTotal += dropped;
    this.sweep(ring, seq, slot);
    ring.seq++;
    return { created, dropped, duplicate: undefined };
  }

  /** A failed scrape: every series of the target is stale from now on (as Prometheus marks it). */
  appendFailure(targetId: string, tMs: number): void {
    this.append(targetId, tMs, []);
  }

  /** Forgets a target and all its series. */
  drop(targetId: string): void {
    const ring = this.targets.get(targetId);
    if (ring === undefined) return;
    this.series -= ring.live;
    this.targets.delete(targetId);
  }

  /** Whether a target has any series of a metric name: `rows(…).length > 0` without building the rows. */
  hasName(targetId: string, name: string): boolean {
    return (this.targets.get(targetId)?.byName.get(name)?.length ?? 0) > 0;
  }

  /** Rows of one metric name of a target. */
  rows(targetId: string, name: string): WindowRow[] {
    const ring = this.targets.get(targetId);
    const rows = ring?.byName.get(name);
    if (ring === undefined || rows === undefined) return [];
    return rows.map((r) => rowOf(ring.rows[r]!));
  }

  /** Points of a series at or after `sinceMs`, oldest first, without stale markers. */
  points(targetId: string, series: string, sinceMs: number): Point[] {
    const ring = this.targets.get(targetId);
    const row = ring?.index.get(series);
    if (ring === undefined || row === undefined) return [];
    const out: Point[] = [];
    for (const slot of this.slotsIn(ring, sinceMs, Infinity)) {
      const i = row * this.slots + slot;
      if (!isStale(ring.words, i)) out.push({ t: ring.times[slot]!, v: ring.values[i]! });
    }
    return out;
  }

  /**
   * Visits every series of one metric of a target with its points in [fromMs, toMs], oldest first, stale
   * markers left out — in two scratch arrays reused for every call, so a million series a cycle cost no
   * object per point. `row` names the series within its target while it lives; a freed row is reused
   * by a later series, so a cache keyed by row must check `series` too.
   */
  scan(
    targetId: string,
    name: string,
    fromMs: number,
    toMs: number,
    visit: (row: number, series: string, t: Float64Array, v: Float64Array, n: number) => void,
  ): void {
    const ring = this.targets.get(targetId);
    const rows = ring?.byName.get(name);
    if (ring === undefined || rows === undefined) return;
    const slots = this.slotsIn(ring, fromMs, toMs);
    const { values, words, times } = ring;
    const t = this.scratchT;
    const v = this.scratchV;
    const width = this.slots;
    // The hot loop of an evaluation cycle (a million rows): locals and typed arrays only, and the two-word
    // stale test only for NaNs, which real samples almost never are.
    for (let j = 0; j < rows.length; j++) {
      const r = rows[j]!;
      const base = r * width;
      let n = 0;
      for (let k = 0; k < slots.length; k++) {
        const slot = slots[k]!;
        const value = values[base + slot]!;
        if (value !== value && isStale(words, base + slot)) continue;
        t[n] = times[slot]!;
        v[n] = value;
        n++;
      }
      visit(r, ring.rows[r]!, t, v, n);
    }
  }

  /** Ring slots of a target's scrapes within [fromMs, toMs], oldest first. */
  private slotsIn(ring: TargetRing, fromMs: number, toMs: number): Int32Array {
    const out: number[] = [];
    const n = Math.min(ring.seq, this.slots);
    for (let k = ring.seq - n; k < ring.seq; k++) {
      const slot = k % this.slots;
      const t = ring.times[slot]!;
      if (t >= fromMs && t <= toMs) out.push(slot);
    }
    return Int32Array.from(out);
  }

  /** The value a series had in the target's latest scrape, or undefined when it was absent (stale). */
  latest(targetId: string, series: string): number | undefined {
    const ring = this.targets.get(targetId);
    const row = ring?.index.get(series);
    if (ring === undefined || row === undefined || ring.seq === 0 || ring.lastSeen[row] !== ring.seq - 1) {
      return undefined;
    }
    return ring.values[row * this.slots + ((ring.seq - 1) % this.slots)];
  }

  /** Every series present in the target's latest scrape with its value. */
  latestScrape(targetId: string): Array<{ row: WindowRow; value: number }> {
    const ring = this.targets.get(targetId);
    if (ring === undefined || ring.seq === 0) return [];
    const seq = ring.seq - 1;
    const slot = seq % this.slots;
    const out: Array<{ row: WindowRow; value: number }> = [];
    ring.rows.forEach((series, r) => {
      if (series !== undefined && ring.lastSeen[r] === seq) {
        out.push({ row: rowOf(series), value: ring.values[r * this.slots + slot]! });
      }
    });
    return out;
  }

  /** Time of the target's latest append. */
  lastTime(targetId: string): number | undefined {
    const ring = this.targets.get(targetId);
    return ring === undefined || ring.seq === 0 ? undefined : ring.times[(ring.seq - 1) % this.slots];
  }

  private alias(ring: TargetRing, row: number, key: string): void {
    ring.index.set(key, row);
    const list = ring.aliases.get(row);
    if (list === undefined) ring.aliases.set(row, [key]);
    else list.push(key);
  }

  private addRow(ring: TargetRing, s: Sample): number {
    let row = ring.free.pop();
    if (row === undefined) {
      row = ring.rows.length;
      if (row >= ring.lastSeen.length) ring.grow();
      ring.rows.push(undefined);
      ring.keys.push(undefined);
    }
    const canonical = canonicalSeries(s);
    const key = s.series !== '' ? s.series : s.raw!;
    ring.rows[row] = canonical;
    ring.keys[row] = key;
    ring.index.set(canonical, row);
    if (key !== canonical) ring.index.set(key, row);
    const list = ring.byName.get(s.name);
    if (list === undefined) ring.byName.set(s.name, [row]);
    else list.push(row);
    // Slots from before the series existed read as stale, not as leftovers of a freed row.
    for (let k = 0; k < this.slots; k++) this.markStale(ring, row, k);
    this.series++;
    return row;
  }

  /** Stale markers for rows absent from this scrape; rows absent for a whole window are freed. */
  private sweep(ring: TargetRing, seq: number, slot: number): void {
    for (let r = 0; r < ring.rows.length; r++) {
      const series = ring.rows[r];
      if (series === undefined || ring.lastSeen[r] === seq) continue;
      this.markStale(ring, r, slot);
      if (seq - ring.lastSeen[r]! >= this.slots) {
        ring.rows[r] = undefined;
        ring.index.delete(series);
        ring.index.delete(ring.keys[r]!);
        ring.keys[r] = undefined;
        for (const a of ring.aliases.get(r) ?? []) ring.index.delete(a);
        ring.aliases.delete(r);
        const name = nameOf(series);
        const list = ring.byName.get(name)!;
        list.splice(list.indexOf(r), 1);
        if (list.length === 0) ring.byName.delete(name);
        ring.free.push(r);
        this.series--;
      }
    }
  }

  private markStale(ring: TargetRing, row: number, slot: number): void {
    const i = row * this.slots + slot;
    ring.words[2 * i] = STALE_LO;
    ring.words[2 * i + 1] = STALE_HI;
  }
}
