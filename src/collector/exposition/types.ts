/** The two exposition formats Overseer reads. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** Metric family types of both formats (Prometheus text knows counter, gauge, histogram, summary, untyped). */
export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'stateset'
  | 'info'
  | 'unknown'
  | 'untyped';

/**
 * Label pairs flattened as [name0, value0, name1, value1, …] in exposition order: cheaper to build than an
 * object per sample, and the order is what the target sent.
 */
export type LabelPairs = string[];

export interface Exemplar {
  labels: LabelPairs;
  value: number;
  /** Milliseconds since the epoch, when the exemplar carried a timestamp. */
  timestampMs: number | undefined;
}

export interface Sample {
  /** Full sample name, e.g. `http_requests_total`, `rpc_seconds_bucket`. */
  name: string;
  labels: LabelPairs;
  value: number;
  /** Milliseconds since the epoch, when the line carried a timestamp (OpenMetrics seconds are converted). */
  timestampMs: number | undefined;
  exemplar: Exemplar | undefined;
  /** Index into `families` of the family this sample belongs to. */
  family: number;
  /**
   * `name{a="1",b="2"}`: labels sorted by name, values escaped. Identifies the series in every map.
   * Empty only in a lean parse (`labels: false`) of a line whose labels are not in name order: then `raw`
   * holds the line's series as written and canonicalSeries() builds this on demand.
   */
  series: string;
  /** Lean parses only: the series as written, when that differs from the canonical key. */
  raw?: string;
}

/**
 * A Sample built by a constructor, never by an object literal. V8 tracks object literals per allocation
 * site and, once most objects of a site survive a young-generation GC (as every sample of a target's
 * first scrape does: its series become the window's keys), allocates all later objects of that site in the
 * old generation. For the scrape path that meant every sample of every later scrape — and through its
 * series slices the whole body text — went to old space as garbage: ~12 MB/s at 1,000 targets, the heap
 * at 1 GiB and more before a full GC. Objects made by `new` are not pretenured that way.
 */
export class ParsedSample implements Sample {
  // `declare`: no class-field definitions before the constructor's stores (measurably slower per sample).
  declare name: string;
  declare labels: LabelPairs;
  declare value: number;
  declare timestampMs: number | undefined;
  declare exemplar: Exemplar | undefined;
  declare family: number;
  declare series: string;
  declare raw: string | undefined;

  constructor(
    name: string,
    labels: LabelPairs,
    value: number,
    timestampMs: number | undefined,
    exemplar: Exemplar | undefined,
    family: number,
    series: string,
    raw?: string,
  ) {
    this.name = name;
    this.labels = labels;
    this.value = value;
    this.timestampMs = timestampMs;
    this.exemplar = exemplar;
    this.family = family;
    this.series = series;
    this.raw = raw;
  }
}

export interface MetricFamily {
  /** Family name: for an OpenMetrics counter `foo` (samples `foo_total`), for Prometheus text the TYPE name. */
  name: string;
  type: MetricType;
  help: string | undefined;
  unit: string | undefined;
}

export interface Exposition {
  format: ExpositionFormat;
  families: MetricFamily[];
  samples: Sample[];
}

/** Where and why an exposition is invalid; `line` and `column` are 1-based. */
export interface ParsePosition {
  line: number;
  column: number;
}

/**
 * The `labels` of a sample parsed with `labels: false`: the canonical `series` key holds them (sample-window's
 * rowOf reads them back). Frozen and shared, never to be mutated.
 */
export const LABELS_OMITTED: LabelPairs = Object.freeze([]) as unknown as LabelPairs;

export interface ParseOptions {
  /**
   * Build each sample's label array (default). The scrape path turns this off: a known series needs only
   * its key and value, and 800k label arrays a round are garbage the collector pays for.
   */
  labels?: boolean;
  /**
   * Reject a series that appears twice (default). The scrape path turns this off because the sample
   * window finds duplicates in the lookup it does anyway, without hashing every series a second time.
   */
  checkDuplicates?: boolean;
}
