/**
 * Conformance table for parseExposition: Prometheus text 0.0.4 and OpenMetrics 1.0.
 *
 * Good cases assert every family (name, type, help, unit) and every sample (name, flattened labels in
 * exposition order, value, timestampMs, exemplar, family index). Bad cases assert an ExpositionSyntaxError,
 * its 1-based line (a list where the offence only shows when a group or the exposition ends), the column
 * where the offending token is unambiguous, and a loose pattern on the reason.
 *
 * Cases marked DECISION follow the semantics decided for Overseer where a reference parser or the spec
 * reads differently; see the notes next to them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalSeries, seriesLabels } from './lexer.js';
import { LABELS_OMITTED, ParsedSample } from './types.js';
import { ExpositionSyntaxError, formatFromContentType, parseExposition } from './parse.js';
import type { Exposition, ExpositionFormat, MetricType } from './types.js';

interface FamilyCase {
  name: string;
  type: MetricType;
  help: string | undefined;
  unit: string | undefined;
}

interface ExemplarCase {
  labels: string[];
  value: number;
  timestampMs?: number;
}

interface SampleCase {
  name: string;
  labels: string[];
  value: number;
  timestampMs: number | undefined;
  exemplar: ExemplarCase | undefined;
  family: number;
}

interface GoodCase {
  title: string;
  text: string;
  families: FamilyCase[];
  samples: SampleCase[];
}

interface BadCase {
  title: string;
  text: string;
  /** The line of the error, or the lines a correct parser may report it on. */
  line: number | number[];
  column?: number;
  reason: RegExp;
}

/** Lines joined with LF, each one ending in LF. */
const lines = (...ls: string[]): string => ls.map((l) => `${l}\n`).join('');
/** An OpenMetrics exposition: the lines, then `# EOF` and LF. */
const om = (...ls: string[]): string => lines(...ls, '# EOF');

const fam = (name: string, type: MetricType, help?: string, unit?: string): FamilyCase => ({
  name,
  type,
  help,
  unit,
});

const smp = (
  name: string,
  labels: string[],
  value: number,
  opts: { ts?: number; ex?: ExemplarCase; family?: number } = {},
): SampleCase => ({
  name,
  labels,
  value,
  timestampMs: opts.ts,
  exemplar: opts.ex,
  family: opts.family ?? 0,
});

const num = (v: number): number | 'NaN' => (Number.isNaN(v) ? 'NaN' : v);

function projectActual(e: Exposition) {
  return {
    families: e.families.map(({ name, type, help, unit }) => ({ name, type, help, unit })),
    samples: e.samples.map((s) => ({
      name: s.name,
      labels: s.labels,
      value: num(s.value),
      timestampMs: s.timestampMs,
      exemplar:
        s.exemplar === undefined
          ? undefined
          : { labels: s.exemplar.labels, value: num(s.exemplar.value), timestampMs: s.exemplar.timestampMs },
      family: s.family,
    })),
  };
}

function projectExpected(c: GoodCase) {
  return {
    families: c.families,
    samples: c.samples.map((s) => ({
      ...s,
      value: num(s.value),
      exemplar:
        s.exemplar === undefined
          ? undefined
          : { labels: s.exemplar.labels, value: num(s.exemplar.value), timestampMs: s.exemplar.timestampMs },
    })),
  };
}

function expectParses(format: ExpositionFormat, c: GoodCase): void {
  const exposition = parseExposition(c.text, format);
  expect(exposition.format).toBe(format);
  expect(projectActual(exposition)).toEqual(projectExpected(c));
}

function expectSyntaxError(format: ExpositionFormat, c: BadCase): void {
  let parsed: Exposition;
  try {
    parsed = parseExposition(c.text, format);
  } catch (err) {
    expect(err).toBeInstanceOf(ExpositionSyntaxError);
    const e = err as ExpositionSyntaxError;
    expect(Array.isArray(c.line) ? c.line : [c.line]).toContain(e.line);
    if (c.column !== undefined) expect(e.column).toBe(c.column);
    expect(e.column).toBeGreaterThanOrEqual(1);
    expect(e.reason).toMatch(c.reason);
    expect(e.message).toBe(`${e.line}:${e.column}: ${e.reason}`);
    return;
  }
  expect.unreachable(`parsed without error: ${JSON.stringify(projectActual(parsed))}`);
}

/** Value of the single sample in `m <value>` / `a <value>`. */
function onlyValue(text: string, format: ExpositionFormat): number {
  const e = parseExposition(text, format);
  expect(e.samples).toHaveLength(1);
  return e.samples[0]!.value;
}

function onlyTimestamp(text: string, format: ExpositionFormat): number | undefined {
  const e = parseExposition(text, format);
  expect(e.samples).toHaveLength(1);
  return e.samples[0]!.timestampMs;
}

const DUP = /duplicate|twice|again|repeat|already|more than once/i;
const SPLIT = /together|contiguous|group|interleav|earlier|again|already|split/i;
const VALUE = /value|number|float/i;
const TS = /timestamp/i;
const EXEMPLAR = /exemplar/i;
const NAME = /name/i;
const LABEL = /label/i;
const TYPE = /type/i;
const EOF = /EOF/;

// ---------------------------------------------------------------------------------------------------------
// Prometheus text format 0.0.4
// ---------------------------------------------------------------------------------------------------------

const promGood: GoodCase[] = [
  {
    title: 'a lone sample needs no metadata and is untyped',
    text: lines('a 1'),
    families: [fam('a', 'untyped')],
    samples: [smp('a', [], 1)],
  },
  {
    title: 'HELP and TYPE, labels and timestamps',
    text: lines(
      '# HELP jobs_done_total Jobs finished, by queue.',
      '# TYPE jobs_done_total counter',
      'jobs_done_total{queue="mail",result="ok"} 1027 1700000000000',
      'jobs_done_total{queue="mail",result="error"} 3 1700000000000',
    ),
    families: [fam('jobs_done_total', 'counter', 'Jobs finished, by queue.')],
    samples: [
      smp('jobs_done_total', ['queue', 'mail', 'result', 'ok'], 1027, { ts: 1700000000000 }),
      smp('jobs_done_total', ['queue', 'mail', 'result', 'error'], 3, { ts: 1700000000000 }),
    ],
  },
  {
    title: 'TYPE before HELP works as well as HELP before TYPE',
    text: lines(
      '# TYPE temp_celsius gauge',
      '# HELP temp_celsius Room temperature.',
      'temp_celsius{room="lab"} -3.25',
    ),
    families: [fam('temp_celsius', 'gauge', 'Room temperature.')],
    samples: [smp('temp_celsius', ['room', 'lab'], -3.25)],
  },
  {
    title: 'HELP with no text gives an empty help',
    text: lines('# HELP up', 'up 1'),
    families: [fam('up', 'untyped', '')],
    samples: [smp('up', [], 1)],
  },
  {
    title: 'HELP unescapes \\\\ and \\n',
    text: lines(String.raw`# HELP paths Lives in C:\\temp and\nspans two lines`, 'paths 1'),
    families: [fam('paths', 'untyped', 'Lives in C:\\temp and\nspans two lines')],
    samples: [smp('paths', [], 1)],
  },
  {
    title: 'HELP keeps raw quotes, UTF-8 and # as they are',
    text: lines('# HELP temp Temperature in °C, "approx" # rough', 'temp 21'),
    families: [fam('temp', 'untyped', 'Temperature in °C, "approx" # rough')],
    samples: [smp('temp', [], 21)],
  },
  {
    title: 'HELP only: the family stays untyped',
    text: lines('# HELP h Help only.', 'h 1'),
    families: [fam('h', 'untyped', 'Help only.')],
    samples: [smp('h', [], 1)],
  },
  {
    title: 'label values unescape \\\\, \\" and \\n',
    text: lines(String.raw`files{path="C:\\logs",note="say \"hi\"",lines="one\ntwo"} 2`),
    families: [fam('files', 'untyped')],
    samples: [smp('files', ['path', 'C:\\logs', 'note', 'say "hi"', 'lines', 'one\ntwo'], 2)],
  },
  {
    title: 'an escaped backslash before n is a backslash and an n',
    text: lines(String.raw`m{a="x\\ny"} 1`),
    families: [fam('m', 'untyped')],
    samples: [smp('m', ['a', 'x\\ny'], 1)],
  },
  {
    title: 'UTF-8 label values',
    text: lines('greeting{lang="日本語",city="Zürich",icon="🚀"} 1'),
    families: [fam('greeting', 'untyped')],
    samples: [smp('greeting', ['lang', '日本語', 'city', 'Zürich', 'icon', '🚀'], 1)],
  },
  {
    title: 'quotes hide braces, commas, equals signs and # in label values',
    text: lines('odd{v="}{,= # x",w="a b"} 1'),
    families: [fam('odd', 'untyped')],
    samples: [smp('odd', ['v', '}{,= # x', 'w', 'a b'], 1)],
  },
  {
    title: 'labels keep the order they were sent in',
    text: lines('m{zeta="1",alpha="2",mid="3"} 4'),
    families: [fam('m', 'untyped')],
    samples: [smp('m', ['zeta', '1', 'alpha', '2', 'mid', '3'], 4)],
  },
  {
    title: 'an empty label value',
    text: lines('m{a=""} 1'),
    families: [fam('m', 'untyped')],
    samples: [smp('m', ['a', ''], 1)],
  },
  {
    title: 'empty braces',
    text: lines('m{} 1'),
    families: [fam('m', 'untyped')],
    samples: [smp('m', [], 1)],
  },
  {
    title: 'a trailing comma in a label set',
    text: lines('m{a="1",} 1'),
    families: [fam('m', 'untyped')],
    samples: [smp('m', ['a', '1'], 1)],
  },
  {
    title: 'blanks and tabs between tokens, inside and around the braces',
    text: lines('m { a = "1" ,\tb="2" , }\t 5 \t 100'),
    families: [fam('m', 'untyped')],
    samples: [smp('m', ['a', '1', 'b', '2'], 5, { ts: 100 })],
  },
  {
    // DECISION: the exposition-format docs say leading and trailing whitespace is ignored; client_golang's
    // expfmt parser rejects a blank after the value ("expected integer as timestamp, got \"\"").
    title: 'leading and trailing blanks on a sample line',
    text: lines('  m 1  ', '\tn{a="b"} 2 3\t'),
    families: [fam('m', 'untyped'), fam('n', 'untyped')],
    samples: [smp('m', [], 1), smp('n', ['a', 'b'], 2, { ts: 3, family: 1 })],
  },
  {
    title: 'a tab as the only separator',
    text: lines('m\t1\t-5'),
    families: [fam('m', 'untyped')],
    samples: [smp('m', [], 1, { ts: -5 })],
  },
  {
    title: 'blank and whitespace-only lines are skipped',
    text: lines('', 'a 1', '   ', '\t', 'b 2', ''),
    families: [fam('a', 'untyped'), fam('b', 'untyped')],
    samples: [smp('a', [], 1), smp('b', [], 2, { family: 1 })],
  },
  {
    title: 'comments other than HELP and TYPE are ignored, lowercase keywords included',
    text: lines('# just a note', '#', '#   ', '# HELPFUL hints are not HELP', '# type a counter', 'a 1'),
    families: [fam('a', 'untyped')],
    samples: [smp('a', [], 1)],
  },
  {
    title: 'a comment between samples keeps the family together',
    text: lines('# TYPE g gauge', 'g{x="1"} 1', '# a remark', 'g{x="2"} 2'),
    families: [fam('g', 'gauge')],
    samples: [smp('g', ['x', '1'], 1), smp('g', ['x', '2'], 2)],
  },
  {
    title: 'families one after another',
    text: lines('# TYPE c_total counter', 'c_total 1', '# TYPE g gauge', 'g 2', 'u 3'),
    families: [fam('c_total', 'counter'), fam('g', 'gauge'), fam('u', 'untyped')],
    samples: [smp('c_total', [], 1), smp('g', [], 2, { family: 1 }), smp('u', [], 3, { family: 2 })],
  },
  {
    title: 'a sample of another name starts an untyped family',
    text: lines('# TYPE g gauge', 'g 1', 'other 2'),
    families: [fam('g', 'gauge'), fam('other', 'untyped')],
    samples: [smp('g', [], 1), smp('other', [], 2, { family: 1 })],
  },
  {
    title: 'suffixes belong to histograms and summaries only: g_sum after gauge g is a family of its own',
    text: lines('# TYPE g gauge', 'g 1', 'g_sum 2'),
    families: [fam('g', 'gauge'), fam('g_sum', 'untyped')],
    samples: [smp('g', [], 1), smp('g_sum', [], 2, { family: 1 })],
  },
  {
    // DECISION: only the exact name belongs to a text-format counter. Prometheus' scrape code
    // (isSeriesPartOfFamily) also files c_total under `# TYPE c counter`.
    title: 'counter c and sample c_total are two families',
    text: lines('# TYPE c counter', 'c_total 1'),
    families: [fam('c', 'counter'), fam('c_total', 'untyped')],
    samples: [smp('c_total', [], 1, { family: 1 })],
  },
  {
    title: 'a counter not named _total keeps its TYPE name',
    text: lines('# TYPE hits counter', 'hits 5'),
    families: [fam('hits', 'counter')],
    samples: [smp('hits', [], 5)],
  },
  {
    title: 'histogram: buckets, sum and count for two label sets',
    text: lines(
      '# HELP rpc_seconds RPC latency.',
      '# TYPE rpc_seconds histogram',
      'rpc_seconds_bucket{method="get",le="0.1"} 3',
      'rpc_seconds_bucket{method="get",le="1"} 7',
      'rpc_seconds_bucket{method="get",le="+Inf"} 8',
      'rpc_seconds_sum{method="get"} 4.5',
      'rpc_seconds_count{method="get"} 8',
      'rpc_seconds_bucket{le="0.1",method="put"} 0',
      'rpc_seconds_bucket{le="1e0",method="put"} 1',
      'rpc_seconds_bucket{le="+Inf",method="put"} 1',
      'rpc_seconds_sum{method="put"} 0.75',
      'rpc_seconds_count{method="put"} 1',
    ),
    families: [fam('rpc_seconds', 'histogram', 'RPC latency.')],
    samples: [
      smp('rpc_seconds_bucket', ['method', 'get', 'le', '0.1'], 3),
      smp('rpc_seconds_bucket', ['method', 'get', 'le', '1'], 7),
      smp('rpc_seconds_bucket', ['method', 'get', 'le', '+Inf'], 8),
      smp('rpc_seconds_sum', ['method', 'get'], 4.5),
      smp('rpc_seconds_count', ['method', 'get'], 8),
      smp('rpc_seconds_bucket', ['le', '0.1', 'method', 'put'], 0),
      smp('rpc_seconds_bucket', ['le', '1e0', 'method', 'put'], 1),
      smp('rpc_seconds_bucket', ['le', '+Inf', 'method', 'put'], 1),
      smp('rpc_seconds_sum', ['method', 'put'], 0.75),
      smp('rpc_seconds_count', ['method', 'put'], 1),
    ],
  },
  {
    title: 'summary: quantiles, sum and count',
    text: lines(
      '# TYPE gc_pause_seconds summary',
      'gc_pause_seconds{quantile="0.5"} 0.002',
      'gc_pause_seconds{quantile="0.99"} 0.04',
      'gc_pause_seconds_sum 12.5',
      'gc_pause_seconds_count 3001',
    ),
    families: [fam('gc_pause_seconds', 'summary')],
    samples: [
      smp('gc_pause_seconds', ['quantile', '0.5'], 0.002),
      smp('gc_pause_seconds', ['quantile', '0.99'], 0.04),
      smp('gc_pause_seconds_sum', [], 12.5),
      smp('gc_pause_seconds_count', [], 3001),
    ],
  },
  {
    title: 'summary with sum and count only',
    text: lines('# TYPE s summary', 's_count{op="r"} 2', 's_sum{op="r"} 0.5'),
    families: [fam('s', 'summary')],
    samples: [smp('s_count', ['op', 'r'], 2), smp('s_sum', ['op', 'r'], 0.5)],
  },
  {
    title: 'an explicit untyped TYPE',
    text: lines('# TYPE x untyped', 'x 1'),
    families: [fam('x', 'untyped')],
    samples: [smp('x', [], 1)],
  },
  {
    // DECISION (not spelled out): a TYPE line declares a family even without samples; expfmt drops such
    // families, the Python parser keeps them.
    title: 'a TYPE line without samples still declares a family',
    text: lines('# TYPE idle gauge', '# HELP idle Nothing yet.'),
    families: [fam('idle', 'gauge', 'Nothing yet.')],
    samples: [],
  },
  {
    title: 'le and quantile are ordinary labels outside histograms and summaries',
    text: lines('# TYPE g gauge', 'g{le="soon",quantile="most"} 1'),
    families: [fam('g', 'gauge')],
    samples: [smp('g', ['le', 'soon', 'quantile', 'most'], 1)],
  },
  {
    title: 'metric names may contain colons, label names may start with an underscore',
    text: lines('job:http_requests:rate5m{_shard="a",job="api"} 12.5'),
    families: [fam('job:http_requests:rate5m', 'untyped')],
    samples: [smp('job:http_requests:rate5m', ['_shard', 'a', 'job', 'api'], 12.5)],
  },
  {
    title: 'different label sets are different series',
    text: lines('m{a="1"} 1', 'm{a="2"} 1', 'm{a="1",b="1"} 1', 'm 3'),
    families: [fam('m', 'untyped')],
    samples: [
      smp('m', ['a', '1'], 1),
      smp('m', ['a', '2'], 1),
      smp('m', ['a', '1', 'b', '1'], 1),
      smp('m', [], 3),
    ],
  },
  {
    title: 'an empty exposition',
    text: '',
    families: [],
    samples: [],
  },
  {
    title: 'only comments and blank lines',
    text: lines('# nothing to see', '', '# HELPLESS'),
    families: [],
    samples: [],
  },
  {
    title: 'the largest finite float',
    text: lines('m 1.7976931348623157e308'),
    families: [fam('m', 'untyped')],
    samples: [smp('m', [], 1.7976931348623157e308)],
  },
];

const promBad: BadCase[] = [
  // Metadata lines.
  { title: 'TYPE with an unknown type', text: lines('# TYPE a gauges'), line: 1, column: 10, reason: TYPE },
  // DECISION: expfmt accepts any letter case and "gaugehistogram"; Prometheus' own promparse does not.
  {
    title: 'TYPE keywords are lowercase',
    text: lines('# TYPE a Counter'),
    line: 1,
    column: 10,
    reason: TYPE,
  },
  {
    title: 'gaugehistogram is not a text-format type',
    text: lines('# TYPE a gaugehistogram'),
    line: 1,
    column: 10,
    reason: TYPE,
  },
  // DECISION: expfmt silently ignores a TYPE line that ends after the name.
  { title: 'TYPE without a type', text: lines('# TYPE a', 'a 1'), line: 1, reason: TYPE },
  {
    title: 'TYPE with text after the type',
    text: lines('# TYPE a gauge extra'),
    line: 1,
    reason: /type|unexpected|extra/i,
  },
  { title: 'TYPE for an invalid name', text: lines('# TYPE a-b gauge'), line: 1, reason: NAME },
  { title: 'HELP for an invalid name', text: lines('# HELP 1a text'), line: 1, column: 8, reason: NAME },
  {
    title: 'a second TYPE line',
    text: lines('# TYPE a gauge', '# TYPE a gauge', 'a 1'),
    line: 2,
    reason: /TYPE/,
  },
  { title: 'a second HELP line', text: lines('# HELP a one', '# HELP a two'), line: 2, reason: /HELP/ },
  { title: 'TYPE after the family’s samples', text: lines('a 1', '# TYPE a gauge'), line: 2, reason: /TYPE/ },
  {
    title: 'TYPE for a family whose samples came earlier',
    text: lines('a 1', 'b 1', '# TYPE a gauge'),
    line: 3,
    reason: /TYPE|together|group|again|already/i,
  },
  {
    title: 'TYPE again for a family that has ended',
    text: lines('# TYPE a gauge', 'a 1', '# TYPE b gauge', 'b 1', '# TYPE a gauge'),
    line: 5,
    reason: /TYPE|together|group|again|already/i,
  },
  {
    title: 'HELP escape other than \\\\ and \\n',
    text: lines(String.raw`# HELP a tab\there`),
    line: 1,
    column: 13,
    reason: /escape/i,
  },
  {
    // DECISION: the 0.0.4 docs allow only \\ and \n in HELP; expfmt accepts \" since its UTF-8 work (2024).
    title: 'HELP escape \\" is not a text-format escape',
    text: lines(String.raw`# HELP a say \"hi\"`),
    line: 1,
    column: 14,
    reason: /escape/i,
  },

  // Label sets.
  {
    title: 'label value escape other than \\\\, \\" and \\n',
    text: lines(String.raw`a{b="x\ty"} 1`),
    line: 1,
    column: 7,
    reason: /escape/i,
  },
  {
    title: 'an unterminated label value',
    text: lines('a{b="1} 1'),
    line: 1,
    reason: /label|quot|unterminated|"/i,
  },
  {
    title: 'a raw line feed inside a label value',
    text: lines('a{b="x', 'y"} 1'),
    line: 1,
    reason: /line|label|unterminated/i,
  },
  { title: 'an unquoted label value', text: lines('a{b=1} 1'), line: 1, column: 5, reason: /quot|"/i },
  { title: 'a label without =', text: lines('a{b} 1'), line: 1, column: 4, reason: /=/ },
  { title: 'two commas in a row', text: lines('a{b="1",,c="2"} 1'), line: 1, column: 9, reason: LABEL },
  { title: 'a leading comma', text: lines('a{,b="1"} 1'), line: 1, column: 3, reason: LABEL },
  // DECISION: expfmt wants ',' or '}' after a label value; Prometheus' promparse tolerates the missing comma.
  { title: 'no comma between labels', text: lines('a{b="1" c="2"} 1'), line: 1, reason: /,|comma/i },
  { title: 'an unclosed label set', text: lines('a{b="1" 1'), line: 1, reason: /,|}|label/i },
  { title: 'labels without a metric name', text: lines('{b="1"} 1'), line: 1, column: 1, reason: NAME },
  {
    title: 'a label name starting with a digit',
    text: lines('a{0b="1"} 1'),
    line: 1,
    column: 3,
    reason: LABEL,
  },
  { title: 'a colon in a label name', text: lines('a{b:c="1"} 1'), line: 1, column: 4, reason: /label|=/i },
  { title: 'a dash in a label name', text: lines('a{b-c="1"} 1'), line: 1, column: 4, reason: /label|=/i },
  {
    title: 'a label name twice in one sample',
    text: lines('a{b="1",b="2"} 1'),
    line: 1,
    column: 9,
    reason: DUP,
  },

  // Metric names, values, timestamps.
  { title: 'a metric name starting with a digit', text: lines('0a 1'), line: 1, column: 1, reason: NAME },
  { title: 'a dash in a metric name', text: lines('a-b 1'), line: 1, column: 2, reason: /name|value/i },
  { title: 'a dot in a metric name', text: lines('a.b 1'), line: 1, column: 2, reason: /name|value/i },
  { title: 'a sample without a value', text: lines('a'), line: 1, reason: VALUE },
  { title: 'labels without a value', text: lines('a{b="1"}'), line: 1, reason: VALUE },
  { title: 'only blanks after the name', text: lines('a   '), line: 1, reason: VALUE },
  {
    title: 'text after the timestamp',
    text: lines('m 1 100 extra'),
    line: 1,
    column: 9,
    reason: /after|timestamp|unexpected|spurious/i,
  },

  // Families and series.
  {
    title: 'a family split by another family',
    text: lines('a 1', 'b 1', 'a 2'),
    line: 3,
    reason: SPLIT,
  },
  {
    title: 'a histogram split by another family',
    text: lines('# TYPE h histogram', 'h_bucket{le="+Inf"} 1', 'x 1', 'h_count 1'),
    line: 4,
    reason: SPLIT,
  },
  {
    title: 'a summary split by another family',
    text: lines('# TYPE s summary', 's_sum 1', 'other 1', 's_count 1'),
    line: 4,
    reason: SPLIT,
  },
  {
    title: 'the same series twice',
    text: lines('a{b="1",c="2"} 1', 'a{b="1",c="2"} 2'),
    line: 2,
    reason: DUP,
  },
  {
    title: 'the same series twice, labels in another order',
    text: lines('a{b="1",c="2"} 1', 'a{c="2",b="1"} 2'),
    line: 2,
    reason: DUP,
  },
  { title: 'the same series twice, no labels', text: lines('a 1', 'a 2'), line: 2, reason: DUP },
  { title: 'the same series twice, {} and no braces', text: lines('a 1', 'a{} 2'), line: 2, reason: DUP },
  {
    // DECISION: a series appears once per exposition, whatever its timestamps.
    title: 'the same series twice with different timestamps',
    text: lines('a 1 100', 'a 2 200'),
    line: 2,
    reason: DUP,
  },
  {
    title: 'the same bucket twice',
    text: lines('# TYPE h histogram', 'h_bucket{le="1"} 1', 'h_bucket{le="1"} 1'),
    line: 3,
    reason: DUP,
  },
  {
    title: 'a histogram bucket without le',
    text: lines('# TYPE h histogram', 'h_bucket{x="1"} 1'),
    line: 2,
    reason: /le/,
  },
  {
    title: 'a histogram bucket whose le is not a number',
    text: lines('# TYPE h histogram', 'h_bucket{le="big"} 1'),
    line: 2,
    reason: /le/,
  },
  {
    title: 'a summary quantile sample without quantile',
    text: lines('# TYPE s summary', 's{x="1"} 1'),
    line: 2,
    reason: /quantile/,
  },
  {
    title: 'a summary quantile that is not a number',
    text: lines('# TYPE s summary', 's{quantile="p99"} 1'),
    line: 2,
    reason: /quantile/,
  },
];

describe('Prometheus text format', () => {
  it.each(promGood)('parses: $title', (c) => expectParses('prometheus', c));

  it.each<[string, number]>([
    ['0', 0],
    ['42', 42],
    ['-7', -7],
    ['+3', 3],
    ['007', 7],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['-2.5e+2', -250],
    ['NaN', NaN],
    ['nan', NaN],
    ['Inf', Infinity],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['inf', Infinity],
    ['INF', Infinity],
    ['+infinity', Infinity],
    ['-Infinity', -Infinity],
  ])('value %s → %d', (text, value) => {
    const got = onlyValue(lines(`m ${text}`), 'prometheus');
    if (Number.isNaN(value)) expect(Number.isNaN(got)).toBe(true);
    else expect(got).toBe(value);
  });

  it.each<[string, number]>([
    ['0', 0],
    ['1700000000123', 1700000000123],
    ['-1000', -1000],
    ['9007199254740991', 9007199254740991],
  ])('timestamp %s → %d ms', (text, ms) => {
    expect(onlyTimestamp(lines(`m 1 ${text}`), 'prometheus')).toBe(ms);
  });

  it('no timestamp → timestampMs undefined', () => {
    expect(onlyTimestamp(lines('m 1'), 'prometheus')).toBeUndefined();
  });

  it.each(promBad)('rejects: $title', (c) => expectSyntaxError('prometheus', c));

  it.each([
    'abc',
    '1.2.3',
    '1x',
    // Hex floats: strconv.ParseFloat takes them, but Prometheus and client_golang keep to the pre-Go-1.13
    // forms and refuse them, and promtool is the reference here.
    '0x10',
    '0x1p-2',
    '0X1.8P1',
    '-0x10p0',
    // DECISION: strconv.ParseFloat accepts digit-separating underscores; both Prometheus parsers reject them
    '1_000',
    '+NaN',
    '--1',
    '1e',
    'infinit',
    '1,5',
    'true',
    // out of float64 range: strconv.ParseFloat returns ErrRange
    '1e400',
  ])('rejects value %s', (text) =>
    expectSyntaxError('prometheus', {
      title: text,
      text: lines(`m ${text}`),
      line: 1,
      column: 3,
      reason: VALUE,
    }),
  );

  it.each(['1.5', 'abc', '1e3', 'NaN', '9223372036854775808'])('rejects timestamp %s', (text) =>
    expectSyntaxError('prometheus', {
      title: text,
      text: lines(`m 1 ${text}`),
      line: 1,
      column: 5,
      reason: TS,
    }),
  );
});

// ---------------------------------------------------------------------------------------------------------
// OpenMetrics 1.0
// ---------------------------------------------------------------------------------------------------------

const omGood: GoodCase[] = [
  { title: 'the smallest exposition is # EOF', text: '# EOF\n', families: [], samples: [] },
  { title: '# EOF without a final line feed', text: '# EOF', families: [], samples: [] },
  {
    title: 'samples, then # EOF without a final line feed',
    text: 'a 1\n# EOF',
    families: [fam('a', 'unknown')],
    samples: [smp('a', [], 1)],
  },
  {
    title: 'a sample without metadata is unknown',
    text: om('a 1'),
    families: [fam('a', 'unknown')],
    samples: [smp('a', [], 1)],
  },
  {
    title: 'an explicit unknown TYPE',
    text: om('# TYPE legacy unknown', 'legacy{x="y"} 3'),
    families: [fam('legacy', 'unknown')],
    samples: [smp('legacy', ['x', 'y'], 3)],
  },
  {
    title: 'gauge with TYPE, UNIT and HELP',
    text: om(
      '# TYPE disk_free_bytes gauge',
      '# UNIT disk_free_bytes bytes',
      '# HELP disk_free_bytes Free space per mount.',
      'disk_free_bytes{mount="/"} 1.5e9',
      'disk_free_bytes{mount="/var"} 2e9',
    ),
    families: [fam('disk_free_bytes', 'gauge', 'Free space per mount.', 'bytes')],
    samples: [smp('disk_free_bytes', ['mount', '/'], 1.5e9), smp('disk_free_bytes', ['mount', '/var'], 2e9)],
  },
  {
    title: 'UNIT, then HELP, then TYPE',
    text: om('# UNIT q_items items', '# HELP q_items Queue depth.', '# TYPE q_items gauge', 'q_items 4'),
    families: [fam('q_items', 'gauge', 'Queue depth.', 'items')],
    samples: [smp('q_items', [], 4)],
  },
  {
    title: 'metadata for another name starts another family',
    text: om('# HELP q Queue depth.', '# UNIT q_items items', 'q_items 4'),
    families: [fam('q', 'unknown', 'Queue depth.'), fam('q_items', 'unknown', undefined, 'items')],
    samples: [smp('q_items', [], 4, { family: 1 })],
  },
  {
    title: 'a counter family drops _total; _created belongs to it',
    text: om(
      '# TYPE http_requests counter',
      '# HELP http_requests Requests served.',
      'http_requests_total{code="200"} 1027',
      'http_requests_created{code="200"} 1699990000',
      'http_requests_total{code="500"} 3',
      'http_requests_created{code="500"} 1699990000.25',
    ),
    families: [fam('http_requests', 'counter', 'Requests served.')],
    samples: [
      smp('http_requests_total', ['code', '200'], 1027),
      smp('http_requests_created', ['code', '200'], 1699990000),
      smp('http_requests_total', ['code', '500'], 3),
      smp('http_requests_created', ['code', '500'], 1699990000.25),
    ],
  },
  {
    title: 'a counter _total with an exemplar that has a timestamp',
    text: om('# TYPE jobs counter', 'jobs_total 12 # {trace_id="abc123"} 1 1700000000.25'),
    families: [fam('jobs', 'counter')],
    samples: [
      smp('jobs_total', [], 12, {
        ex: { labels: ['trace_id', 'abc123'], value: 1, timestampMs: 1700000000250 },
      }),
    ],
  },
  {
    title: 'a counter with a unit, _created alone allowed',
    text: om(
      '# TYPE build_seconds counter',
      '# UNIT build_seconds seconds',
      'build_seconds_created 1699999999',
    ),
    families: [fam('build_seconds', 'counter', undefined, 'seconds')],
    samples: [smp('build_seconds_created', [], 1699999999)],
  },
  {
    title: 'histogram with exemplars, count, sum and created',
    text: om(
      '# TYPE req_seconds histogram',
      '# UNIT req_seconds seconds',
      'req_seconds_bucket{le="0.05"} 2',
      'req_seconds_bucket{le="0.5"} 9 # {} 0.21',
      'req_seconds_bucket{le="5"} 11 # {trace_id="f00d"} 3.2',
      'req_seconds_bucket{le="+Inf"} 12 # {trace_id="beef",span_id="01"} 7.5 1700000001.5',
      'req_seconds_count 12',
      'req_seconds_sum 30.25',
      'req_seconds_created 1699999000',
    ),
    families: [fam('req_seconds', 'histogram', undefined, 'seconds')],
    samples: [
      smp('req_seconds_bucket', ['le', '0.05'], 2),
      smp('req_seconds_bucket', ['le', '0.5'], 9, { ex: { labels: [], value: 0.21 } }),
      smp('req_seconds_bucket', ['le', '5'], 11, { ex: { labels: ['trace_id', 'f00d'], value: 3.2 } }),
      smp('req_seconds_bucket', ['le', '+Inf'], 12, {
        ex: { labels: ['trace_id', 'beef', 'span_id', '01'], value: 7.5, timestampMs: 1700000001500 },
      }),
      smp('req_seconds_count', [], 12),
      smp('req_seconds_sum', [], 30.25),
      smp('req_seconds_created', [], 1699999000),
    ],
  },
  {
    title: 'histogram with two label groups',
    text: om(
      '# TYPE q_wait histogram',
      'q_wait_bucket{queue="a",le="1"} 0',
      'q_wait_bucket{queue="a",le="+Inf"} 2',
      'q_wait_count{queue="a"} 2',
      'q_wait_sum{queue="a"} 3',
      'q_wait_bucket{le="1",queue="b"} 1',
      'q_wait_bucket{le="+Inf",queue="b"} 1',
      'q_wait_count{queue="b"} 1',
      'q_wait_sum{queue="b"} 0.5',
    ),
    families: [fam('q_wait', 'histogram')],
    samples: [
      smp('q_wait_bucket', ['queue', 'a', 'le', '1'], 0),
      smp('q_wait_bucket', ['queue', 'a', 'le', '+Inf'], 2),
      smp('q_wait_count', ['queue', 'a'], 2),
      smp('q_wait_sum', ['queue', 'a'], 3),
      smp('q_wait_bucket', ['le', '1', 'queue', 'b'], 1),
      smp('q_wait_bucket', ['le', '+Inf', 'queue', 'b'], 1),
      smp('q_wait_count', ['queue', 'b'], 1),
      smp('q_wait_sum', ['queue', 'b'], 0.5),
    ],
  },
  {
    title: 'histogram with negative bounds, buckets only',
    text: om(
      '# TYPE temp_delta histogram',
      'temp_delta_bucket{le="-1"} 1',
      'temp_delta_bucket{le="0"} 4',
      'temp_delta_bucket{le="+Inf"} 5',
    ),
    families: [fam('temp_delta', 'histogram')],
    samples: [
      smp('temp_delta_bucket', ['le', '-1'], 1),
      smp('temp_delta_bucket', ['le', '0'], 4),
      smp('temp_delta_bucket', ['le', '+Inf'], 5),
    ],
  },
  {
    title: 'histogram le values outside the canonical spelling are still numbers',
    text: om(
      '# TYPE h histogram',
      'h_bucket{le="1e-3"} 0',
      'h_bucket{le="0.5"} 1',
      'h_bucket{le="10"} 1',
      'h_bucket{le="1.1e+23"} 2',
      'h_bucket{le="+Inf"} 2',
    ),
    families: [fam('h', 'histogram')],
    samples: [
      smp('h_bucket', ['le', '1e-3'], 0),
      smp('h_bucket', ['le', '0.5'], 1),
      smp('h_bucket', ['le', '10'], 1),
      smp('h_bucket', ['le', '1.1e+23'], 2),
      smp('h_bucket', ['le', '+Inf'], 2),
    ],
  },
  {
    title: 'a sample timestamp and an exemplar timestamp on one bucket',
    text: om('# TYPE h histogram', 'h_bucket{le="+Inf"} 1 1700000000 # {a="b"} 0.5 1699999999.5'),
    families: [fam('h', 'histogram')],
    samples: [
      smp('h_bucket', ['le', '+Inf'], 1, {
        ts: 1700000000000,
        ex: { labels: ['a', 'b'], value: 0.5, timestampMs: 1699999999500 },
      }),
    ],
  },
  {
    title: 'gaugehistogram with an exemplar',
    text: om(
      '# TYPE queue_age_seconds gaugehistogram',
      'queue_age_seconds_bucket{le="1"} 3',
      'queue_age_seconds_bucket{le="10"} 5 # {item="x7"} 4',
      'queue_age_seconds_bucket{le="+Inf"} 6',
      'queue_age_seconds_gcount 6',
      'queue_age_seconds_gsum 42',
    ),
    families: [fam('queue_age_seconds', 'gaugehistogram')],
    samples: [
      smp('queue_age_seconds_bucket', ['le', '1'], 3),
      smp('queue_age_seconds_bucket', ['le', '10'], 5, { ex: { labels: ['item', 'x7'], value: 4 } }),
      smp('queue_age_seconds_bucket', ['le', '+Inf'], 6),
      smp('queue_age_seconds_gcount', [], 6),
      smp('queue_age_seconds_gsum', [], 42),
    ],
  },
  {
    title: 'a gaugehistogram has _gcount, so g_count starts a family of its own',
    text: om('# TYPE g gaugehistogram', 'g_bucket{le="+Inf"} 1', 'g_gcount 1', 'g_gsum 1', 'g_count 5'),
    families: [fam('g', 'gaugehistogram'), fam('g_count', 'unknown')],
    samples: [
      smp('g_bucket', ['le', '+Inf'], 1),
      smp('g_gcount', [], 1),
      smp('g_gsum', [], 1),
      smp('g_count', [], 5, { family: 1 }),
    ],
  },
  {
    // Spec: "The next MetricFamily MUST be signalled with either metadata or a new sample metric name which
    // cannot be part of the previous MetricFamily."
    title: 'a name that only shares the prefix of a gauge starts an unknown family',
    text: om('# TYPE g gauge', 'g 1', 'g_max 2'),
    families: [fam('g', 'gauge'), fam('g_max', 'unknown')],
    samples: [smp('g', [], 1), smp('g_max', [], 2, { family: 1 })],
  },
  {
    title: 'summary with quantiles 0 to 1, sum, count and created',
    text: om(
      '# TYPE rpc_latency_seconds summary',
      'rpc_latency_seconds{quantile="0"} 0.001',
      'rpc_latency_seconds{quantile="0.5"} 0.02',
      'rpc_latency_seconds{quantile="1"} 0.9',
      'rpc_latency_seconds_sum 120.5',
      'rpc_latency_seconds_count 4000',
      'rpc_latency_seconds_created 1699999000',
    ),
    families: [fam('rpc_latency_seconds', 'summary')],
    samples: [
      smp('rpc_latency_seconds', ['quantile', '0'], 0.001),
      smp('rpc_latency_seconds', ['quantile', '0.5'], 0.02),
      smp('rpc_latency_seconds', ['quantile', '1'], 0.9),
      smp('rpc_latency_seconds_sum', [], 120.5),
      smp('rpc_latency_seconds_count', [], 4000),
      smp('rpc_latency_seconds_created', [], 1699999000),
    ],
  },
  {
    title: 'summary without quantiles',
    text: om('# TYPE s summary', 's_count{op="w"} 7', 's_sum{op="w"} 1.25'),
    families: [fam('s', 'summary')],
    samples: [smp('s_count', ['op', 'w'], 7), smp('s_sum', ['op', 'w'], 1.25)],
  },
  {
    title: 'info',
    text: om(
      '# TYPE app_build info',
      '# HELP app_build Build metadata.',
      'app_build_info{version="2.1.0",commit="9f8e7d"} 1',
    ),
    families: [fam('app_build', 'info', 'Build metadata.')],
    samples: [smp('app_build_info', ['version', '2.1.0', 'commit', '9f8e7d'], 1)],
  },
  {
    title: 'info for two entities, value written 1.0',
    text: om(
      '# TYPE node info',
      'node_info{entity="a",kernel="6.1"} 1.0',
      'node_info{entity="b",kernel="6.6"} 1',
    ),
    families: [fam('node', 'info')],
    samples: [
      smp('node_info', ['entity', 'a', 'kernel', '6.1'], 1),
      smp('node_info', ['entity', 'b', 'kernel', '6.6'], 1),
    ],
  },
  {
    title: 'stateset',
    text: om('# TYPE door stateset', 'door{door="open"} 0', 'door{door="closed"} 1'),
    families: [fam('door', 'stateset')],
    samples: [smp('door', ['door', 'open'], 0), smp('door', ['door', 'closed'], 1)],
  },
  {
    title: 'stateset with another label, values written 1.0 and 0.0',
    text: om(
      '# TYPE svc stateset',
      'svc{host="a",svc="up"} 1.0',
      'svc{host="a",svc="down"} 0.0',
      'svc{svc="up",host="b"} 0',
      'svc{svc="down",host="b"} 1',
    ),
    families: [fam('svc', 'stateset')],
    samples: [
      smp('svc', ['host', 'a', 'svc', 'up'], 1),
      smp('svc', ['host', 'a', 'svc', 'down'], 0),
      smp('svc', ['svc', 'up', 'host', 'b'], 0),
      smp('svc', ['svc', 'down', 'host', 'b'], 1),
    ],
  },
  {
    title: 'a family with metadata and no samples',
    text: om('# TYPE idle gauge', '# HELP idle Nothing yet.'),
    families: [fam('idle', 'gauge', 'Nothing yet.')],
    samples: [],
  },
  {
    // Spec: "The value of a UNIT or HELP line MAY be empty. This MUST be treated as if no metadata line for
    // the MetricFamily existed." (The Python parser reports help '' instead.)
    title: 'an empty HELP or UNIT counts as absent',
    text: om('# TYPE q gauge', '# HELP q ', '# UNIT q ', 'q 1'),
    families: [fam('q', 'gauge')],
    samples: [smp('q', [], 1)],
  },
  {
    title: 'HELP unescapes \\\\, \\n and \\"',
    text: om(String.raw`# HELP h In C:\\tmp, \"quoted\"\nnext line`, 'h 1'),
    families: [fam('h', 'unknown', 'In C:\\tmp, "quoted"\nnext line')],
    samples: [smp('h', [], 1)],
  },
  {
    title: 'label values unescape \\\\, \\" and \\n',
    text: om(String.raw`m{a="back\\slash",b="quote\"d",c="two\nlines"} 1`),
    families: [fam('m', 'unknown')],
    samples: [smp('m', ['a', 'back\\slash', 'b', 'quote"d', 'c', 'two\nlines'], 1)],
  },
  {
    // ABNF: escaped-char =/ BS normal-char ("A single backslash SHOULD NOT be used for undefined escape
    // sequences", so SHOULD, not MUST). The Python and Prometheus parsers keep such a pair as written.
    title: 'an undefined escape in a label value is kept as written',
    text: om(String.raw`m{path="C:\tmp"} 1`),
    families: [fam('m', 'unknown')],
    samples: [smp('m', ['path', 'C:\\tmp'], 1)],
  },
  {
    title: 'UTF-8 in HELP and label values',
    text: om('# HELP greet Grüße 👋', 'greet{lang="中文"} 1'),
    families: [fam('greet', 'unknown', 'Grüße 👋')],
    samples: [smp('greet', ['lang', '中文'], 1)],
  },
  {
    title: '" # " inside label values is not an exemplar',
    text: om('# TYPE c counter', 'c_total{note="a # b"} 1 # {note="c # d"} 2'),
    families: [fam('c', 'counter')],
    samples: [smp('c_total', ['note', 'a # b'], 1, { ex: { labels: ['note', 'c # d'], value: 2 } })],
  },
  {
    title: 'an exemplar label set of exactly 128 code points (astral characters count once)',
    text: om('# TYPE c counter', `c_total 1 # {trace_id="${'🚀'.repeat(120)}"} 1`),
    families: [fam('c', 'counter')],
    samples: [smp('c_total', [], 1, { ex: { labels: ['trace_id', '🚀'.repeat(120)], value: 1 } })],
  },
  {
    title: 'empty braces',
    text: om('m{} 1'),
    families: [fam('m', 'unknown')],
    samples: [smp('m', [], 1)],
  },
  {
    title: 'labels keep the order they were sent in',
    text: om('m{zeta="1",alpha="2"} 4'),
    families: [fam('m', 'unknown')],
    samples: [smp('m', ['zeta', '1', 'alpha', '2'], 4)],
  },
  {
    title: 'metric names may contain colons',
    text: om('ns:requests:rate1m 0.5'),
    families: [fam('ns:requests:rate1m', 'unknown')],
    samples: [smp('ns:requests:rate1m', [], 0.5)],
  },
  {
    title: 'families one after another',
    text: om(
      '# TYPE c counter',
      'c_total 1',
      '# TYPE g gauge',
      'g -2.5',
      '# TYPE s summary',
      's_count 0',
      's_sum 0',
      'u NaN',
    ),
    families: [fam('c', 'counter'), fam('g', 'gauge'), fam('s', 'summary'), fam('u', 'unknown')],
    samples: [
      smp('c_total', [], 1),
      smp('g', [], -2.5, { family: 1 }),
      smp('s_count', [], 0, { family: 2 }),
      smp('s_sum', [], 0, { family: 2 }),
      smp('u', [], NaN, { family: 3 }),
    ],
  },
  {
    title: 'a counter _total of 0',
    text: om('# TYPE c counter', 'c_total{a="x"} 0'),
    families: [fam('c', 'counter')],
    samples: [smp('c_total', ['a', 'x'], 0)],
  },
  {
    title: 'the same name with different label sets in one gauge family',
    text: om('# TYPE g gauge', 'g{a="1"} 1', 'g{a="2"} 2', 'g 3'),
    families: [fam('g', 'gauge')],
    samples: [smp('g', ['a', '1'], 1), smp('g', ['a', '2'], 2), smp('g', [], 3)],
  },
];

const omBad: BadCase[] = [
  // # EOF and line structure.
  { title: 'no # EOF', text: 'a 1\n', line: [1, 2], reason: EOF },
  { title: 'empty input', text: '', line: 1, reason: EOF },
  { title: 'a blank line', text: 'a 1\n\n# EOF\n', line: 2, column: 1, reason: /blank|empty/i },
  { title: 'a blank line first', text: '\na 1\n# EOF\n', line: 1, column: 1, reason: /blank|empty/i },
  { title: 'a sample after # EOF', text: '# EOF\na 1\n', line: 2, reason: EOF },
  { title: 'a second line feed after # EOF', text: '# EOF\n\n', line: 2, reason: EOF },
  { title: '# EOF twice', text: 'a 1\n# EOF\n# EOF\n', line: 3, reason: EOF },
  { title: '# EOF with a trailing blank', text: '# EOF \n', line: 1, reason: /EOF|comment|#/i },
  {
    title: 'a carriage return before the line feed',
    text: 'a 1\r\n# EOF\n',
    line: 1,
    reason: /carriage|\\r|value|number/i,
  },

  // Comments and metadata.
  { title: 'a plain comment', text: om('# just a note', 'a 1'), line: 1, reason: /comment|HELP|TYPE|UNIT/ },
  { title: 'a bare #', text: om('#', 'a 1'), line: 1, reason: /comment|HELP|TYPE|UNIT/ },
  {
    title: 'a lowercase metadata keyword',
    text: om('# type a gauge'),
    line: 1,
    reason: /comment|HELP|TYPE|UNIT/,
  },
  {
    title: 'TYPE untyped is Prometheus-only',
    text: om('# TYPE a untyped'),
    line: 1,
    column: 10,
    reason: TYPE,
  },
  { title: 'TYPE is case-sensitive', text: om('# TYPE a Gauge'), line: 1, column: 10, reason: TYPE },
  { title: 'an unknown TYPE', text: om('# TYPE a timer'), line: 1, column: 10, reason: TYPE },
  { title: 'TYPE without a type', text: om('# TYPE a'), line: 1, reason: /type|space/i },
  { title: 'HELP without the blank after the name', text: om('# HELP a'), line: 1, reason: /help|space/i },
  { title: 'a second HELP', text: om('# HELP a one', '# HELP a two'), line: 2, reason: /HELP/ },
  {
    title: 'a second TYPE',
    text: om('# TYPE a gauge', '# TYPE a gauge'),
    line: 2,
    reason: /TYPE|twice|again|second|duplicate/i,
  },
  {
    title: 'a second UNIT',
    text: om('# TYPE a_s gauge', '# UNIT a_s s', '# UNIT a_s s'),
    line: 3,
    reason: /UNIT/,
  },
  {
    title: 'HELP after samples',
    text: om('# TYPE a gauge', 'a 1', '# HELP a late'),
    line: 3,
    reason: /HELP/,
  },
  { title: 'TYPE after samples', text: om('a 1', '# TYPE a gauge'), line: 2, reason: /TYPE/ },
  {
    title: 'UNIT after samples',
    text: om('# TYPE a_s gauge', 'a_s 1', '# UNIT a_s s'),
    line: 3,
    reason: /UNIT/,
  },
  {
    title: 'metadata for a family that has ended',
    text: om('a 1', 'b 1', '# HELP a late'),
    line: 3,
    reason: /HELP|together|interleav|again|already|earlier|family/i,
  },
  {
    title: 'a unit that is not the name’s suffix',
    text: om('# TYPE speed gauge', '# UNIT speed seconds'),
    line: 2,
    reason: /unit/i,
  },
  {
    title: 'a unit suffix needs an underscore',
    text: om('# TYPE fooseconds gauge', '# UNIT fooseconds seconds'),
    line: 2,
    reason: /unit/i,
  },
  {
    title: 'a unit with a character a name cannot hold',
    text: om('# TYPE a_s gauge', '# UNIT a_s s-x'),
    line: 2,
    reason: /unit/i,
  },
  {
    title: 'a stateset with a unit',
    text: om('# TYPE s_x stateset', '# UNIT s_x x'),
    line: 2,
    reason: /unit/i,
  },
  { title: 'an info with a unit', text: om('# TYPE i_x info', '# UNIT i_x x'), line: 2, reason: /unit/i },
  { title: 'a unit, then TYPE info', text: om('# UNIT i_x x', '# TYPE i_x info'), line: 2, reason: /unit/i },

  // Separators (exactly one space, no tabs, no blanks in label sets).
  {
    title: 'a tab between name and value',
    text: om('a\t1'),
    line: 1,
    column: 2,
    reason: /space|tab|blank|separat|invalid/i,
  },
  {
    title: 'a tab before the timestamp',
    text: om('a 1\t2'),
    line: 1,
    reason: /space|tab|blank|separat|invalid|value/i,
  },
  { title: 'two spaces before the value', text: om('a  1'), line: 1, reason: /space|value/i },
  { title: 'a trailing space after the value', text: om('a 1 '), line: 1, reason: /space|timestamp|end/i },
  { title: 'a leading space', text: om(' a 1'), line: 1, column: 1, reason: /name|space|blank/i },
  // ABNF: labels = "{" [label *(COMMA label)] "}"; the Python parser rejects the trailing comma too.
  { title: 'a trailing comma in a label set', text: om('a{b="1",} 1'), line: 1, reason: /comma|label/i },
  {
    title: 'a space after a comma in a label set',
    text: om('a{b="1", c="2"} 1'),
    line: 1,
    column: 9,
    reason: LABEL,
  },
  { title: 'a space before =', text: om('a{b ="1"} 1'), line: 1, column: 4, reason: /=|label/i },
  {
    title: 'a space between the name and {',
    text: om('a {b="1"} 1'),
    line: 1,
    reason: /value|space|label|\{/i,
  },

  // Names and labels.
  { title: 'a metric name starting with a digit', text: om('0a 1'), line: 1, column: 1, reason: NAME },
  { title: 'a dash in a metric name', text: om('a-b 1'), line: 1, column: 2, reason: /name|space|value/i },
  { title: 'labels without a metric name', text: om('{b="1"} 1'), line: 1, column: 1, reason: NAME },
  { title: 'a label name starting with a digit', text: om('a{0x="1"} 1'), line: 1, column: 3, reason: LABEL },
  { title: 'a colon in a label name', text: om('a{b:c="1"} 1'), line: 1, column: 4, reason: /label|=/i },
  { title: 'an unquoted label value', text: om('a{b=1} 1'), line: 1, column: 5, reason: /quot|"/i },
  {
    title: 'an unterminated label value',
    text: om('a{b="1} 1'),
    line: 1,
    reason: /label|quot|unterminated|"/i,
  },
  {
    title: 'a label name twice in one sample',
    text: om('a{x="1",x="2"} 1'),
    line: 1,
    column: 9,
    reason: DUP,
  },
  { title: 'a sample without a value', text: om('a'), line: 1, reason: VALUE },

  // Timestamps.
  { title: 'a NaN timestamp', text: om('a 1 NaN'), line: 1, column: 5, reason: TS },
  { title: 'an infinite timestamp', text: om('a 1 +Inf'), line: 1, column: 5, reason: TS },
  { title: 'a hex timestamp', text: om('a 1 0x1p3'), line: 1, column: 5, reason: TS },
  { title: 'text after the timestamp', text: om('a 1 2 3'), line: 1, reason: /exemplar|after|unexpected|#/i },

  // Families and groups.
  {
    title: 'interleaved families',
    text: om('# TYPE a gauge', 'a 1', '# TYPE b gauge', 'b 1', 'a 2'),
    line: 5,
    reason: SPLIT,
  },
  {
    title: 'a group of a summary split by another group',
    text: om('# TYPE s summary', 's_sum{x="1"} 1', 's_sum{x="2"} 1', 's_count{x="1"} 1'),
    line: 4,
    reason: SPLIT,
  },
  { title: 'the same series twice', text: om('a 1', 'a 2'), line: 2, reason: DUP },
  {
    title: 'the same series twice, labels in another order',
    text: om('a{x="1",y="2"} 1', 'a{y="2",x="1"} 1'),
    line: 2,
    reason: DUP,
  },
  {
    // DECISION: the spec allows several MetricPoints per Metric with increasing timestamps ("If more than one
    // MetricPoint is exposed for a Metric, then its MetricPoints MUST have monotonically increasing
    // timestamps"); Overseer rejects any repeated series.
    title: 'the same series twice with increasing timestamps',
    text: om('# TYPE g gauge', 'g 1 1', 'g 2 2'),
    line: 3,
    reason: DUP,
  },
  {
    // Spec: "The name of a MetricFamily MUST NOT result in a potential clash for sample metric names".
    title: 'a gauge named like a counter’s _created sample',
    text: om('# TYPE foo counter', 'foo_total 1', '# TYPE foo_created gauge', 'foo_created 2'),
    line: [3, 4],
    reason: /clash|family|belong/i,
  },

  // Counters.
  {
    title: 'a counter sample without _total',
    text: om('# TYPE c counter', 'c 1'),
    line: 2,
    reason: /total|belong|family|clash|suffix/i,
  },
  {
    title: 'a negative counter',
    text: om('# TYPE c counter', 'c_total -1'),
    line: 2,
    reason: /negative|counter|total/i,
  },
  {
    title: 'a NaN counter',
    text: om('# TYPE c counter', 'c_total NaN'),
    line: 2,
    reason: /NaN|counter|total|negative/i,
  },

  // Histograms and gauge histograms.
  {
    title: 'a bucket without le',
    text: om('# TYPE h histogram', 'h_bucket{a="1"} 0'),
    line: 2,
    reason: /le/,
  },
  {
    title: 'an le that is not a number',
    text: om('# TYPE h histogram', 'h_bucket{le="x"} 0'),
    line: 2,
    reason: /le/,
  },
  {
    // Spec: "Bucket thresholds MUST NOT equal NaN."
    title: 'an le of NaN',
    text: om('# TYPE h histogram', 'h_bucket{le="NaN"} 0', 'h_bucket{le="+Inf"} 0'),
    line: 2,
    reason: /le/,
  },
  {
    title: 'buckets out of order',
    text: om('# TYPE h histogram', 'h_bucket{le="2"} 0', 'h_bucket{le="1"} 0', 'h_bucket{le="+Inf"} 0'),
    line: 3,
    reason: /le|order|bucket/i,
  },
  {
    title: 'the same bound spelled twice (1 and 1.0)',
    text: om('# TYPE h histogram', 'h_bucket{le="1"} 0', 'h_bucket{le="1.0"} 0', 'h_bucket{le="+Inf"} 0'),
    line: 3,
    reason: /le|order|bucket|duplicate/i,
  },
  {
    title: 'bucket counts that go down',
    text: om('# TYPE h histogram', 'h_bucket{le="1"} 5', 'h_bucket{le="+Inf"} 4'),
    line: 3,
    reason: /cumulative|decreas|bucket|less|lower/i,
  },
  {
    title: 'no +Inf bucket',
    text: om('# TYPE h histogram', 'h_bucket{le="1"} 1', 'h_bucket{le="2"} 2'),
    line: [3, 4],
    reason: /Inf/i,
  },
  {
    title: 'no +Inf bucket before the next group',
    text: om('# TYPE h histogram', 'h_bucket{a="x",le="1"} 1', 'h_bucket{a="y",le="+Inf"} 1'),
    line: [2, 3],
    reason: /Inf/i,
  },
  {
    title: '_count differs from the +Inf bucket',
    text: om('# TYPE h histogram', 'h_bucket{le="+Inf"} 3', 'h_count 4', 'h_sum 1'),
    line: [3, 4, 5],
    reason: /count|Inf/i,
  },
  {
    title: 'a gaugehistogram without a +Inf bucket',
    text: om('# TYPE g gaugehistogram', 'g_bucket{le="1"} 1'),
    line: [2, 3],
    reason: /Inf/i,
  },
  {
    title: 'a gaugehistogram bucket without le',
    text: om('# TYPE g gaugehistogram', 'g_bucket 1'),
    line: 2,
    reason: /le/,
  },

  // Summaries.
  {
    title: 'a quantile above 1',
    text: om('# TYPE s summary', 's{quantile="1.5"} 0'),
    line: 2,
    reason: /quantile/,
  },
  {
    title: 'a quantile below 0',
    text: om('# TYPE s summary', 's{quantile="-0.1"} 0'),
    line: 2,
    reason: /quantile/,
  },
  {
    title: 'a quantile sample without quantile',
    text: om('# TYPE s summary', 's 1'),
    line: 2,
    reason: /quantile/,
  },
  {
    title: 'a quantile that is not a number',
    text: om('# TYPE s summary', 's{quantile="p99"} 1'),
    line: 2,
    reason: /quantile/,
  },

  // StateSets and info.
  {
    title: 'a stateset value of 2',
    text: om('# TYPE s stateset', 's{s="a"} 2'),
    line: 2,
    reason: /stateset|0|1/i,
  },
  {
    title: 'a stateset value of 0.5',
    text: om('# TYPE s stateset', 's{s="a"} 0.5'),
    line: 2,
    reason: /stateset|0|1/i,
  },
  {
    title: 'a stateset sample without the label named after its family',
    text: om('# TYPE s stateset', 's{other="a"} 1'),
    line: 2,
    reason: LABEL,
  },
  { title: 'an info value of 2', text: om('# TYPE i info', 'i_info{v="1"} 2'), line: 2, reason: /info|1/i },
  { title: 'an info value of 0', text: om('# TYPE i info', 'i_info{v="1"} 0'), line: 2, reason: /info|1/i },
  {
    title: 'an info sample without _info',
    text: om('# TYPE i info', 'i{v="1"} 1'),
    line: 2,
    reason: /info|belong|family|clash|suffix/i,
  },

  // Exemplars.
  {
    title: 'an exemplar on a gauge',
    text: om('# TYPE g gauge', 'g 1 # {a="b"} 1'),
    line: 2,
    reason: EXEMPLAR,
  },
  { title: 'an exemplar on an unknown', text: om('u 1 # {a="b"} 1'), line: 1, reason: EXEMPLAR },
  {
    title: 'an exemplar on a histogram _sum',
    text: om('# TYPE h histogram', 'h_bucket{le="+Inf"} 1', 'h_count 1', 'h_sum 1 # {a="b"} 1'),
    line: 4,
    reason: EXEMPLAR,
  },
  {
    title: 'an exemplar on a counter _created',
    text: om('# TYPE c counter', 'c_total 1', 'c_created 1 # {a="b"} 1'),
    line: 3,
    reason: EXEMPLAR,
  },
  {
    title: 'an exemplar on a summary quantile',
    text: om('# TYPE s summary', 's{quantile="0.5"} 1 # {a="b"} 1'),
    line: 2,
    reason: EXEMPLAR,
  },
  {
    title: 'an exemplar on an info',
    text: om('# TYPE i info', 'i_info{v="1"} 1 # {a="b"} 1'),
    line: 2,
    reason: EXEMPLAR,
  },
  {
    title: 'an exemplar on a stateset',
    text: om('# TYPE s stateset', 's{s="a"} 1 # {a="b"} 1'),
    line: 2,
    reason: EXEMPLAR,
  },
  {
    title: 'exemplar labels of 129 code points',
    text: om('# TYPE c counter', `c_total 1 # {trace_id="${'x'.repeat(121)}"} 1`),
    line: 2,
    reason: /128|long|exemplar/i,
  },
  {
    title: 'an exemplar without braces',
    text: om('# TYPE c counter', 'c_total 1 # 1'),
    line: 2,
    reason: /exemplar|\{/i,
  },
  {
    title: 'an exemplar without a value',
    text: om('# TYPE c counter', 'c_total 1 # {a="b"}'),
    line: 2,
    reason: /exemplar|value/i,
  },
  {
    title: 'an exemplar value that is not a number',
    text: om('# TYPE c counter', 'c_total 1 # {a="b"} x'),
    line: 2,
    reason: /exemplar|value/i,
  },
  {
    title: 'an exemplar with a NaN timestamp',
    text: om('# TYPE c counter', 'c_total 1 # {a="b"} 1 NaN'),
    line: 2,
    reason: /exemplar|timestamp/i,
  },
  {
    title: 'an exemplar # without the blank after it',
    text: om('# TYPE c counter', 'c_total 1 #{a="b"} 1'),
    line: 2,
    reason: /exemplar|#|space|timestamp/i,
  },
  {
    title: 'text after the exemplar timestamp',
    text: om('# TYPE c counter', 'c_total 1 # {a="b"} 1 2 3'),
    line: 2,
    reason: /after|unexpected|exemplar/i,
  },
];

describe('OpenMetrics 1.0', () => {
  it.each(omGood)('parses: $title', (c) => expectParses('openmetrics', c));

  it.each<[string, number]>([
    ['0', 0],
    ['-1.5', -1.5],
    ['+2', 2],
    ['0042', 42],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['1E-2', 0.01],
    ['NaN', NaN],
    ['nan', NaN],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['Inf', Infinity],
    ['inf', Infinity],
    ['INF', Infinity],
    // ABNF: number =/ [SIGN] ("inf" / "infinity"), case-insensitive
    ['+infinity', Infinity],
    ['-Infinity', -Infinity],
  ])('value %s → %d', (text, value) => {
    const got = onlyValue(om(`a ${text}`), 'openmetrics');
    if (Number.isNaN(value)) expect(Number.isNaN(got)).toBe(true);
    else expect(got).toBe(value);
  });

  it.each<[string, number]>([
    ['1.5', 1500],
    ['0', 0],
    ['-2', -2000],
    ['1e3', 1_000_000],
    ['0.001', 1],
    ['1520879607.789', 1520879607789],
    ['1700000000.25', 1700000000250],
  ])('timestamp %s s → %d ms', (text, ms) => {
    expect(onlyTimestamp(om(`a 1 ${text}`), 'openmetrics')).toBe(ms);
  });

  it('no timestamp → timestampMs undefined, no exemplar → exemplar undefined', () => {
    const e = parseExposition(om('a 1'), 'openmetrics');
    expect(e.samples[0]!.timestampMs).toBeUndefined();
    expect(e.samples[0]!.exemplar).toBeUndefined();
  });

  it.each(omBad)('rejects: $title', (c) => expectSyntaxError('openmetrics', c));

  it.each(['0x1p-2', '0x10', '+NaN', '-NaN', '1_000', 'abc', '1.2.3', '1e', '.', 'infinit'])(
    'rejects value %s',
    (text) =>
      expectSyntaxError('openmetrics', {
        title: text,
        text: om(`a ${text}`),
        line: 1,
        column: 3,
        reason: VALUE,
      }),
  );
});

// ---------------------------------------------------------------------------------------------------------
// Series identity (documented on Sample.series in types.ts)
// ---------------------------------------------------------------------------------------------------------

describe('Sample.series', () => {
  it.each<[ExpositionFormat, string, string]>([
    ['prometheus', lines('m{b="2",a="1"} 1'), 'm{a="1",b="2"}'],
    ['openmetrics', om('m{b="2",a="1"} 1'), 'm{a="1",b="2"}'],
    ['prometheus', lines(String.raw`m{a="x\"y\\z\nw"} 1`), String.raw`m{a="x\"y\\z\nw"}`],
  ])('%s %j → %s', (format, text, series) => {
    expect(parseExposition(text, format).samples[0]!.series).toBe(series);
  });
});

describe('Sample objects', () => {
  // Object literals would let V8 pretenure the site and send every later scrape's samples (and, through
  // their series slices, the body text) to the old generation as garbage: see ParsedSample.
  it.each<[ExpositionFormat, string, { labels?: boolean; checkDuplicates?: boolean }]>([
    ['prometheus', lines('m{a="1"} 1', 'm{a="2"} 2', 'n 3'), {}],
    ['prometheus', lines('m{a="1"} 1', 'm{b="2",a="1"} 2', 'n 3'), { labels: false, checkDuplicates: false }],
    ['prometheus', lines('m{a="1"}  1'), {}], // the full parser's path (two spaces)
    ['openmetrics', om('m{a="1"} 1'), {}],
  ])('%s %j: built by the ParsedSample constructor', (format, text, options) => {
    const samples = parseExposition(text, format, options).samples;
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) expect(s).toBeInstanceOf(ParsedSample);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Content type → format
// ---------------------------------------------------------------------------------------------------------

describe('formatFromContentType', () => {
  it.each<[string | undefined, ExpositionFormat]>([
    ['application/openmetrics-text; version=1.0.0; charset=utf-8', 'openmetrics'],
    ['application/openmetrics-text;version=0.0.1', 'openmetrics'],
    ['application/openmetrics-text', 'openmetrics'],
    // media types are case-insensitive (RFC 9110 §8.3.1)
    ['Application/OpenMetrics-Text; version=1.0.0', 'openmetrics'],
    ['application/openmetrics-text ; charset=utf-8', 'openmetrics'],
    ['text/plain; version=0.0.4', 'prometheus'],
    ['text/plain; version=0.0.4; charset=utf-8', 'prometheus'],
    ['text/plain', 'prometheus'],
    [undefined, 'prometheus'],
    ['', 'prometheus'],
    ['application/json', 'prometheus'],
    ['application/openmetrics-textual', 'prometheus'],
    ['text/plain; note=application/openmetrics-text', 'prometheus'],
  ])('%j → %s', (contentType, format) => {
    expect(formatFromContentType(contentType)).toBe(format);
  });
});

describe('scrape-path options (labels: false, checkDuplicates: false)', () => {
  const bodies = [
    readFileSync(new URL('./testdata/node-exporter.prom', import.meta.url), 'utf8'),
    [
      '# TYPE h histogram',
      'h_bucket{method="GET",route="/a",le="0.1"} 1',
      'h_bucket{method="GET",route="/a",le="+Inf"} 2',
      'h_sum{method="GET",route="/a"} 0.3',
      'h_count{method="GET",route="/a"} 2',
      'plain{z="1",a="2"} -7 1700000000000',
      'esc{a="x\\"y"} 1.5',
      '',
    ].join('\n'),
  ];
  it.each(bodies.map((b, i) => [i, b] as const))(
    'body %i: same samples, labels read back from the series key',
    (_i, body) => {
      const full = parseExposition(body, 'prometheus');
      const lean = parseExposition(body, 'prometheus', { labels: false, checkDuplicates: false });
      expect(lean.families).toEqual(full.families);
      expect(lean.samples.map((s) => [s.name, canonicalSeries(s), s.value, s.timestampMs])).toEqual(
        full.samples.map((s) => [s.name, s.series, s.value, s.timestampMs]),
      );
      const sortedPairs = (l: string[]) =>
        Array.from({ length: l.length / 2 }, (_, k): [string, string] => [l[2 * k]!, l[2 * k + 1]!]).sort(
          ([a], [b]) => (a < b ? -1 : 1),
        );
      lean.samples.forEach((s, k) => {
        const labels = s.labels === LABELS_OMITTED ? seriesLabels(s.series || s.raw!) : s.labels;
        expect(sortedPairs(labels)).toEqual(sortedPairs(full.samples[k]!.labels));
      });
      expect(lean.samples.some((s) => s.labels === LABELS_OMITTED)).toBe(true);
    },
  );
});
