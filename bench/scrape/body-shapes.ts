// Building blocks of the generated exposition: a family is its HELP/TYPE header plus series lines whose
// text is fixed once; only values are formatted per request (see body.ts).

export type Kind = 'counter' | 'icounter' | 'gauge' | 'igauge' | 'const' | 'bucket' | 'hcount' | 'hsum';

export interface Line {
  prefix: string; // `name{labels} `
  kind: Kind;
  a: number; // base (value at request 0, or gauge centre)
  b: number; // growth per request (counters, histogram counts)
  f: number; // bucket fraction ≤ 1, or mean observation for hsum
}

export interface Family {
  header: string; // `# HELP …\n# TYPE …\n`
  lines: Line[];
}

export type Labels = Record<string, string>;

export function seriesText(name: string, labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return `${pairs.length ? `${name}{${pairs.join(',')}}` : name} `;
}

/** All combinations of the given label values, e.g. {cpu: [0,1], mode: [a,b]} → 4 label sets. */
export function combos(dims: Record<string, readonly string[]>): Labels[] {
  let out: Labels[] = [{}];
  for (const [key, values] of Object.entries(dims))
    out = out.flatMap((l) => values.map((v) => ({ ...l, [key]: v })));
  return out;
}

export function rnd(min: number, max: number): number {
  return min + Math.random() * (max - min);
}

export function family(name: string, type: string, help: string, lines: Line[]): Family {
  return { header: `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`, lines };
}

export function simple(
  name: string,
  type: 'counter' | 'gauge',
  kind: Kind,
  help: string,
  sets: Labels[],
  scale: number,
): Family {
  const lines = sets.map((l) => ({
    prefix: seriesText(name, l),
    kind,
    a: rnd(0.1, 1) * scale,
    b: rnd(0.01, 1) * scale * 1e-3,
    f: 0,
  }));
  return family(name, type, help, lines);
}

export function histogram(
  name: string,
  help: string,
  sets: Labels[],
  bounds: number[],
  rate: number,
): Family {
  const lines: Line[] = [];
  for (const l of sets) {
    const a = Math.floor(rnd(100, 10_000));
    const b = rnd(0.2, 1) * rate;
    let f = 0;
    for (const le of [...bounds.map(String), '+Inf']) {
      f = le === '+Inf' ? 1 : f + (1 - f) * rnd(0.2, 0.6);
      lines.push({ prefix: seriesText(`${name}_bucket`, { ...l, le }), kind: 'bucket', a, b, f });
    }
    lines.push({ prefix: seriesText(`${name}_sum`, l), kind: 'hsum', a, b, f: bounds[1] ?? 0.1 });
    lines.push({ prefix: seriesText(`${name}_count`, l), kind: 'hcount', a, b, f: 1 });
  }
  return family(name, 'histogram', help, lines);
}
