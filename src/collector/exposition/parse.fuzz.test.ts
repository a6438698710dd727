/**
 * Fuzzing the exposition parser with seeded mutations of a real node_exporter body.
 *
 * testdata/node-exporter.prom is what node_exporter 1.5.0 served on /metrics. Each case takes that body (or
 * an OpenMetrics rendering of it, or a window of lines of either, sometimes with a hand-written tail that
 * has the types node_exporter does not send), applies one to four seeded mutations, and parses the result
 * as both formats. Oracles, for every case:
 *
 *  1. No crash: every parse returns, or throws an ExpositionSyntaxError whose line and column point into
 *     the input. Any other exception, or a case that runs too long, is a failure.
 *  2. The Prometheus fast path agrees with the full grammar (`fastPath: false`): both throw the same
 *     message, or both return the same families and samples (NaN and -0 compared with Object.is). A text
 *     refused for a duplicate series is parsed again with `checkDuplicates: false`, as scrapes do.
 *  3. A successful parse is well formed: numeric values, label arrays of even length with valid and
 *     distinct names, family names valid and distinct, types of the format, samples in family order and
 *     named as their family's type allows, timestamps whole milliseconds, no series twice, and a `series`
 *     that is the canonical key of the sample and re-parses (`series + ' 1'`) to the same name and labels.
 *
 * A failure names the case seed, the mutations, the text around them and a shrunk reproducer;
 * `mutatedCase(kind, seed)` rebuilds the input. Cases run inside vm.Script with a timeout, so that an
 * endless loop fails the test instead of hanging it.
 */
import { readFileSync } from 'node:fs';
import { createContext, Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ExpositionSyntaxError, parseExposition } from './parse.js';
import { parsePrometheusText } from './prometheus-text.js';
import { canonicalSeries as canonicalOf, seriesLabels } from './lexer.js';
import { LABELS_OMITTED, type Exposition, type ExpositionFormat, type LabelPairs } from './types.js';

/** Mutated inputs per base format; OVERSEER_FUZZ_CASES runs more (or fewer) locally. */
const CASES = Number(process.env.OVERSEER_FUZZ_CASES ?? 5000);
/** First case seed; each case is rebuilt from its own seed alone. */
const FIRST_SEED = Number(process.env.OVERSEER_FUZZ_SEED ?? 20240601);
/** Cases per vm call, and how long such a batch may take before the case it is in counts as a hang. */
const BATCH = 250;
const BATCH_TIMEOUT_MS = 20_000;
/** One case (three parses of at most ~60 KB) normally takes a few milliseconds. */
const SLOW_CASE_MS = 2_000;

const NODE_EXPORTER = readFileSync(new URL('./testdata/node-exporter.prom', import.meta.url), 'utf8');

// ---------------------------------------------------------------------------------------------------------
// Bases
// ---------------------------------------------------------------------------------------------------------

/** What node_exporter does not send: histograms, timestamps, escapes, blanks, unsorted labels, +Inf/NaN. */
const PROM_TAIL = [
  '# HELP overseer_fuzz_rpc_seconds RPC latency \\\\ with an escaped\\nsecond line.',
  '# TYPE overseer_fuzz_rpc_seconds histogram',
  'overseer_fuzz_rpc_seconds_bucket{method="get",le="0.005"} 1',
  'overseer_fuzz_rpc_seconds_bucket{method="get",le="0.1"} 7',
  'overseer_fuzz_rpc_seconds_bucket{method="get",le="+Inf"} 9',
  'overseer_fuzz_rpc_seconds_sum{method="get"} 3.25',
  'overseer_fuzz_rpc_seconds_count{method="get"} 9',
  'overseer_fuzz_rpc_seconds_bucket{le="1",method="put"} 0',
  'overseer_fuzz_rpc_seconds_bucket{ le = "+Inf" , method="put", } 0 1700000000000',
  'overseer_fuzz_rpc_seconds_sum{method="put"} 0',
  'overseer_fuzz_rpc_seconds_count{method="put"} 0',
  // client_golang's order: `le` last, after the group labels, so the names are not sorted.
  '# HELP overseer_fuzz_http_seconds HTTP latency.',
  '# TYPE overseer_fuzz_http_seconds histogram',
  ...[
    ['200', '/a'],
    ['200', '/b'],
    ['500', '/a'],
  ].flatMap(([code, handler]) => [
    ...['0.1', '0.5', '1', '+Inf'].map(
      (le, k) => `overseer_fuzz_http_seconds_bucket{code="${code}",handler="${handler}",le="${le}"} ${k * 2}`,
    ),
    `overseer_fuzz_http_seconds_sum{code="${code}",handler="${handler}"} 1.5`,
    `overseer_fuzz_http_seconds_count{code="${code}",handler="${handler}"} 6`,
  ]),
  '# HELP overseer_fuzz_latency_seconds Request latency.',
  '# TYPE overseer_fuzz_latency_seconds summary',
  'overseer_fuzz_latency_seconds{quantile="0.5"} 0.012',
  'overseer_fuzz_latency_seconds{quantile="0.99"} NaN',
  'overseer_fuzz_latency_seconds_sum 12.5',
  'overseer_fuzz_latency_seconds_count 1000',
  'overseer_fuzz_latency_seconds{path="/x",quantile="0.5"} 0.5',
  'overseer_fuzz_latency_seconds{path="/x",quantile="1"} 2',
  'overseer_fuzz_latency_seconds_sum{path="/x"} 3',
  'overseer_fuzz_latency_seconds_count{path="/x"} 2',
  '# TYPE overseer_fuzz_requests_total counter',
  'overseer_fuzz_requests_total{code="200",path="/a\\\\b \\"q\\"\\n"} 1027 1700000000000',
  'overseer_fuzz_requests_total{code="500",path="/"} 3e2',
  '# TYPE overseer_fuzz_temp gauge',
  'overseer_fuzz_temp{zone="a"} -Inf',
  'overseer_fuzz_temp{zone="b"} +Inf',
  'overseer_fuzz_temp{zone="c"}\tNaN',
  'overseer_fuzz_temp{zone="d"}  .5e-3   -1700000000000  ',
  '# a free comment between families',
  'overseer_fuzz_untyped 1',
  'zz_after_everything{b="2",a="1"} -0',
]
  .map((l) => `${l}\n`)
  .join('');

/** Every OpenMetrics type, units, exemplars, _created, timestamps, an undefined escape kept as written. */
const OM_TAIL = [
  '# TYPE overseer_fuzz_rpc_seconds histogram',
  '# UNIT overseer_fuzz_rpc_seconds seconds',
  '# HELP overseer_fuzz_rpc_seconds RPC latency, "quoted" \\\\ and an escaped\\nsecond line.',
  'overseer_fuzz_rpc_seconds_bucket{method="get",le="0.005"} 1 # {trace_id="4bf92f3577b34da6"} 0.004 1700000000.123',
  'overseer_fuzz_rpc_seconds_bucket{method="get",le="0.1"} 7',
  'overseer_fuzz_rpc_seconds_bucket{method="get",le="+Inf"} 9 # {trace_id="a"} 2.5',
  'overseer_fuzz_rpc_seconds_count{method="get"} 9',
  'overseer_fuzz_rpc_seconds_sum{method="get"} 3.25',
  'overseer_fuzz_rpc_seconds_created{method="get"} 1700000000',
  'overseer_fuzz_rpc_seconds_bucket{method="put",le="1"} 0',
  'overseer_fuzz_rpc_seconds_bucket{method="put",le="+Inf"} 0',
  'overseer_fuzz_rpc_seconds_count{method="put"} 0',
  'overseer_fuzz_rpc_seconds_sum{method="put"} 0',
  '# TYPE overseer_fuzz_queue_depth gaugehistogram',
  'overseer_fuzz_queue_depth_bucket{le="10"} 2 # {job="x"} 3',
  'overseer_fuzz_queue_depth_bucket{le="+Inf"} 5',
  'overseer_fuzz_queue_depth_gcount 5',
  'overseer_fuzz_queue_depth_gsum 31',
  '# TYPE overseer_fuzz_requests counter',
  '# HELP overseer_fuzz_requests Requests served.',
  'overseer_fuzz_requests_total{code="200",path="/a\\\\b \\"q\\"\\n"} 1027 1700000000.5 # {trace_id="x"} 1 1700000000.4',
  'overseer_fuzz_requests_created{code="200",path="/a\\\\b \\"q\\"\\n"} 1699999000',
  'overseer_fuzz_requests_total{code="500",path="/"} 3e2',
  '# TYPE overseer_fuzz_feature stateset',
  'overseer_fuzz_feature{overseer_fuzz_feature="a"} 1',
  'overseer_fuzz_feature{overseer_fuzz_feature="b"} 0',
  '# TYPE overseer_fuzz_build info',
  'overseer_fuzz_build_info{path="C:\\tmp",version="1.0"} 1',
  '# TYPE overseer_fuzz_latency_seconds summary',
  '# UNIT overseer_fuzz_latency_seconds seconds',
  'overseer_fuzz_latency_seconds{quantile="0.5"} 0.012',
  'overseer_fuzz_latency_seconds{quantile="0.99"} NaN',
  'overseer_fuzz_latency_seconds_sum 12.5',
  'overseer_fuzz_latency_seconds_count 1000',
  'overseer_fuzz_latency_seconds_created 1.7e9',
  '# TYPE overseer_fuzz_temp_celsius gauge',
  '# UNIT overseer_fuzz_temp_celsius celsius',
  'overseer_fuzz_temp_celsius{zone="a"} -Inf',
  'overseer_fuzz_temp_celsius{zone="b"} +inf',
  'overseer_fuzz_temp_celsius{zone="c"} 1.5e-3 1700000000',
  '# TYPE overseer_fuzz_legacy unknown',
  'overseer_fuzz_legacy 3',
]
  .map((l) => `${l}\n`)
  .join('');

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/**
 * The node_exporter body as OpenMetrics: counters named after the family without `_total` (unless that
 * name is taken, as go_memstats_alloc_bytes is: then the family stays `unknown` under its own name),
 * untyped becomes unknown, `"` in HELP is escaped, other comments go, and `# EOF` ends it.
 */
function toOpenMetrics(prom: string, tail: string): string {
  const lines = prom.split('\n').filter((l) => l !== '');
  const types = new Map<string, string>();
  for (const l of lines) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(l);
    if (m) types.set(m[1]!, m[2]!);
  }
  const family = new Map<string, { name: string; type: string; sample: string }>();
  for (const [name, type] of types) {
    const base = name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
    if (type === 'counter' && !(base !== name && types.has(base))) {
      family.set(name, { name: base, type, sample: `${base}_total` });
    } else {
      const om = type === 'untyped' || type === 'counter' ? 'unknown' : type;
      family.set(name, { name, type: om, sample: name });
    }
  }
  const out: string[] = [];
  for (const l of lines) {
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(l);
    if (meta) {
      const f = family.get(meta[2]!);
      const name = f?.name ?? meta[2]!;
      if (meta[1] === 'TYPE') out.push(`# TYPE ${name} ${f?.type ?? 'unknown'}`);
      else out.push(`# HELP ${name} ${(meta[3] ?? '').replaceAll('"', '\\"')}`);
      continue;
    }
    if (l.startsWith('#')) continue;
    const name = METRIC_NAME.exec(l)?.[0] ?? '';
    const f = family.get(name);
    out.push(f !== undefined && f.sample !== name ? f.sample + l.slice(name.length) : l);
  }
  return `${out.join('\n')}\n${tail}# EOF\n`;
}

const PROM_BASES = [NODE_EXPORTER, NODE_EXPORTER + PROM_TAIL];
const OM_BASES = [toOpenMetrics(NODE_EXPORTER, ''), toOpenMetrics(NODE_EXPORTER, OM_TAIL)];

// ---------------------------------------------------------------------------------------------------------
// Seeded randomness and mutations
// ---------------------------------------------------------------------------------------------------------

/** xorshift32, seeded through a 32-bit mix so that neighbouring seeds give unrelated streams. */
class Rng {
  private s: number;

  constructor(seed: number) {
    let x = (seed ^ 0x9e3779b9) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
    this.s = (x ^ (x >>> 16)) >>> 0 || 1;
  }

  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  /** 0 ≤ n < below. */
  int(below: number): number {
    return below <= 0 ? 0 : this.next() % below;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
}

const words = (s: string): string[] => s.split(' ');

/** Characters to insert or overwrite with: mostly the ones the grammar cares about. */
const ALPHABET = [
  ...'{}",=\\ \n\t#_.-+eE{}",=\\ \n\t#_.-+eE{}",= \n#0123456789abcdefghijklmnopqrstuvwxyzILNPTYfin:;/*',
  ...['é', '\u0000', '\r', '\u00a0', '\u2028', '\ufeff', '\ud800', '😀'],
];

/** Short pieces with meaning in one format or the other. */
const TOKENS = [
  ...words('{ } {} " ="" , ,} \\ \\n \\" \\\\ \\t # _total _bucket _sum _count _created _info _gcount'),
  ...words('le="+Inf" ,le="1" quantile="0.5", NaN +Inf -Inf e+308 e400 0x1'),
  ...['  ', '\t', ' \t', '\n', '\r\n', '\n\n', '# ', '# HELP ', '# TYPE ', '# UNIT ', '# EOF\n'],
  ...[' # {a="b"} 1', ' # {trace_id="0123456789"} 0.5 1700000000.001', ' 1', ' -1', ' 1700000000000'],
  ' 1700000000.5',
];

/** Replacement values: the special forms of both grammars, their near misses, and out-of-range numbers. */
const VALUES = [
  ...words('NaN nan NAN -NaN +NaN Inf +Inf -Inf inf INF +inf Infinity -Infinity +infinity infinit'),
  ...words('1e308 1.7976931348623157e308 1.7976931348623159e308 1e309 -1e309 1e400 4.9e-324 1e-400'),
  ...words('9007199254740993 123456789012345678901234567890 0x1A 0X1p3 0b1 0o7 1_000 .5 5. . +.5e-3'),
  ...words('-.5E+3 1.e5 -0 +0 00012 0.1e-2 1E5 1e e1 1e+ --1 +-1 1.2.3 1,5 ١ −1 garbage true'),
  ...['1\u00a0', '', '1 2', '1\t2'],
];

/** Timestamps: milliseconds for the text format, seconds for OpenMetrics, and what neither takes. */
const TIMESTAMPS = [
  ...words('0 -1 +5 -0 1700000000000 1700000000 1700000000.123 9007199254740991 9007199254740992'),
  ...words('9007199254740993 9223372036854775808 1e3 1e400 -1e400 1.5 NaN Inf abc'),
  ...['', ' ', '\t1', '1 2'],
];

const TYPES = [
  ...words('counter gauge histogram summary untyped unknown gaugehistogram stateset info Counter GAUGE'),
  ...['', 'counter ', ' gauge', 'counter extra'],
];

const SUFFIXES = ['', '_total', '_bucket', '_sum', '_count', '_created', '_info', '_gcount', '_gsum', '_x'];

type Mutation = (text: string, rng: Rng) => { text: string; what: string } | undefined;

const show = (s: string): string => JSON.stringify(s);

/** A mutation over the lines of the text (the text split on LF and joined back). */
function onLines(
  f: (lines: string[], rng: Rng) => string | undefined,
): (text: string, rng: Rng) => { text: string; what: string } | undefined {
  return (text, rng) => {
    const lines = text.split('\n');
    const what = f(lines, rng);
    return what === undefined ? undefined : { text: lines.join('\n'), what };
  };
}

function pickLine(lines: string[], rng: Rng, where: (l: string) => boolean): number | undefined {
  const n = lines.length;
  const from = rng.int(n);
  for (let k = 0; k < n; k++) {
    const i = (from + k) % n;
    if (where(lines[i]!)) return i;
  }
  return undefined;
}

const isSample = (l: string): boolean => l !== '' && !l.startsWith('#');

/** Where the value of a sample line is: after the name, the label set and the blanks. */
function valueSpan(line: string): [number, number] | undefined {
  const m = /^[^\s{]*(?:\{.*?\})?[ \t]+/.exec(line);
  if (!m) return undefined;
  const start = m[0].length;
  let end = start;
  while (end < line.length && line[end] !== ' ' && line[end] !== '\t') end++;
  return [start, end];
}

/** The `{…}` of a sample line (naively: up to the first `}`), as [open, close]. */
function labelSpan(line: string): [number, number] | undefined {
  const open = line.indexOf('{');
  const close = line.indexOf('}', open);
  return open < 0 || close < 0 || line.slice(0, open).includes(' ') ? undefined : [open, close];
}

const MUTATIONS: Record<string, Mutation> = {
  deleteChar: (text, rng) => {
    if (text === '') return undefined;
    const at = rng.int(text.length);
    return { text: text.slice(0, at) + text.slice(at + 1), what: `delete ${show(text[at]!)} at ${at}` };
  },
  insertChar: (text, rng) => {
    const at = rng.int(text.length + 1);
    const c = rng.pick(ALPHABET);
    return { text: text.slice(0, at) + c + text.slice(at), what: `insert ${show(c)} at ${at}` };
  },
  replaceChar: (text, rng) => {
    if (text === '') return undefined;
    const at = rng.int(text.length);
    const c = rng.pick(ALPHABET);
    return { text: text.slice(0, at) + c + text.slice(at + 1), what: `replace char at ${at} by ${show(c)}` };
  },
  insertToken: (text, rng) => {
    const at = rng.int(text.length + 1);
    const t = rng.pick(TOKENS);
    return { text: text.slice(0, at) + t + text.slice(at), what: `insert ${show(t)} at ${at}` };
  },
  truncate: (text, rng) => {
    const at = rng.int(text.length + 1);
    return { text: text.slice(0, at), what: `truncate at ${at}` };
  },
  deleteLine: onLines((lines, rng) => {
    const i = rng.int(lines.length);
    lines.splice(i, 1);
    return `delete line ${i + 1}`;
  }),
  duplicateLine: onLines((lines, rng) => {
    const i = rng.int(lines.length);
    lines.splice(i, 0, lines[i]!);
    return `duplicate line ${i + 1}`;
  }),
  swapLines: onLines((lines, rng) => {
    const i = rng.int(lines.length);
    const j = rng.chance(0.5) ? Math.min(i + 1, lines.length - 1) : rng.int(lines.length);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    return `swap lines ${i + 1} and ${j + 1}`;
  }),
  spliceLine: onLines((lines, rng) => {
    const from = rng.int(lines.length);
    const to = rng.int(lines.length + 1);
    lines.splice(to, 0, lines[from]!);
    return `copy line ${from + 1} before line ${to + 1}`;
  }),
  duplicateSample: onLines((lines, rng) => {
    const i = pickLine(lines, rng, isSample);
    if (i === undefined) return undefined;
    const to = rng.chance(0.7) ? i + 1 : i + 2 + rng.int(6);
    lines.splice(Math.min(to, lines.length), 0, lines[i]!);
    return `duplicate sample line ${i + 1} at line ${to + 1}`;
  }),
  replaceValue: onLines((lines, rng) => {
    const i = pickLine(lines, rng, isSample);
    const span = i === undefined ? undefined : valueSpan(lines[i]!);
    if (i === undefined || span === undefined) return undefined;
    const v = rng.pick(VALUES);
    lines[i] = lines[i]!.slice(0, span[0]) + v + lines[i]!.slice(span[1]);
    return `value of line ${i + 1} := ${show(v)}`;
  }),
  timestamp: onLines((lines, rng) => {
    const i = pickLine(lines, rng, isSample);
    const span = i === undefined ? undefined : valueSpan(lines[i]!);
    if (i === undefined || span === undefined) return undefined;
    const t = rng.pick(TIMESTAMPS);
    lines[i] = `${lines[i]!.slice(0, span[1])} ${t}`;
    return `timestamp of line ${i + 1} := ${show(t)}`;
  }),
  moveType: onLines((lines, rng) => {
    const t = pickLine(lines, rng, (l) => l.startsWith('# TYPE '));
    if (t === undefined) return undefined;
    let end = t + 1;
    while (end < lines.length && lines[end]!.startsWith('#')) end++;
    if (end >= lines.length || !isSample(lines[end]!)) return undefined;
    if (rng.chance(0.5)) while (end + 1 < lines.length && isSample(lines[end + 1]!)) end++;
    const [line] = lines.splice(t, 1);
    lines.splice(end, 0, line!);
    return `move TYPE line ${t + 1} after sample line ${end + 1}`;
  }),
  changeType: onLines((lines, rng) => {
    const i = pickLine(lines, rng, (l) => l.startsWith('# TYPE '));
    if (i === undefined) return undefined;
    const parts = lines[i]!.split(' ');
    const type = rng.pick(TYPES);
    lines[i] = [...parts.slice(0, 3), type].join(' ');
    return `type of line ${i + 1} := ${show(type)}`;
  }),
  renameSample: onLines((lines, rng) => {
    const i = pickLine(lines, rng, isSample);
    if (i === undefined) return undefined;
    const name = METRIC_NAME.exec(lines[i]!)?.[0] ?? '';
    const base = name.replace(/_(total|bucket|sum|count|created|info|gcount|gsum)$/, '');
    const renamed = base + rng.pick(SUFFIXES);
    lines[i] = renamed + lines[i]!.slice(name.length);
    return `rename sample line ${i + 1} to ${renamed}`;
  }),
  shuffleLabels: onLines((lines, rng) => {
    const i = pickLine(lines, rng, (l) => isSample(l) && l.includes('",'));
    const span = i === undefined ? undefined : labelSpan(lines[i]!);
    if (i === undefined || span === undefined) return undefined;
    const line = lines[i]!;
    const pairs = line.slice(span[0] + 1, span[1]).split(/(?<="),/);
    const op = rng.int(4);
    if (op === 0) pairs.reverse();
    else if (op === 1) pairs.push(rng.pick(pairs));
    else if (op === 2) pairs.splice(rng.int(pairs.length), 1);
    else
      pairs.splice(rng.int(pairs.length + 1), 0, rng.pick(['le="+Inf"', 'quantile="0.5"', 'a=""', '_="x"']));
    lines[i] = `${line.slice(0, span[0] + 1)}${pairs.join(',')}${line.slice(span[1])}`;
    return `labels of line ${i + 1}: ${['reverse', 'repeat one', 'drop one', 'add one'][op]!}`;
  }),
  blanks: onLines((lines, rng) => {
    const i = pickLine(lines, rng, (l) => / |\{|=|,/.test(l));
    if (i === undefined) return undefined;
    const line = lines[i]!;
    const spots: number[] = [];
    for (let k = 0; k < line.length; k++) if (' {=,}"'.includes(line[k]!)) spots.push(k);
    const at = rng.pick(spots) + rng.int(2);
    const blank = rng.pick([' ', '  ', '\t', ' \t ']);
    lines[i] = line.slice(0, at) + blank + line.slice(at);
    return `insert ${show(blank)} at column ${at + 1} of line ${i + 1}`;
  }),
  labelName: onLines((lines, rng) => {
    // Near misses of the names the fast path expects from the family's previous sample.
    const i = pickLine(lines, rng, (l) => isSample(l) && l.includes('="'));
    if (i === undefined) return undefined;
    const line = lines[i]!;
    const names = [...line.matchAll(/[{,][ \t]*([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=/g)];
    if (names.length === 0) return undefined;
    const m = rng.pick(names);
    const name = m[1]!;
    const start = m.index + m[0].indexOf(name);
    const renamed = rng.pick([
      name.slice(0, -1),
      name + rng.pick(['_', 'a', 'z', '0', ':']),
      `a${name}`,
      `0${name}`,
      name.toUpperCase(),
      'le',
      'quantile',
      '_',
    ]);
    lines[i] = line.slice(0, start) + renamed + line.slice(start + name.length);
    return `label ${name} of line ${i + 1} renamed ${renamed}`;
  }),
  pointLabel: onLines((lines, rng) => {
    // Bounds that are the same number written differently, or another bucket's bound: near duplicates.
    const bound = /(le|quantile)="([^"]*)"/;
    const i = pickLine(lines, rng, (l) => isSample(l) && bound.test(l));
    const line = i === undefined ? '' : lines[i]!;
    const m = bound.exec(line);
    if (i === undefined || m === null) return undefined;
    const v = rng.pick(words('0.1 0.10 1e-1 .1 0.5 1 1.0 01 +1 1e0 +Inf Inf +inf inf NaN -0 0 abc'));
    lines[i] = `${line.slice(0, m.index)}${m[1]}="${v}"${line.slice(m.index + m[0].length)}`;
    return `${m[1]} of line ${i + 1} := ${show(v)}`;
  }),
  crlf: onLines((lines, rng) => {
    const i = rng.int(lines.length);
    lines[i] += '\r';
    return `CR at the end of line ${i + 1}`;
  }),
  escapeInLabel: onLines((lines, rng) => {
    const i = pickLine(lines, rng, (l) => isSample(l) && l.includes('="'));
    if (i === undefined) return undefined;
    const line = lines[i]!;
    const at = line.indexOf('="', rng.int(line.length >> 1)) + 2;
    if (at < 2) return undefined;
    const e = rng.pick(['\\\\', '\\"', '\\n', '\\t', '\\', '\\x', '"', '\\u00e9', '}', ',', '=']);
    lines[i] = line.slice(0, at) + e + line.slice(at);
    return `insert ${show(e)} into a label value of line ${i + 1}`;
  }),
  helpText: onLines((lines, rng) => {
    const i = pickLine(lines, rng, (l) => l.startsWith('# HELP '));
    if (i === undefined) return undefined;
    const name = METRIC_NAME.exec(lines[i]!.slice(7))?.[0] ?? '';
    const help = rng.pick(['', ' ', '\t lead', 'a\\\\b', 'a\\nb', 'a\\"b', 'a\\tb', 'end\\', 'x "y"', 'é']);
    lines[i] = `# HELP ${name}${rng.chance(0.2) ? '' : ' '}${help}`;
    return `HELP of line ${i + 1} := ${show(help)}`;
  }),
  openMetricsLine: onLines((lines, rng) => {
    const i = rng.int(lines.length + 1);
    const name = METRIC_NAME.exec(lines[Math.min(i, lines.length - 1)]!.replace(/^# \w+ /, ''))?.[0] ?? 'x';
    const line = rng.pick([
      '# EOF',
      '',
      `# UNIT ${name} bytes`,
      `# UNIT ${name} seconds`,
      `# UNIT ${name} `,
      `# TYPE ${name} ${rng.pick(TYPES)}`,
      `# HELP ${name} `,
      `${name}_total 1 # {a="b"} 1`,
      `${name}_bucket{le="+Inf"} 1`,
      `${name}_created 1700000000`,
      `${name}{${name}="a"} 1`,
    ]);
    lines.splice(i, 0, line);
    return `insert line ${show(line)} before line ${i + 1}`;
  }),
};

const MUTATION_NAMES = Object.keys(MUTATIONS);

interface Case {
  seed: number;
  base: string;
  text: string;
  mutations: string[];
}

type Kind = 'prometheus' | 'openmetrics';

/** The input of one case, from its seed alone. */
function mutatedCase(kind: Kind, seed: number): Case {
  const rng = new Rng(seed);
  const bases = kind === 'prometheus' ? PROM_BASES : OM_BASES;
  let base = rng.chance(0.7) ? bases[0]! : bases[1]!;
  const mutations: string[] = [];
  if (rng.chance(0.7)) {
    // A window of lines: more mutations per parsed byte, and a start in the middle of a family.
    const lines = base.split('\n');
    const from = rng.chance(0.3) ? lines.length - 1 - rng.int(90) : rng.int(lines.length);
    const n = 1 + rng.int(150);
    const window = lines.slice(Math.max(from, 0), from + n).join('\n');
    base = kind === 'openmetrics' && !window.endsWith('# EOF') ? `${window}\n# EOF\n` : `${window}\n`;
    mutations.push(`lines ${from + 1}..${from + n} of base`);
  }
  let text = base;
  const count = 1 + (rng.chance(0.35) ? 1 + rng.int(3) : 0);
  for (let k = 0; k < count; k++) {
    const name = rng.pick(MUTATION_NAMES);
    const r = MUTATIONS[name]!(text, rng);
    if (r === undefined) continue;
    text = r.text;
    mutations.push(`${name}: ${r.what}`);
  }
  return { seed, base, text, mutations };
}

// ---------------------------------------------------------------------------------------------------------
// Oracles
// ---------------------------------------------------------------------------------------------------------

type Outcome = { ok: true; exp: Exposition } | { ok: false; error: unknown };

function attempt(parse: () => Exposition): Outcome {
  try {
    return { ok: true, exp: parse() };
  } catch (error) {
    return { ok: false, error };
  }
}

type Oracle =
  'crash' | 'position' | 'fast/slow' | 'labels: false' | 'well-formed' | 'series' | 'slow' | 'hang';

interface Problem {
  oracle: Oracle;
  detail: string;
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const at = (e.stack ?? '').split('\n').slice(1, 4).join(' | ').replace(/\s+/g, ' ');
    return `${e.constructor.name}: ${e.message} [${at}]`;
  }
  return `non-Error thrown: ${String(e)}`;
}

/** [start, end) of 1-based line `n` of the text, or undefined past the end. */
function lineAt(text: string, n: number): [number, number] | undefined {
  let start = 0;
  for (let k = 1; k < n; k++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return k === n - 1 ? [text.length, text.length] : undefined;
    start = nl + 1;
  }
  const nl = text.indexOf('\n', start);
  return [start, nl < 0 ? text.length : nl];
}

/** Oracle 1: only an ExpositionSyntaxError, pointing at a line of the input and a column of that line. */
function errorProblem(text: string, what: string, error: unknown): Problem | undefined {
  if (!(error instanceof ExpositionSyntaxError)) {
    return { oracle: 'crash', detail: `${what} threw ${describeError(error)}` };
  }
  const { line, column, reason, message } = error;
  const lines = text.split('\n').length;
  const where = `${what}: "${message}"`;
  if (!Number.isInteger(line) || line < 1 || line > lines + 1)
    return { oracle: 'position', detail: `${where}: line ${line} outside 1..${lines + 1}` };
  if (!Number.isInteger(column) || column < 1)
    return { oracle: 'position', detail: `${where}: column ${column} below 1` };
  if (message !== `${line}:${column}: ${reason}`)
    return { oracle: 'position', detail: `${where}: message is not "line:column: reason"` };
  const span = lineAt(text, line);
  const length = span === undefined ? 0 : span[1] - span[0];
  if (column > length + 1)
    return { oracle: 'position', detail: `${where}: column ${column} beyond line ${line} (${length} chars)` };
  return undefined;
}

const same = (a: unknown, b: unknown): boolean => Object.is(a, b);

function labelsDiffer(a: LabelPairs, b: LabelPairs): boolean {
  return a.length !== b.length || a.some((x, k) => x !== b[k]);
}

/** Oracle 2: the first difference between two parses of the same text, if any. */
function difference(a: Exposition, b: Exposition): string | undefined {
  if (a.format !== b.format) return `format ${a.format} vs ${b.format}`;
  if (a.families.length !== b.families.length) return `${a.families.length} vs ${b.families.length} families`;
  for (let k = 0; k < a.families.length; k++) {
    const f = a.families[k]!;
    const g = b.families[k]!;
    if (f.name !== g.name || f.type !== g.type || f.help !== g.help || f.unit !== g.unit)
      return `family ${k}: ${show(JSON.stringify(f))} vs ${show(JSON.stringify(g))}`;
  }
  if (a.samples.length !== b.samples.length) return `${a.samples.length} vs ${b.samples.length} samples`;
  for (let k = 0; k < a.samples.length; k++) {
    const s = a.samples[k]!;
    const t = b.samples[k]!;
    const differs =
      s.name !== t.name ||
      labelsDiffer(s.labels, t.labels) ||
      !same(s.value, t.value) ||
      !same(s.timestampMs, t.timestampMs) ||
      s.family !== t.family ||
      s.series !== t.series ||
      (s.exemplar === undefined) !== (t.exemplar === undefined) ||
      (s.exemplar !== undefined &&
        t.exemplar !== undefined &&
        (labelsDiffer(s.exemplar.labels, t.exemplar.labels) ||
          !same(s.exemplar.value, t.exemplar.value) ||
          !same(s.exemplar.timestampMs, t.exemplar.timestampMs)));
    if (differs) {
      const brief = (x: typeof s): string =>
        `${x.series} value=${Object.is(x.value, -0) ? '-0' : x.value} ts=${x.timestampMs} family=${x.family} labels=${JSON.stringify(x.labels)}`;
      return `sample ${k}: ${brief(s)} vs ${brief(t)}`;
    }
  }
  return undefined;
}

/** The documented form of `series`: `name{a="1",b="2"}`, labels sorted by name, `\`, `"` and LF escaped. */
function canonicalSeries(name: string, labels: LabelPairs): string {
  if (labels.length === 0) return name;
  const order: number[] = [];
  for (let k = 0; k < labels.length; k += 2) order.push(k);
  order.sort((x, y) => (labels[x]! < labels[y]! ? -1 : labels[x]! > labels[y]! ? 1 : 0));
  const escape = (v: string): string => {
    let out = '';
    for (const c of v) out += c === '\\' ? '\\\\' : c === '"' ? '\\"' : c === '\n' ? '\\n' : c;
    return out;
  };
  return `${name}{${order.map((k) => `${labels[k]}="${escape(labels[k + 1]!)}"`).join(',')}}`;
}

function labelSet(labels: LabelPairs): string {
  const pairs: string[] = [];
  for (let k = 0; k < labels.length; k += 2) pairs.push(JSON.stringify([labels[k], labels[k + 1]]));
  return pairs.sort().join(',');
}

/** Series already re-parsed with this name and these labels; most survive a mutation unchanged. */
const checkedSeries = new Set<string>();

/** Oracle 3 for one sample's series: canonical, and it re-parses to the same name and label set. */
function seriesProblem(name: string, labels: LabelPairs, series: string): string | undefined {
  const key = `${name}\uffff${series}\uffff${labels.join('\uffff')}`;
  if (checkedSeries.has(key)) return undefined;
  const canonical = canonicalSeries(name, labels);
  if (series !== canonical) return `series ${show(series)} is not the canonical ${show(canonical)}`;
  let again: Exposition;
  try {
    again = parseExposition(`${series} 1\n`, 'prometheus');
  } catch (e) {
    return `series ${show(series)} does not re-parse: ${describeError(e)}`;
  }
  const s = again.samples[0];
  if (again.samples.length !== 1 || s === undefined)
    return `series ${show(series)} re-parses to ${again.samples.length} samples`;
  if (s.name !== name) return `series ${show(series)} re-parses with name ${s.name}, not ${name}`;
  if (labelSet(s.labels) !== labelSet(labels))
    return `series ${show(series)} re-parses with labels ${JSON.stringify(s.labels)}, not ${JSON.stringify(labels)}`;
  checkedSeries.add(key);
  return undefined;
}

function repeatedLabel(labels: LabelPairs): string | undefined {
  for (let k = 2; k < labels.length; k += 2)
    for (let j = 0; j < k; j += 2) if (labels[j] === labels[k]) return labels[k];
  return undefined;
}

const METRIC_NAME_ONLY = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_ONLY = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Sample names of each family type, as the two specifications define them ('' is the family name). */
const SAMPLE_SUFFIXES: Record<Exposition['format'], Partial<Record<string, readonly string[]>>> = {
  prometheus: {
    counter: [''],
    gauge: [''],
    untyped: [''],
    histogram: ['_bucket', '_sum', '_count'],
    summary: ['', '_sum', '_count'],
  },
  openmetrics: {
    counter: ['_total', '_created'],
    gauge: [''],
    unknown: [''],
    stateset: [''],
    info: ['_info'],
    histogram: ['_bucket', '_count', '_sum', '_created'],
    gaugehistogram: ['_bucket', '_gcount', '_gsum'],
    summary: ['', '_count', '_sum', '_created'],
  },
};

/** A timestamp is whole milliseconds that a double holds exactly. */
function timestampProblem(ts: number | undefined): string | undefined {
  return ts === undefined || Number.isSafeInteger(ts) ? undefined : `timestampMs ${ts}`;
}

/** Oracle 3: the result is one the types and the specifications allow. */
function resultProblem(exp: Exposition, what: string, duplicatesChecked: boolean): Problem | undefined {
  const bad = (detail: string): Problem => ({ oracle: 'well-formed', detail: `${what}: ${detail}` });
  const names = new Set<string>();
  for (const f of exp.families) {
    if (!METRIC_NAME_ONLY.test(f.name)) return bad(`family name ${show(f.name)}`);
    if (names.has(f.name)) return bad(`family ${f.name} twice`);
    names.add(f.name);
    if (SAMPLE_SUFFIXES[exp.format][f.type] === undefined) return bad(`family ${f.name} of type ${f.type}`);
  }
  const seen = new Set<string>();
  let lastFamily = 0;
  for (let k = 0; k < exp.samples.length; k++) {
    const s = exp.samples[k]!;
    const at = `sample ${k} (${s.series})`;
    if (typeof s.value !== 'number') return bad(`${at} has value ${String(s.value)}`);
    if (s.labels.length % 2 !== 0) return bad(`${at} has ${s.labels.length} label strings`);
    for (let j = 0; j < s.labels.length; j += 2)
      if (!LABEL_NAME_ONLY.test(s.labels[j]!)) return bad(`${at} has label name ${show(s.labels[j]!)}`);
    const fam = exp.families[s.family];
    if (!Number.isInteger(s.family) || fam === undefined) return bad(`${at} has family index ${s.family}`);
    if (s.family < lastFamily) return bad(`${at} goes back to family ${s.family} from ${lastFamily}`);
    lastFamily = s.family;
    const suffix = s.name.startsWith(fam.name) ? s.name.slice(fam.name.length) : undefined;
    if (suffix === undefined || !SAMPLE_SUFFIXES[exp.format][fam.type]!.includes(suffix))
      return bad(`${at} does not belong to its ${fam.type} family ${fam.name}`);
    if (duplicatesChecked && seen.has(s.series)) return bad(`${at}: series twice`);
    seen.add(s.series);
    if (s.exemplar !== undefined) {
      if (typeof s.exemplar.value !== 'number')
        return bad(`${at} has exemplar value ${String(s.exemplar.value)}`);
      if (s.exemplar.labels.length % 2 !== 0) return bad(`${at} has odd exemplar labels`);
    }
    const ts = timestampProblem(s.timestampMs) ?? timestampProblem(s.exemplar?.timestampMs);
    if (ts !== undefined) return bad(`${at} has ${ts}`);
    const repeated = repeatedLabel(s.labels) ?? repeatedLabel(s.exemplar?.labels ?? []);
    if (repeated !== undefined) return bad(`${at} repeats label "${repeated}"`);
    const series = seriesProblem(s.name, s.labels, s.series);
    if (series !== undefined) return { oracle: 'series', detail: `${what}: sample ${k}: ${series}` };
  }
  return undefined;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Oracle 2 for one pair of parses; `agree` when the slow result needs no check of its own. */
function pathsAgree(fast: Outcome, slow: Outcome, mode: string): { agree: boolean; problem?: Problem } {
  const fail = (detail: string): { agree: boolean; problem: Problem } => ({
    agree: false,
    problem: { oracle: 'fast/slow', detail: `${mode}${detail}` },
  });
  if (fast.ok && slow.ok) {
    const d = difference(fast.exp, slow.exp);
    return d === undefined ? { agree: true } : fail(`both parse, but differ: ${d}`);
  }
  if (!fast.ok && !slow.ok) {
    const [f, g] = [message(fast.error), message(slow.error)];
    return f === g ? { agree: true } : fail(`errors differ: ${show(f)} vs ${show(g)}`);
  }
  const msg = message(fast.ok ? (slow as { error: unknown }).error : fast.error);
  return fail(fast.ok ? `only the full grammar refuses: ${msg}` : `only the fast path refuses: ${msg}`);
}

/** Pairs sorted by name: label order is exposition order in one parse and key order in the other. */
function pairsByName(l: LabelPairs): string {
  const pairs: string[] = [];
  for (let k = 0; k < l.length; k += 2) pairs.push(`${l[k]}\u0000${l[k + 1]}`);
  return pairs.sort().join('\u0001');
}

/**
 * Oracle 2b: the scrape path's `labels: false` reads the same samples; where it left the labels out, the
 * series key gives them back exactly.
 */
function leanAgrees(full: Outcome, lean: Outcome, mode: string): Problem | undefined {
  const fail = (detail: string): Problem => ({ oracle: 'labels: false', detail: `${mode}${detail}` });
  if (!full.ok || !lean.ok) {
    if (full.ok !== lean.ok)
      return fail(
        `only one parse refuses: ${message(full.ok ? (lean as { error: unknown }).error : full.error)}`,
      );
    const [f, g] = [message((full as { error: unknown }).error), message((lean as { error: unknown }).error)];
    return f === g ? undefined : fail(`errors differ: ${show(f)} vs ${show(g)}`);
  }
  const a = full.exp.samples;
  const b = lean.exp.samples;
  if (a.length !== b.length) return fail(`${a.length} vs ${b.length} samples`);
  for (let k = 0; k < a.length; k++) {
    const x = a[k]!;
    const y = b[k]!;
    const labels = y.labels === LABELS_OMITTED ? seriesLabels(y.series || y.raw!) : y.labels;
    if (
      x.series !== canonicalOf(y) ||
      !Object.is(x.value, y.value) ||
      x.timestampMs !== y.timestampMs ||
      x.name !== y.name
    )
      return fail(`sample ${k} differs: ${x.series} vs ${y.series}`);
    if (pairsByName(x.labels) !== pairsByName(labels)) return fail(`sample ${k} labels differ: ${x.series}`);
  }
  return undefined;
}

const isDuplicate = (r: Outcome): boolean =>
  !r.ok && r.error instanceof ExpositionSyntaxError && r.error.reason.startsWith('duplicate series');

/**
 * Every oracle on one text: both Prometheus paths, and OpenMetrics. When a parse stops at a duplicate
 * series, the text is parsed again as the scrape path does (`checkDuplicates: false`), where it goes on.
 */
function problems(text: string, stats?: Stats): Problem[] {
  const out: Problem[] = [];
  const check = (mode: string, checkDuplicates: boolean): { fast: Outcome; om: Outcome } => {
    const opts = { checkDuplicates };
    const fast = attempt(() => parseExposition(text, 'prometheus', opts));
    const slow = attempt(() => parsePrometheusText(text, { ...opts, fastPath: false }));
    const om = attempt(() => parseExposition(text, 'openmetrics', opts));
    const { agree, problem } = pathsAgree(fast, slow, mode);
    if (problem) out.push(problem);
    const lean = attempt(() => parseExposition(text, 'prometheus', { ...opts, labels: false }));
    const leanProblem = leanAgrees(fast, lean, mode);
    if (leanProblem) out.push(leanProblem);
    const runs: [string, Outcome][] = [
      [`${mode}prometheus`, fast],
      [`${mode}openmetrics`, om],
    ];
    if (!agree) runs.push([`${mode}prometheus (fastPath: false)`, slow]);
    for (const [what, r] of runs) {
      const p = r.ok ? resultProblem(r.exp, what, checkDuplicates) : errorProblem(text, what, r.error);
      if (p) out.push(p);
    }
    return { fast, om };
  };
  const { fast, om } = check('', true);
  if (isDuplicate(fast) || isDuplicate(om)) check('checkDuplicates: false: ', false);
  if (stats) {
    stats.inputs++;
    if (fast.ok) stats.promAccepted++;
    if (om.ok) stats.omAccepted++;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Running, reporting, shrinking
// ---------------------------------------------------------------------------------------------------------

interface Stats {
  inputs: number;
  promAccepted: number;
  omAccepted: number;
}

interface Failure {
  kind: Kind;
  seed: number;
  problem: Problem;
  mutations: string[];
  around: string;
  shrunk: string | undefined;
}

/** The changed region of `text` against `base`, with two lines of context, and its line number. */
function around(base: string, text: string): string {
  let a = 0;
  while (a < base.length && a < text.length && base[a] === text[a]) a++;
  let b = 0;
  while (
    b < base.length - a &&
    b < text.length - a &&
    base[base.length - 1 - b] === text[text.length - 1 - b]
  )
    b++;
  let from = a;
  for (let k = 0; k < 3 && from > 0; k++) from = text.lastIndexOf('\n', from - 2) + 1;
  let to = Math.max(text.length - b, a);
  for (let k = 0; k < 3 && to >= 0 && to < text.length; k++) {
    const nl = text.indexOf('\n', to + 1);
    to = nl < 0 ? text.length : nl;
  }
  const line = text.slice(0, from).split('\n').length;
  return `from line ${line}: ${show(text.slice(from, Math.min(to + 1, text.length)).slice(0, 1200))}`;
}

/** Removes lines, then characters, while `fails` still holds: a small reproducer. */
function shrink(text: string, fails: (t: string) => boolean): string {
  let budget = 4000;
  const pass = (units: string[], joiner: string): string[] => {
    for (let size = Math.max(1, units.length >> 1); size >= 1 && budget > 0; size = size >> 1) {
      for (let i = 0; i < units.length && budget > 0;) {
        const candidate = [...units.slice(0, i), ...units.slice(i + size)];
        budget--;
        if (fails(candidate.join(joiner))) units = candidate;
        else i += size;
      }
    }
    return units;
  };
  let out = pass(text.split('\n'), '\n').join('\n');
  if (out.length <= 4000) out = pass([...out], '').join('');
  return out;
}

const script = new Script('run()');

/** Runs `run` with a watchdog: false when it was still running after `ms`. */
function finishesWithin(ms: number, run: () => void): boolean {
  try {
    script.runInContext(createContext({ run }), { timeout: ms });
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return false;
    throw e;
  }
}

function fuzz(kind: Kind, cases: number): { failures: Failure[]; stats: Stats } {
  const stats: Stats = { inputs: 0, promAccepted: 0, omAccepted: 0 };
  const failures: Failure[] = [];
  const shrunkSignatures = new Set<string>();
  const record = (c: Case, problem: Problem, reproduce: ((t: string) => boolean) | undefined): void => {
    if (failures.length >= 25) return;
    // Shrink the first failure of each kind of problem (numbers and quoted text stripped).
    const signature = `${problem.oracle} ${problem.detail.replace(/"[^"]*"|\d+/g, '_')}`;
    let shrunk: string | undefined;
    if (reproduce !== undefined && !shrunkSignatures.has(signature) && shrunkSignatures.size < 6) {
      shrunkSignatures.add(signature);
      shrunk = shrink(c.text, reproduce);
    }
    failures.push({
      kind,
      seed: c.seed,
      problem,
      mutations: c.mutations,
      around: around(c.base, c.text),
      shrunk,
    });
  };

  let next = 0;
  let current: Case | undefined;
  while (next < cases) {
    const end = Math.min(next + BATCH, cases);
    const finished = finishesWithin(BATCH_TIMEOUT_MS, () => {
      for (; next < end; next++) {
        const c = (current = mutatedCase(kind, FIRST_SEED + next));
        const started = performance.now();
        const found = problems(c.text, stats);
        const ms = performance.now() - started;
        for (const p of found) {
          const oracle = p.oracle;
          record(c, p, (t) => problems(t).some((q) => q.oracle === oracle));
        }
        if (ms > SLOW_CASE_MS)
          record(c, { oracle: 'slow', detail: `three parses took ${ms.toFixed(0)} ms` }, undefined);
      }
    });
    if (!finished) {
      const c = current!;
      record(c, { oracle: 'hang', detail: `still running after ${BATCH_TIMEOUT_MS} ms` }, undefined);
      next = c.seed - FIRST_SEED + 1;
    }
  }
  return { failures, stats };
}

function report(f: Failure): string {
  return [
    `[${f.problem.oracle}] ${f.problem.detail}`,
    `  case: mutatedCase('${f.kind}', ${f.seed})`,
    `  mutations: ${f.mutations.join('; ')}`,
    `  around the change ${f.around}`,
    ...(f.shrunk === undefined ? [] : [`  shrunk reproducer: ${show(f.shrunk)}`]),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------

describe('exposition parser fuzz: mutations of a real node_exporter body', () => {
  it('starts from valid bases: the captured body, with and without a tail, and its OpenMetrics rendering', () => {
    expect(NODE_EXPORTER).toMatch(/^# captured from node_exporter 1\.5\.0/);
    for (const base of [...PROM_BASES, ...OM_BASES]) expect(problems(base).map((p) => p.detail)).toEqual([]);
    const prom = parsePrometheusText(NODE_EXPORTER);
    expect(prom.families.length).toBeGreaterThan(250);
    expect(prom.samples.length).toBeGreaterThan(500);
    expect(parsePrometheusText(PROM_BASES[1]!).families.map((f) => f.type)).toEqual(
      expect.arrayContaining(['counter', 'gauge', 'histogram', 'summary', 'untyped']),
    );
    const om = parseExposition(OM_BASES[0]!, 'openmetrics');
    expect(om.samples.length).toBe(prom.samples.length);
    const omTail = parseExposition(OM_BASES[1]!, 'openmetrics');
    expect(new Set(omTail.families.map((f) => f.type))).toEqual(
      new Set(['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'stateset', 'info', 'unknown']),
    );
    expect(omTail.samples.filter((s) => s.exemplar !== undefined).length).toBe(4);
    expect(omTail.families.filter((f) => f.unit !== undefined).length).toBe(3);
  });

  it('rebuilds a case from its seed alone', () => {
    expect(mutatedCase('prometheus', 42)).toEqual(mutatedCase('prometheus', 42));
    expect(mutatedCase('openmetrics', 7).text).not.toBe(mutatedCase('openmetrics', 8).text);
  });

  // Bugs this fuzzer found, kept as plain regression tests.
  it('refuses a label repeated after the names went out of order', () => {
    const bodies: [string, ExpositionFormat][] = [
      ['m{b="1",a="1",b="2"} 1\n', 'prometheus'],
      ['m{b="1",a="1",b="2"} 1\n# EOF\n', 'openmetrics'],
      ['# TYPE c counter\nc_total 1 # {b="1",a="1",b="2"} 1\n# EOF\n', 'openmetrics'],
    ];
    for (const [text, format] of bodies)
      expect(() => parseExposition(text, format), `${format} ${show(text)}`).toThrow(/repeated/);
  });

  it('OpenMetrics refuses a timestamp that is not a whole number of milliseconds a double holds exactly', () => {
    for (const ts of ['1e400', '-1e400', '1e300'])
      for (const text of [`m 1 ${ts}\n# EOF\n`, `# TYPE c counter\nc_total 1 # {a="b"} 1 ${ts}\n# EOF\n`])
        expect(() => parseExposition(text, 'openmetrics'), show(text)).toThrow(ExpositionSyntaxError);
  });

  for (const kind of ['prometheus', 'openmetrics'] as const) {
    it(`${CASES} mutations of the ${kind} body: no crash, fast path = full grammar, well-formed results`, () => {
      const { failures, stats } = fuzz(kind, CASES);
      expect(failures.map(report), `failing cases (first seed ${FIRST_SEED})`).toEqual([]);
      expect(stats.inputs).toBe(CASES);
      // Both outcomes must be common, or the oracles compare little: refusals alone prove nothing about
      // the fast path, acceptances alone nothing about error positions.
      const accepted = kind === 'prometheus' ? stats.promAccepted : stats.omAccepted;
      expect(accepted / CASES).toBeGreaterThan(0.15);
      expect(accepted / CASES).toBeLessThan(0.85);
    });
  }
});
