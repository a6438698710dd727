import { parseMillis } from './float.js';
import { CHAR, isLabelNameChar, isMetricNameChar, isMetricNameStart } from './lexer.js';
import type { OpenFamily, PromTextParser } from './prometheus-text.js';
import { LABELS_OMITTED, type LabelPairs } from './types.js';

/*
 * The fast path of the Prometheus text parser, for lines in the canonical form exporters write: single
 * spaces, sorted labels, no escapes, plain decimal values. It leans on native string search (startsWith,
 * indexOf) instead of looking at every character in JS, and compares names against the current family
 * instead of validating them again. Any doubt returns -1 and the full parser reads the line, so a line is
 * accepted here only if the full grammar accepts it the same way; errors always come from the full parser.
 */

const { SPACE, QUOTE, COMMA, EQUALS, LBRACE, RBRACE } = CHAR;

/** `# HELP name text` or `# TYPE name type`; the position after the line, or -1. */
export function fastComment(p: PromTextParser, at: number): number {
  const text = p.text;
  // "# HELP " or "# TYPE ", by character codes: cheaper than startsWith on this hot path.
  const k = text.charCodeAt(at + 2);
  const help = k === 72;
  if (text.charCodeAt(at + 1) !== SPACE || text.charCodeAt(at + 6) !== SPACE) return -1;
  if (help ? text.slice(at + 3, at + 6) !== 'ELP' : k !== 84 || text.slice(at + 3, at + 6) !== 'YPE')
    return -1;
  const nameStart = at + 7;
  let eol = text.indexOf('\n', nameStart);
  if (eol < 0) eol = text.length;
  const cur = p.cur;
  let fam: OpenFamily;
  let nameEnd: number;
  if (
    cur !== undefined &&
    text.charCodeAt(nameStart + cur.name.length) === SPACE &&
    text.slice(nameStart, nameStart + cur.name.length) === cur.name
  ) {
    fam = cur;
    nameEnd = nameStart + cur.name.length;
  } else {
    if (!isMetricNameStart(text.charCodeAt(nameStart))) return -1;
    nameEnd = nameStart + 1;
    while (nameEnd < eol && isMetricNameChar(text.charCodeAt(nameEnd))) nameEnd++;
    if (nameEnd < eol && text.charCodeAt(nameEnd) !== SPACE) return -1;
    fam = p.metaFamily(text.slice(nameStart, nameEnd), nameStart);
  }
  if (help) {
    if (nameEnd === eol) {
      p.setHelp(fam, '');
      return eol + 1;
    }
    const from = nameEnd + 1;
    // Leading blanks are skipped and escapes decoded by the full parser.
    if (from < eol && isBlankCode(text.charCodeAt(from))) return -1;
    if (p.backslashIn(from, eol)) return -1;
    p.setHelp(fam, text.slice(from, eol));
    return eol + 1;
  }
  if (nameEnd === eol) return -1;
  const token = text.slice(nameEnd + 1, eol);
  if (token.includes(' ') || token.includes('\t') || token === '') return -1;
  p.setType(fam, token, nameEnd + 1);
  return eol + 1;
}

/** A sample line of the current family; the position after the line, or -1. */
export function fastSample(p: PromTextParser, at: number): number {
  const fam = p.cur;
  if (fam === undefined) return -1;
  const text = p.text;
  let name = fam.name;
  let i = at + name.length;
  let c = text.charCodeAt(i);
  // A slice compared with === is a native memcmp; startsWith costs twice as much here.
  if (text.slice(at, i) !== name) return -1;
  if (c !== LBRACE && c !== SPACE) {
    name = '';
    for (const owned of fam.owned) {
      const after = text.charCodeAt(at + owned.length);
      if ((after === LBRACE || after === SPACE) && text.slice(at, at + owned.length) === owned) name = owned;
    }
    if (name === '') return -1;
    i = at + name.length;
    c = text.charCodeAt(i);
  } else if (fam.type === 'histogram') {
    return -1;
  }
  let eol = text.indexOf('\n', i);
  if (eol < 0) eol = text.length;

  let labels: LabelPairs;
  let series: string;
  let sorted = true;
  let raw: string | undefined;
  const lean = !p.withLabels;
  if (c === LBRACE) {
    // Without label output, two scratch arrays alternate: the previous line's names stay readable as hints.
    labels = lean ? (fam.lastLabels === SCRATCH_A ? SCRATCH_B : SCRATCH_A) : [];
    if (lean) labels.length = 0; // a runtime call: only for the reused scratch arrays
    const previous = fam.lastLabels;
    i++;
    for (;;) {
      const n = labels.length;
      if (n >= PAIRS.length) return -1;
      const pairStart = i;
      const known = previous[n];
      let labelName: string;
      if (
        known !== undefined &&
        text.charCodeAt(i + known.length) === EQUALS &&
        text.slice(i, i + known.length) === known
      ) {
        labelName = known;
        i += known.length;
      } else {
        const start = i;
        if (!isLabelNameChar(text.charCodeAt(i)) || isDigit(text.charCodeAt(i))) return -1;
        while (isLabelNameChar(text.charCodeAt(i))) i++;
        if (text.charCodeAt(i) !== EQUALS) return -1;
        labelName = text.slice(start, i);
      }
      if (n > 0 && !(labels[n - 2]! < labelName)) sorted = false;
      if (text.charCodeAt(i + 1) !== QUOTE) return -1;
      const close = text.indexOf('"', i + 2);
      if (close < 0 || close > eol || p.backslashIn(i + 2, close)) return -1;
      // Lean: values are not needed, except the bounds the parser checks.
      labels.push(
        labelName,
        lean && labelName !== 'le' && labelName !== 'quantile' ? '' : text.slice(i + 2, close),
      );
      PAIRS[n] = pairStart;
      PAIRS[n + 1] = close + 1;
      i = close + 1;
      c = text.charCodeAt(i);
      if (c === RBRACE) break;
      if (c !== COMMA || text.charCodeAt(i + 1) === RBRACE) return -1;
      i++;
    }
    i++;
    // Sorted: the raw text is the canonical key. Not sorted (client_golang puts `le` last): the key is
    // rebuilt from the raw `name="value"` slices in name order; values have no escapes on this path.
    if (sorted) {
      series = text.slice(at, i);
    } else {
      if (!pairsInNameOrder(labels)) return -1; // a repeated name: the full parser reports it
      // Lean and not checking duplicates (the scrape path): the window keys this line by its text as
      // written and builds the canonical key only for a series it has not seen.
      if (lean && !p.checkDuplicates) {
        raw = text.slice(at, i);
        series = '';
      } else {
        series = keyFromPairs(text, name);
      }
    }
  } else {
    labels = [];
    series = name;
  }
  if (text.charCodeAt(i) !== SPACE) return -1;
  i++;
  let valueEnd = text.indexOf(' ', i);
  if (valueEnd < 0 || valueEnd > eol) valueEnd = eol;
  const value = plainInteger(text, i, valueEnd) ?? plainDecimal(text.slice(i, valueEnd));
  if (value === undefined) return -1;
  let timestampMs: number | undefined;
  if (valueEnd < eol) {
    timestampMs = parseMillis(text, valueEnd + 1, eol);
    if (timestampMs === undefined) return -1;
  }
  p.accept(fam, name, labels, sorted, series, value, timestampMs, at, lean ? LABELS_OMITTED : labels, raw);
  return eol + 1;
}

/** Start and end of each raw `name="value"` pair of the line being read (no line has more than 32 labels here). */
const PAIRS = new Int32Array(64);

const ORDER = new Int32Array(32);
let ORDER_LENGTH = 0;
const SCRATCH_A: LabelPairs = [];
const SCRATCH_B: LabelPairs = [];

/** Up to 15 digits with an optional minus: exact in a double, read without a substring. */
function plainInteger(text: string, from: number, to: number): number | undefined {
  let i = from;
  const negative = text.charCodeAt(i) === 45;
  if (negative) i++;
  if (i >= to || to - i > 15) return undefined;
  let v = 0;
  for (; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

/** Sorts the pair indexes of the line into ORDER by label name; false when a name repeats. */
function pairsInNameOrder(labels: LabelPairs): boolean {
  let m = 0;
  for (let k = 0; k < labels.length; k += 2) {
    // Insertion sort: a handful of labels, nearly sorted.
    let j = m;
    while (j > 0 && labels[ORDER[j - 1]!]! > labels[k]!) {
      ORDER[j] = ORDER[j - 1]!;
      j--;
    }
    if (j > 0 && labels[ORDER[j - 1]!] === labels[k]) return false;
    ORDER[j] = k;
    m++;
  }
  ORDER_LENGTH = m;
  return true;
}

/** `name{…}` from the raw `name="value"` slices in ORDER; values have no escapes on this path. */
function keyFromPairs(text: string, name: string): string {
  let key = `${name}{`;
  for (let j = 0; j < ORDER_LENGTH; j++) {
    const k = ORDER[j]!;
    key += (j === 0 ? '' : ',') + text.slice(PAIRS[k], PAIRS[k + 1]);
  }
  return `${key}}`;
}

/**
 * A decimal through `Number`, which is native. `Number` also trims whitespace and takes "0x1", "0b1",
 * "Infinity" and "": the first and last characters are checked so that none of those get through.
 */
function plainDecimal(token: string): number | undefined {
  const c0 = token.charCodeAt(0);
  if (!(isDigit(c0) || c0 === 45 || c0 === 43 || c0 === 46)) return undefined;
  const last = token.charCodeAt(token.length - 1);
  if (!(isDigit(last) || last === 46)) return undefined;
  const c1 = token.charCodeAt(1) | 32;
  if (c1 === 120 || c1 === 98 || c1 === 111) return undefined;
  const v = Number(token);
  return Number.isFinite(v) ? v : undefined;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isBlankCode(c: number): boolean {
  return c === SPACE || c === 9;
}
