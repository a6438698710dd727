import { ExpositionSyntaxError } from './syntax-error.js';
import type { LabelPairs } from './types.js';

const SPACE = 32;
const TAB = 9;
const LF = 10;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const EQUALS = 61;
const LBRACE = 123;
const RBRACE = 125;

/** Character classes by code: bit 1 metric-name start, 2 metric-name char, 4 label-name start, 8 label-name char. */
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
  const digit = c >= 48 && c <= 57;
  CLASS[c] = (letter || c === 58 ? 3 : digit ? 2 : 0) | (letter ? 12 : digit ? 8 : 0);
}
const METRIC_START = 1;
const METRIC_CHAR = 2;
const LABEL_START = 4;
const LABEL_CHAR = 8;

function is(c: number, cls: number): boolean {
  return c < 128 && (CLASS[c]! & cls) !== 0;
}

export interface LabelSet {
  labels: LabelPairs;
  /** Position just after the closing brace. */
  end: number;
  /**
   * True when the raw text `{…}` is already in canonical form (sorted names, no blanks, no trailing comma,
   * not empty), so the series key can be a slice of the input instead of a rebuilt string.
   */
  canonical: boolean;
}

/**
 * A cursor over one exposition. Positions are string offsets; `line` and `lineStart` track where errors
 * point. Both formats share name, label-set and escape rules; `blanks` says whether spaces and tabs may
 * appear between tokens (Prometheus text) or not (OpenMetrics).
 */
export class Lexer {
  line = 1;
  lineStart = 0;

  constructor(
    readonly text: string,
    private readonly blanks: boolean,
    private readonly trailingComma: boolean,
    private readonly keepUnknownEscapes = false,
  ) {}

  fail(reason: string, at: number): never {
    throw new ExpositionSyntaxError(this.line, at - this.lineStart + 1, reason);
  }

  /** End of the metric name starting at `pos`, or a failure. */
  metricNameEnd(pos: number): number {
    const s = this.text;
    if (pos >= s.length || !is(s.charCodeAt(pos), METRIC_START)) {
      this.fail(
        pos >= s.length || s.charCodeAt(pos) === LF
          ? 'expected a metric name'
          : `invalid metric name start '${s[pos]}'`,
        pos,
      );
    }
    let i = pos + 1;
    while (i < s.length && is(s.charCodeAt(i), METRIC_CHAR)) i++;
    return i;
  }

  skipBlanks(pos: number): number {
    const s = this.text;
    if (!this.blanks) return pos;
    while (pos < s.length) {
      const c = s.charCodeAt(pos);
      if (c !== SPACE && c !== TAB) break;
      pos++;
    }
    return pos;
  }

  /** Parses `{name="value",…}` starting at the `{` at `pos`. */
  labelSet(pos: number): LabelSet {
    const s = this.text;
    const labels: LabelPairs = [];
    let canonical = true;
    let ordered = true;
    let names: Set<string> | undefined;
    let i = pos + 1;
    let sep = this.skipBlanks(i);
    if (sep !== i) canonical = false;
    i = sep;
    for (;;) {
      if (i >= s.length) this.fail('unterminated label set', i);
      const c = s.charCodeAt(i);
      if (c === RBRACE) {
        i++;
        break;
      }
      if (!is(c, LABEL_START)) {
        this.fail(c === LF ? 'unterminated label set' : `invalid label name start '${s[i]}'`, i);
      }
      const nameStart = i;
      i++;
      while (i < s.length && is(s.charCodeAt(i), LABEL_CHAR)) i++;
      const name = s.slice(nameStart, i);
      sep = this.skipBlanks(i);
      if (sep !== i) canonical = false;
      i = sep;
      if (s.charCodeAt(i) !== EQUALS) this.fail(`expected '=' after label name "${name}"`, i);
      sep = this.skipBlanks(i + 1);
      if (sep !== i + 1) canonical = false;
      i = sep;
      if (s.charCodeAt(i) !== QUOTE) this.fail(`expected '"' to open the value of label "${name}"`, i);
      const valueStart = i + 1;
      i = valueStart;
      let escaped = false;
      for (;;) {
        if (i >= s.length) this.fail(`unterminated value of label "${name}"`, i);
        const v = s.charCodeAt(i);
        if (v === QUOTE) break;
        if (v === LF) this.fail(`unescaped new line in value of label "${name}"`, i);
        if (v === BACKSLASH) {
          const e = s.charCodeAt(i + 1);
          if (e !== BACKSLASH && e !== QUOTE && e !== 110) {
            // OpenMetrics keeps an undefined escape as written (`C:\tmp`); the text format refuses it.
            if (!this.keepUnknownEscapes || e === LF || Number.isNaN(e)) {
              this.fail(`invalid escape sequence '\\${s[i + 1] ?? ''}' in value of label "${name}"`, i);
            }
            canonical = false;
          }
          escaped = true;
          i += 2;
          continue;
        }
        i++;
      }
      const raw = s.slice(valueStart, i);
      i++;
      const n = labels.length;
      // Names must be sorted for the raw text to be canonical; an equal name is a repeated label.
      // Once out of order, every later name is checked against all earlier ones.
      // By scan for a few labels, by a set beyond: a line of 40,000 labels must not cost seconds.
      if (n > 0 && (!ordered || labels[n - 2]! >= name)) {
        ordered = false;
        canonical = false;
        if (n <= 32) {
          for (let k = 0; k < n; k += 2)
            if (labels[k] === name) this.fail(`label "${name}" repeated`, nameStart);
        } else {
          if (names === undefined) {
            names = new Set();
            for (let k = 0; k < n; k += 2) names.add(labels[k]!);
          }
          if (names.has(name)) this.fail(`label "${name}" repeated`, nameStart);
        }
      }
      names?.add(name);
      labels.push(name, escaped ? unescapeLabelValue(raw) : raw);
      sep = this.skipBlanks(i);
      if (sep !== i) canonical = false;
      i = sep;
      const d = s.charCodeAt(i);
      if (d === COMMA) {
        sep = this.skipBlanks(i + 1);
        if (sep !== i + 1) canonical = false;
        i = sep;
        if (s.charCodeAt(i) === RBRACE) {
          if (!this.trailingComma) this.fail('trailing comma in label set', i - 1);
          canonical = false;
        }
        continue;
      }
      if (d !== RBRACE) this.fail(`expected ',' or '}' after the value of label "${name}"`, i);
    }
    if (labels.length === 0) canonical = false;
    return { labels, end: i, canonical };
  }
}

function unescapeLabelValue(raw: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw.charCodeAt(i) !== BACKSLASH) continue;
    const e = raw[i + 1];
    if (e !== 'n' && e !== '\\' && e !== '"') continue; // kept as written (OpenMetrics only)
    out += raw.slice(from, i) + (e === 'n' ? '\n' : e);
    i++;
    from = i + 1;
  }
  return out + raw.slice(from);
}

/** The value of label `name` in flattened pairs, or undefined. */
export function labelOf(labels: LabelPairs, name: string): string | undefined {
  for (let i = 0; i < labels.length; i += 2) if (labels[i] === name) return labels[i + 1];
  return undefined;
}

/** The labels of a series key (`name{a="1",…}`, escaped as in the exposition) back as pairs. */
export function seriesLabels(series: string): LabelPairs {
  const brace = series.indexOf('{');
  return brace < 0 ? [] : new Lexer(series, false, false, true).labelSet(brace).labels;
}

/** The canonical key of a sample, also of one from a lean parse that left it to be built on demand. */
export function canonicalSeries(s: { name: string; series: string; raw?: string }): string {
  return s.series !== '' || s.raw === undefined ? s.series : seriesKey(s.name, seriesLabels(s.raw));
}

/** `name{a="1",b="2"}` with names sorted and values escaped: the key of a series in every map. */
export function seriesKey(name: string, labels: LabelPairs): string {
  if (labels.length === 0) return name;
  const order: number[] = [];
  for (let i = 0; i < labels.length; i += 2) order.push(i);
  // By name, not by the rendered pair: `a="…"` must sort before `a1="…"` as the raw-text check expects.
  order.sort((x, y) => (labels[x]! < labels[y]! ? -1 : labels[x]! > labels[y]! ? 1 : 0));
  const pairs = order.map((i) => `${labels[i]}="${escapeLabelValue(labels[i + 1]!)}"`);
  return `${name}{${pairs.join(',')}}`;
}

export function escapeLabelValue(v: string): string {
  if (!v.includes('\\') && !v.includes('"') && !v.includes('\n')) return v;
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

export function isMetricNameChar(c: number): boolean {
  return is(c, METRIC_CHAR);
}
export function isMetricNameStart(c: number): boolean {
  return is(c, METRIC_START);
}
/** Letters, digits and `_` (a digit may not start a label name). */
export function isLabelNameChar(c: number): boolean {
  return is(c, LABEL_CHAR);
}

export const CHAR = { SPACE, TAB, LF, QUOTE, COMMA, EQUALS, LBRACE, RBRACE, HASH: 35 } as const;
