import { parseOpenMetricsNumber, parseOpenMetricsSeconds } from './float.js';
import { CHAR, Lexer, seriesKey } from './lexer.js';
import { exemplarAllowed, OPENMETRICS_TYPES, PointCheck, pointLabel, SUFFIXES } from './openmetrics-rules.js';
import {
  ParsedSample,
  type Exemplar,
  type Exposition,
  type ParseOptions,
  type LabelPairs,
  type MetricFamily,
  type MetricType,
  type Sample,
} from './types.js';

interface OpenFamily {
  index: number;
  name: string;
  type: MetricType;
  typed: boolean;
  helped: boolean;
  united: boolean;
  samples: number;
  /** Identity of the MetricPoint being read, and the ones already finished. */
  point: string | undefined;
  check: PointCheck | undefined;
  points: Set<string>;
}

const MAX_EXEMPLAR_LABEL_CHARS = 128;

/** OpenMetrics 1.0 text: strict line grammar, metadata before samples, no interleaving, `# EOF` last. */
export function parseOpenMetrics(text: string, opts: ParseOptions = {}): Exposition {
  const checkDuplicates = opts.checkDuplicates ?? true;
  const lx: Lexer = new Lexer(text, false, false, true);
  const families: MetricFamily[] = [];
  const samples: Sample[] = [];
  const byName = new Map<string, number>();
  /** Sample names a family may produce, so no other family can take them. */
  const reserved = new Map<string, string>();
  const seen = new Set<string>();
  let cur: OpenFamily | undefined;
  let eof = false;

  const len = text.length;
  let pos = 0;
  while (pos < len) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = len;
    lx.lineStart = pos;
    if (eol === pos) lx.fail('empty line', pos);
    if (text.charCodeAt(pos) === CHAR.HASH) {
      if (eol - pos === 5 && text.startsWith('# EOF', pos)) {
        eof = true;
        if (eol < len && eol + 1 < len) {
          lx.line++;
          lx.lineStart = eol + 1;
          lx.fail('text after # EOF', eol + 1);
        }
        break;
      }
      metadata(pos, eol);
    } else {
      sample(pos, eol);
    }
    if (eol === len) break;
    pos = eol + 1;
    lx.line++;
  }
  if (!eof) {
    lx.lineStart = pos;
    lx.fail('missing "# EOF" at the end of the exposition', pos);
  }
  closeFamily();
  return { format: 'openmetrics', families, samples };

  function open(name: string, at: number): OpenFamily {
    closeFamily();
    if (byName.has(name))
      lx.fail(`metric family "${name}" appears in two groups: all its lines must be together`, at);
    const owner = reserved.get(name);
    if (owner !== undefined)
      lx.fail(`metric family "${name}" clashes with a sample name of family "${owner}"`, at);
    const index = families.length;
    families.push({ name, type: 'unknown', help: undefined, unit: undefined });
    byName.set(name, index);
    return (cur = {
      index,
      name,
      type: 'unknown',
      typed: false,
      helped: false,
      united: false,
      samples: 0,
      point: undefined,
      check: undefined,
      points: new Set(),
    });
  }

  function closePoint(fam: OpenFamily): void {
    const bad = fam.check?.close();
    if (bad !== undefined) lx.fail(`${bad} (metric family "${fam.name}")`, lx.lineStart);
  }

  function closeFamily(): void {
    if (cur !== undefined) closePoint(cur);
  }

  function metadata(i: number, eol: number): void {
    const kw = text.slice(i, i + 7);
    if (kw !== '# HELP ' && kw !== '# TYPE ' && kw !== '# UNIT ') {
      lx.fail('invalid comment: OpenMetrics allows only "# HELP", "# TYPE", "# UNIT" and "# EOF"', i);
    }
    i += 7;
    const nameEnd = lx.metricNameEnd(i);
    const name = text.slice(i, nameEnd);
    const fam = cur?.name === name ? cur : open(name, i);
    const family = families[fam.index]!;
    const keyword = kw.slice(2, 6);
    if (fam.samples > 0) lx.fail(`${keyword} for metric family "${name}" after its samples`, lx.lineStart);
    if (nameEnd === eol && keyword === 'HELP') {
      lx.fail('HELP needs a space after the metric name (an empty help is "# HELP name ")', nameEnd);
    }
    if (text.charCodeAt(nameEnd) !== CHAR.SPACE) lx.fail(`expected a space after "${name}"`, nameEnd);
    const rest = nameEnd + 1;
    if (keyword === 'HELP') {
      if (fam.helped) lx.fail(`second HELP for metric family "${name}"`, lx.lineStart);
      fam.helped = true;
      // An empty HELP or UNIT counts as no metadata line at all (OpenMetrics 1.0).
      const help = unescape(rest, eol);
      family.help = help === '' ? undefined : help;
    } else if (keyword === 'TYPE') {
      if (fam.typed) lx.fail(`second TYPE for metric family "${name}"`, lx.lineStart);
      const type = text.slice(rest, eol);
      if (!OPENMETRICS_TYPES.has(type)) lx.fail(`unknown metric type "${type}"`, rest);
      fam.typed = true;
      fam.type = type as MetricType;
      family.type = fam.type;
      if (fam.united && (type === 'info' || type === 'stateset'))
        lx.fail(`a ${type} cannot have a unit`, rest);
    } else {
      if (fam.united) lx.fail(`second UNIT for metric family "${name}"`, lx.lineStart);
      const unit = text.slice(rest, eol);
      for (let j = rest; j < eol; j++) {
        const c = text.charCodeAt(j);
        const ok =
          (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 58;
        if (!ok) lx.fail(`invalid character in unit "${unit}"`, j);
      }
      if (unit !== '' && !name.endsWith(`_${unit}`))
        lx.fail(`metric family "${name}" must end in "_${unit}" to have unit "${unit}"`, rest);
      if (fam.type === 'info' || fam.type === 'stateset') lx.fail(`a ${fam.type} cannot have a unit`, rest);
      fam.united = true;
      family.unit = unit === '' ? undefined : unit;
    }
  }

  function resolve(name: string, at: number): { fam: OpenFamily; suffix: string } {
    const fam = cur;
    if (fam !== undefined && name.startsWith(fam.name)) {
      const suffix = name.slice(fam.name.length);
      if (SUFFIXES[fam.type]!.includes(suffix)) return { fam, suffix };
      // A bare family name that its type does not allow is an error; any other name starts a new family.
      if (fam.typed && suffix === '') {
        const allowed = SUFFIXES[fam.type]!.map((s) => fam.name + s).join(', ');
        lx.fail(
          `sample "${name}" does not belong to ${fam.type} family "${fam.name}" (expected ${allowed})`,
          at,
        );
      }
    }
    return { fam: open(name, at), suffix: '' };
  }

  function sample(i: number, eol: number): void {
    const nameStart = i;
    const nameEnd = lx.metricNameEnd(i);
    const name = text.slice(nameStart, nameEnd);
    const { fam, suffix } = resolve(name, nameStart);
    if (fam.samples === 0) reserve(fam, nameStart);

    let labels: LabelPairs;
    let series: string;
    i = nameEnd;
    if (text.charCodeAt(i) === CHAR.LBRACE) {
      const set = lx.labelSet(i);
      labels = set.labels;
      series = set.canonical ? text.slice(nameStart, set.end) : seriesKey(name, labels);
      i = set.end;
    } else {
      labels = [];
      series = name;
    }
    i = space(i, eol, 'before the value');
    const valueEnd = tokenEnd(i, eol);
    const value = parseOpenMetricsNumber(text, i, valueEnd);
    if (value === undefined) lx.fail(`invalid value "${text.slice(i, valueEnd)}"`, i);
    const valueAt = i;
    i = valueEnd;
    let timestampMs: number | undefined;
    let exemplar: Exemplar | undefined;
    if (i < eol && text.charCodeAt(i + 1) !== CHAR.HASH) {
      i = space(i, eol, 'before the timestamp');
      const tsEnd = tokenEnd(i, eol);
      timestampMs = seconds(i, tsEnd);
      i = tsEnd;
    }
    if (i < eol) {
      if (!text.startsWith(' # ', i)) lx.fail('expected " # " before an exemplar, or the end of the line', i);
      if (!exemplarAllowed(fam.type, suffix))
        lx.fail(`sample "${name}" of a ${fam.type} cannot have an exemplar`, i + 1);
      exemplar = parseExemplar(i + 3, eol);
    }

    const pl = pointLabel(fam.type, fam.name);
    const point =
      pl === undefined
        ? suffix === '' || fam.type !== 'counter'
          ? series
          : seriesKey(fam.name, labels)
        : pointKey(labels, pl);
    if (point !== fam.point) {
      closePoint(fam);
      if (fam.points.has(point))
        lx.fail(`samples of ${point} in family "${fam.name}" are not together`, nameStart);
      fam.points.add(point);
      fam.point = point;
      fam.check = new PointCheck(fam.type, fam.name);
    }
    const bad = fam.check!.add(suffix, labels, value);
    if (bad !== undefined) lx.fail(bad, valueAt);
    if (checkDuplicates) {
      if (seen.has(series)) lx.fail(`duplicate series ${series}`, nameStart);
      seen.add(series);
    }
    fam.samples++;
    samples.push(new ParsedSample(name, labels, value, timestampMs, exemplar, fam.index, series));
  }

  function reserve(fam: OpenFamily, at: number): void {
    for (const s of SUFFIXES[fam.type]!) {
      if (s === '') continue;
      const n = fam.name + s;
      if (byName.has(n))
        lx.fail(`sample name "${n}" of family "${fam.name}" clashes with metric family "${n}"`, at);
      reserved.set(n, fam.name);
    }
  }

  function pointKey(labels: LabelPairs, without: string): string {
    const rest: LabelPairs = [];
    for (let k = 0; k < labels.length; k += 2)
      if (labels[k] !== without) rest.push(labels[k]!, labels[k + 1]!);
    return seriesKey('', rest);
  }

  function parseExemplar(i: number, eol: number): Exemplar {
    if (text.charCodeAt(i) !== CHAR.LBRACE) lx.fail('expected "{" to open the exemplar labels', i);
    const set = lx.labelSet(i);
    let chars = 0;
    for (const part of set.labels) chars += [...part].length;
    if (chars > MAX_EXEMPLAR_LABEL_CHARS)
      lx.fail(`exemplar labels have ${chars} characters, more than ${MAX_EXEMPLAR_LABEL_CHARS}`, i);
    i = space(set.end, eol, 'before the exemplar value');
    const valueEnd = tokenEnd(i, eol);
    const value = parseOpenMetricsNumber(text, i, valueEnd);
    if (value === undefined) lx.fail(`invalid exemplar value "${text.slice(i, valueEnd)}"`, i);
    i = valueEnd;
    let timestampMs: number | undefined;
    if (i < eol) {
      i = space(i, eol, 'before the exemplar timestamp');
      const tsEnd = tokenEnd(i, eol);
      timestampMs = seconds(i, tsEnd);
      if (tsEnd < eol) lx.fail('unexpected text after the exemplar', tsEnd);
    }
    return { labels: set.labels, value, timestampMs };
  }

  function seconds(i: number, end: number): number {
    const s = parseOpenMetricsSeconds(text, i, end);
    if (s === undefined) lx.fail(`invalid timestamp "${text.slice(i, end)}" (seconds)`, i);
    // Kept in milliseconds, as Prometheus stores them; beyond 2^53 ms a double cannot hold it exactly.
    const ms = Math.round(s * 1000);
    if (!Number.isSafeInteger(ms)) lx.fail(`timestamp "${text.slice(i, end)}" is out of range`, i);
    return ms;
  }

  /** Exactly one space, then a token. */
  function space(i: number, eol: number, where: string): number {
    if (i >= eol) lx.fail(`expected a space ${where}`, i);
    if (text.charCodeAt(i) !== CHAR.SPACE) lx.fail(`expected a space ${where}, found '${text[i]}'`, i);
    if (i + 1 >= eol || text.charCodeAt(i + 1) === CHAR.SPACE)
      lx.fail(`expected exactly one space ${where}`, i + 1);
    return i + 1;
  }

  function tokenEnd(i: number, eol: number): number {
    while (i < eol && text.charCodeAt(i) !== CHAR.SPACE) i++;
    return i;
  }

  /** HELP text: `\\`, `\"` and `\n` are the escapes. */
  function unescape(i: number, eol: number): string {
    let out = '';
    let from = i;
    for (let j = i; j < eol; j++) {
      if (text.charCodeAt(j) !== 92) continue;
      const e = text[j + 1];
      if (e !== '\\' && e !== 'n' && e !== '"')
        lx.fail(`invalid escape sequence '\\${j + 1 < eol ? e : ''}' in HELP`, j);
      out += text.slice(from, j) + (e === 'n' ? '\n' : e);
      j++;
      from = j + 1;
    }
    return out + text.slice(from, eol);
  }
}
