// A realistic 800-series exposition per target; each request only formats new values into fixed text.
import { buildFamilies } from './body-families.js';
import { simple, type Family } from './body-shapes.js';

/** Families adding up to exactly `seriesCount` lines: whole families dropped from the end, then padded with cache gauges. */
export function buildTemplate(seriesCount: number): Family[] {
  const fams = buildFamilies();
  const total = (): number => fams.reduce((n, f) => n + f.lines.length, 0);
  while (fams.length > 1 && total() > seriesCount) fams.pop();
  const missing = seriesCount - total();
  if (missing < 0) throw new Error(`series count ${seriesCount} is below the smallest body`);
  if (missing > 0) {
    const caches = Array.from({ length: missing }, (_, i) => ({ cache: `c${i}` }));
    fams.push(simple('app_cache_entries', 'gauge', 'igauge', 'Entries per in-process cache.', caches, 1e5));
  }
  return fams;
}

/** One target's body at request `k`: counters grow with k, gauges move randomly, histograms stay cumulative. */
export function renderBody(fams: Family[], k: number, scale: number): string {
  let out = '';
  for (const fam of fams) {
    out += fam.header;
    for (const l of fam.lines) {
      let v: number;
      switch (l.kind) {
        case 'counter':
          v = scale * (l.a + k * l.b);
          break;
        case 'icounter':
          v = Math.floor(scale * (l.a + k * l.b));
          break;
        case 'gauge':
          v = l.a * (0.5 + Math.random());
          break;
        case 'igauge':
          v = Math.floor(l.a * (0.5 + Math.random()));
          break;
        case 'const':
          v = Math.floor(l.a);
          break;
        case 'bucket':
        case 'hcount':
          v = Math.floor(Math.floor(scale * (l.a + k * l.b)) * l.f);
          break;
        case 'hsum':
          v = Math.floor(scale * (l.a + k * l.b)) * l.f * 0.7;
          break;
      }
      out += `${l.prefix}${v}\n`;
    }
  }
  return out;
}
