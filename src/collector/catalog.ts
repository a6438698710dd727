import { seriesLabels } from './exposition/lexer.js';
import { LABELS_OMITTED, type Exposition, type MetricType } from './exposition/types.js';

/** One metric family as the fleet exposes it. */
export interface CatalogEntry {
  name: string;
  type: MetricType;
  help: string | undefined;
  unit: string | undefined;
  /** Label names of its series, target labels (job, instance, …) included, sorted. */
  labelNames: string[];
  /** Sample names it produces (`foo_bucket`, `foo_sum`, … for a histogram). */
  sampleNames: string[];
  /** How many targets expose it, and how many series they expose in all. */
  targets: number;
  series: number;
}

interface FamilyOfTarget {
  type: MetricType;
  help: string | undefined;
  unit: string | undefined;
  labelNames: ReadonlySet<string>;
  sampleNames: ReadonlySet<string>;
  series: number;
}

/**
 * Every metric family seen, per target, merged on read. A target's entry is rebuilt only when its scrape
 * brought a series the window had not seen: re-reading every label of 800k samples each round would cost
 * more than parsing them.
 */
export class Catalog {
  private readonly byTarget = new Map<string, Map<string, FamilyOfTarget>>();

  has(targetId: string): boolean {
    return this.byTarget.has(targetId);
  }

  update(targetId: string, exposition: Exposition, targetLabels: readonly string[]): void {
    const families = new Map<string, FamilyOfTarget>();
    const labelSets = exposition.families.map(() => new Set<string>(targetLabels));
    const nameSets = exposition.families.map(() => new Set<string>());
    const counts = exposition.families.map(() => 0);
    for (const s of exposition.samples) {
      const set = labelSets[s.family]!;
      const labels = s.labels === LABELS_OMITTED ? seriesLabels(s.series || s.raw!) : s.labels;
      for (let i = 0; i < labels.length; i += 2) set.add(labels[i]!);
      nameSets[s.family]!.add(s.name);
      counts[s.family]!++;
    }
    exposition.families.forEach((f, i) => {
      if (counts[i] === 0) return;
      families.set(f.name, {
        type: f.type,
        help: f.help,
        unit: f.unit,
        labelNames: labelSets[i]!,
        sampleNames: nameSets[i]!,
        series: counts[i]!,
      });
    });
    this.byTarget.set(targetId, families);
  }

  drop(targetId: string): void {
    this.byTarget.delete(targetId);
  }

  entries(): CatalogEntry[] {
    const merged = new Map<string, CatalogEntry & { labelSet: Set<string>; nameSet: Set<string> }>();
    for (const families of this.byTarget.values()) {
      for (const [name, f] of families) {
        let e = merged.get(name);
        if (e === undefined) {
          e = {
            name,
            type: f.type,
            help: f.help,
            unit: f.unit,
            labelNames: [],
            sampleNames: [],
            targets: 0,
            series: 0,
            labelSet: new Set(),
            nameSet: new Set(),
          };
          merged.set(name, e);
        }
        e.help ??= f.help;
        e.unit ??= f.unit;
        if (e.type === 'untyped' || e.type === 'unknown') e.type = f.type;
        for (const l of f.labelNames) e.labelSet.add(l);
        for (const n of f.sampleNames) e.nameSet.add(n);
        e.targets++;
        e.series += f.series;
      }
    }
    return [...merged.values()]
      .map(({ labelSet, nameSet, ...e }) => ({
        ...e,
        labelNames: [...labelSet].sort(),
        sampleNames: [...nameSet].sort(),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
