import { parseGoFloat, parseMillis } from './float.js';
import { CHAR, labelOf, Lexer, seriesKey } from './lexer.js';
import { fastComment, fastSample } from './prometheus-fast.js';
import { follows, groupSorted, pointLabelOf } from './series-order.js';
import {
  ParsedSample,
  type Exposition,
  type LabelPairs,
  type MetricFamily,
  type MetricType,
  type ParseOptions,
  type Sample,
} from './types.js';

export interface OpenFamily {
  index: number;
  name: string;
  type: MetricType;
  typed: boolean;
  helped: boolean;
  /** `name_bucket`, `name_sum`, `name_count` of a histogram; `name_sum`, `name_count` of a summary. */
  owned: readonly string[];
  /** Index in `samples` of the family's first sample. */
  first: number;
  samples: number;
  /** Sample name of the previous sample, while (name, labels) have been increasing. */
  lastName: string;
  /** Once order breaks: every series of the family, to find duplicates. */
  seen: Set<string> | undefined;
  /** Labels of the family's previous sample: the next one usually repeats their names. */
  lastLabels: LabelPairs;
}

const OWNED: Partial<Record<MetricType, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};
const NONE: readonly string[] = [];

/** The type as a literal: later `type === 'histogram'` checks then compare pointers, not characters. */
function typeOf(token: string): MetricType | undefined {
  switch (token) {
    case 'counter':
      return 'counter';
    case 'gauge':
      return 'gauge';
    case 'histogram':
      return 'histogram';
    case 'summary':
      return 'summary';
    case 'untyped':
      return 'untyped';
    default:
      return undefined;
  }
}

/**
 * Prometheus text format 0.0.4, as `promtool check metrics` reads it, with the grouping rule of the format
 * enforced: every family's lines form one group, TYPE comes before its samples, no series twice.
 * Canonical lines take a fast path (prometheus-fast.ts); anything else, and every error, goes through the
 * full grammar here.
 */
export function parsePrometheusText(
  text: string,
  opts: ParseOptions & { fastPath?: boolean } = {},
): Exposition {
  return new PromTextParser(
    text,
    opts.fastPath ?? true,
    opts.checkDuplicates ?? true,
    opts.labels ?? true,
  ).run();
}

export class PromTextParser {
  readonly lx: Lexer;
  readonly families: MetricFamily[] = [];
  readonly samples: Sample[] = [];
  /** Family names, and the suffixed sample names a histogram or summary owns. */
  private readonly taken = new Map<string, string>();
  cur: OpenFamily | undefined;
  private nextBackslash = -1;
  private sorted = true;
  private lastFamily = '';

  constructor(
    readonly text: string,
    private readonly fastPath = true,
    readonly checkDuplicates = true,
    /** false: canonical lines get LABELS_OMITTED (see ParseOptions.labels). */
    readonly withLabels = true,
  ) {
    this.lx = new Lexer(text, true, true);
  }

  run(): Exposition {
    const text = this.text;
    const lx: Lexer = this.lx;
    const len = text.length;
    let pos = 0;
    while (pos < len) {
      lx.lineStart = pos;
      const next = !this.fastPath
        ? -1
        : text.charCodeAt(pos) === CHAR.HASH
          ? fastComment(this, pos)
          : fastSample(this, pos);
      if (next >= 0) {
        pos = next;
        lx.line++;
        continue;
      }
      let eol = text.indexOf('\n', pos);
      if (eol < 0) eol = len;
      const i = lx.skipBlanks(pos);
      if (i === eol) {
        // blank line
      } else if (text.charCodeAt(i) === CHAR.HASH) {
        this.comment(i + 1, eol);
      } else {
        this.sample(i, eol);
      }
      pos = eol + 1;
      lx.line++;
    }
    return { format: 'prometheus', families: this.families, samples: this.samples };
  }

  /** Whether text[from, to) holds a backslash; one forward search over the whole input in total. */
  backslashIn(from: number, to: number): boolean {
    if (this.nextBackslash < from) {
      const b = this.text.indexOf('\\', from);
      this.nextBackslash = b < 0 ? this.text.length : b;
    }
    return this.nextBackslash < to;
  }

  open(name: string, at: number): OpenFamily {
    // Exporters write families sorted by name: while they are, a new name above the last cannot have been
    // seen, and no hash lookup is needed. Names a histogram or summary owns are always looked up.
    if (this.sorted && name > this.lastFamily) {
      this.lastFamily = name;
    } else if (this.sorted) {
      this.sorted = false;
      for (const f of this.families) if (!this.taken.has(f.name)) this.taken.set(f.name, f.name);
    }
    // Owned names all end in _bucket, _sum or _count: other names need no lookup while sorted.
    const owner =
      this.taken.size === 0 || (this.sorted && !ownedSuffix(name)) ? undefined : this.taken.get(name);
    if (owner !== undefined) {
      this.lx.fail(
        owner === name
          ? `metric family "${name}" appears in two groups: all its lines must be together`
          : `"${name}" belongs to metric family "${owner}", whose lines must be together`,
        at,
      );
    }
    const index = this.families.length;
    this.families.push({ name, type: 'untyped', help: undefined, unit: undefined });
    if (!this.sorted) this.taken.set(name, name);
    return (this.cur = {
      index,
      name,
      type: 'untyped',
      typed: false,
      helped: false,
      owned: NONE,
      first: this.samples.length,
      samples: 0,
      lastName: '',
      seen: undefined,
      lastLabels: [],
    });
  }

  metaFamily(name: string, at: number): OpenFamily {
    const cur = this.cur;
    return cur !== undefined && cur.name === name ? cur : this.open(name, at);
  }

  setHelp(fam: OpenFamily, help: string): void {
    if (fam.helped) this.lx.fail(`second HELP line for metric family "${fam.name}"`, this.lx.lineStart);
    fam.helped = true;
    this.families[fam.index]!.help = help;
  }

  setType(fam: OpenFamily, token: string, at: number): void {
    const lx: Lexer = this.lx;
    const type = typeOf(token);
    if (type === undefined) lx.fail(`unknown metric type "${token}"`, at);
    if (fam.typed) lx.fail(`second TYPE line for metric family "${fam.name}"`, lx.lineStart);
    if (fam.samples > 0) lx.fail(`TYPE line for metric family "${fam.name}" after its samples`, lx.lineStart);
    fam.typed = true;
    fam.type = type;
    this.families[fam.index]!.type = type;
    const suffixes = OWNED[type];
    if (suffixes === undefined) return;
    const owned = suffixes.map((suffix) => fam.name + suffix);
    for (const name of owned) {
      if (this.taken.has(name))
        lx.fail(`metric family "${fam.name}" owns "${name}", which appeared earlier`, at);
      this.taken.set(name, fam.name);
    }
    fam.owned = owned;
  }

  private comment(i: number, eol: number): void {
    const text = this.text;
    const lx: Lexer = this.lx;
    i = lx.skipBlanks(i);
    // Only "HELP" and "TYPE" followed by a blank mean something; any other comment is ignored.
    const help = text.startsWith('HELP', i);
    if (!help && !text.startsWith('TYPE', i)) return;
    i += 4;
    if (i < eol && !isBlank(text.charCodeAt(i))) return;
    i = lx.skipBlanks(i);
    const nameEnd = lx.metricNameEnd(i);
    const name = text.slice(i, nameEnd);
    if (nameEnd < eol && !isBlank(text.charCodeAt(nameEnd))) {
      lx.fail(`invalid character in metric name "${name}"`, nameEnd);
    }
    const fam = this.metaFamily(name, i);
    i = lx.skipBlanks(nameEnd);
    if (help) {
      this.setHelp(fam, this.unescapeHelp(i, eol));
      return;
    }
    if (i === eol) lx.fail(`TYPE line for "${name}" has no type`, i);
    const typeEnd = this.tokenEnd(i, eol);
    if (lx.skipBlanks(typeEnd) !== eol)
      lx.fail('unexpected text after the metric type', lx.skipBlanks(typeEnd));
    this.setType(fam, text.slice(i, typeEnd), i);
  }

  private sample(i: number, eol: number): void {
    const text = this.text;
    const lx: Lexer = this.lx;
    const nameStart = i;
    const nameEnd = lx.metricNameEnd(i);
    const name = text.slice(nameStart, nameEnd);
    let labels: LabelPairs;
    let series: string;
    i = lx.skipBlanks(nameEnd);
    if (text.charCodeAt(i) === CHAR.LBRACE) {
      const set = lx.labelSet(i);
      labels = set.labels;
      // The raw text is the key when it is canonical and the name touches the brace.
      series = set.canonical && i === nameEnd ? text.slice(nameStart, set.end) : seriesKey(name, labels);
      i = set.end;
    } else {
      labels = [];
      series = name;
    }
    if (i === nameEnd && i < eol) lx.fail(`invalid character in metric name "${name}"`, i);
    i = lx.skipBlanks(i);
    if (i >= eol) lx.fail(`sample "${name}" has no value`, i);
    const valueEnd = this.tokenEnd(i, eol);
    const value = parseGoFloat(text, i, valueEnd);
    if (value === undefined)
      lx.fail(`invalid value "${text.slice(i, valueEnd)}"${this.crNote(i, valueEnd)}`, i);
    i = lx.skipBlanks(valueEnd);
    let timestampMs: number | undefined;
    if (i < eol) {
      const tsEnd = this.tokenEnd(i, eol);
      timestampMs = parseMillis(text, i, tsEnd);
      if (timestampMs === undefined) {
        lx.fail(
          `invalid timestamp "${text.slice(i, tsEnd)}" (integer milliseconds)${this.crNote(i, tsEnd)}`,
          i,
        );
      }
      i = lx.skipBlanks(tsEnd);
      if (i < eol) lx.fail('unexpected text after the timestamp', i);
    }
    let fam = this.cur;
    if (fam === undefined || !belongs(fam, name)) {
      if (fam?.type === 'histogram' && name === fam.name) {
        lx.fail(`histogram sample must be named ${name}_bucket, ${name}_sum or ${name}_count`, nameStart);
      }
      fam = this.open(name, nameStart);
    }
    this.accept(fam, name, labels, false, series, value, timestampMs, nameStart);
  }

  accept(
    fam: OpenFamily,
    name: string,
    labels: LabelPairs,
    sorted: boolean,
    series: string,
    value: number,
    timestampMs: number | undefined,
    at: number,
    out: LabelPairs = labels,
    raw?: string,
  ): void {
    if (fam.type === 'histogram' && name === fam.owned[0]) this.checkBound(labels, 'le', name, at);
    else if (fam.type === 'summary' && name === fam.name) this.checkBound(labels, 'quantile', name, at);
    this.unique(fam, name, labels, sorted, series, at);
    fam.samples++;
    fam.lastLabels = labels;
    this.samples.push(new ParsedSample(name, out, value, timestampMs, undefined, fam.index, series, raw));
  }

  /**
   * A duplicate can only be inside one family (families are contiguous and own their names). While the
   * family's samples strictly increase in exporter order (series-order.ts) none can repeat; the first
   * sample out of order switches the family to a set of canonical series keys.
   */
  private unique(
    fam: OpenFamily,
    name: string,
    labels: LabelPairs,
    sorted: boolean,
    series: string,
    at: number,
  ): void {
    if (!this.checkDuplicates) return;
    if (fam.seen === undefined) {
      const point = pointLabelOf(fam.type);
      const ordered = sorted || groupSorted(labels, point);
      if (ordered && (fam.samples === 0 || follows(fam, point, fam.lastName, fam.lastLabels, name, labels))) {
        fam.lastName = name;
        return;
      }
      fam.seen = new Set();
      for (let k = fam.first; k < this.samples.length; k++) fam.seen.add(this.samples[k]!.series);
    }
    if (fam.seen.has(series)) this.lx.fail(`duplicate series ${series}`, at);
    fam.seen.add(series);
  }

  private checkBound(labels: LabelPairs, label: string, name: string, at: number): void {
    const v = labelOf(labels, label);
    if (v === undefined) this.lx.fail(`sample "${name}" has no "${label}" label`, at);
    if (parseGoFloat(v, 0, v.length) === undefined) this.lx.fail(`label ${label}="${v}" is not a number`, at);
  }

  private tokenEnd(i: number, eol: number): number {
    while (i < eol && !isBlank(this.text.charCodeAt(i))) i++;
    return i;
  }

  private crNote(from: number, to: number): string {
    return this.text.slice(from, to).includes('\r') ? ' (carriage return: lines must end with \\n only)' : '';
  }

  /** HELP text: `\\` and `\n` are the only escapes. */
  private unescapeHelp(i: number, eol: number): string {
    const text = this.text;
    if (!this.backslashIn(i, eol)) return text.slice(i, eol);
    let out = '';
    let from = i;
    for (let j = i; j < eol; j++) {
      if (text.charCodeAt(j) !== 92) continue;
      const e = text[j + 1];
      if (e !== '\\' && e !== 'n')
        this.lx.fail(`invalid escape sequence '\\${j + 1 < eol ? e : ''}' in HELP`, j);
      out += text.slice(from, j) + (e === 'n' ? '\n' : '\\');
      j++;
      from = j + 1;
    }
    return out + text.slice(from, eol);
  }
}

function ownedSuffix(name: string): boolean {
  return name.endsWith('_sum') || name.endsWith('_count') || name.endsWith('_bucket');
}

function isBlank(c: number): boolean {
  return c === CHAR.SPACE || c === CHAR.TAB;
}

function belongs(fam: OpenFamily, name: string): boolean {
  return name === fam.name ? fam.type !== 'histogram' : fam.owned.includes(name);
}
