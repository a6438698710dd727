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
  /** Jobs of the targets that expose it, sorted. */
  jobs: string[];
  /**
   * Distinct values per label name over all targets, counted up to CARDINALITY_CAP (a count at the cap
   * means "at least"): how dashboards choose a label to group by, and spot an exploding one.
   */
  labelValues: Record<string, number>;
  /** Types other targets declare for the same name (a clash), beyond `type`; usually empty. */
  conflictingTypes: MetricType[];
}

/** Distinct values counted per label before giving up: past it a label is "absurd" for grouping. */
export const CARDINALITY_CAP = 1000;

interface FamilyOfTarget {
  type: MetricType;
  help: string | undefined;
  unit: string | undefined;
  labelNames: ReadonlySet<string>;
  sampleNames: ReadonlySet<string>;
  series: number;
  job: string | undefined;
  values: ReadonlyMap<string, ReadonlySet<string>>;
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

  update(targetId: string, exposition: Exposition, targetLabels: Readonly<Record<string, string>>): void {
    const families = new Map<string, FamilyOfTarget>();
    const targetNames = Object.keys(targetLabels);
    const labelSets = exposition.families.map(() => new Set<string>(targetNames));
    const valueSets = exposition.families.map(
      () => new Map<string, Set<string>>(Object.entries(targetLabels).map(([k, v]) => [k, new Set([v])])),
    );
    const nameSets = exposition.families.map(() => new Set<string>());
    const counts = exposition.families.map(() => 0);
    for (const s of exposition.samples) {
      const set = labelSets[s.family]!;
      const values = valueSets[s.family]!;
      const labels = s.labels === LABELS_OMITTED ? seriesLabels(s.series || s.raw!) : s.labels;
      for (let i = 0; i < labels.length; i += 2) {
        const name = labels[i]!;
        set.add(name);
        // Target labels win over the exporter's (honor_labels: false), so theirs are not counted.
        if (name in targetLabels) continue;
        let v = values.get(name);
        if (v === undefined) values.set(name, (v = new Set()));
        if (v.size < CARDINALITY_CAP) v.add(labels[i + 1]!);
      }
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
        job: targetLabels.job,
        values: valueSets[i]!,
      });
    });
    this.byTarget.set(targetId, families);
  }

  drop(targetId: string): void {
    this.byTarget.delete(targetId);
  }

  entries(): CatalogEntry[] {
    const merged = new Map<
      string,
      CatalogEntry & {
        labelSet: Set<string>;
        nameSet: Set<string>;
        jobSet: Set<string>;
        valueSets: Map<string, Set<string>>;
        typeSet: Set<MetricType>;
      }
    >();
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
            jobs: [],
            labelValues: {},
            conflictingTypes: [],
            labelSet: new Set(),
            nameSet: new Set(),
            jobSet: new Set(),
            valueSets: new Map(),
            typeSet: new Set(),
          };
          merged.set(name, e);
        }
        e.help ??= f.help;
        e.unit ??= f.unit;
        if (e.type === 'untyped' || e.type === 'unknown') e.type = f.type;
        if (f.type !== 'untyped' && f.type !== 'unknown') e.typeSet.add(f.type);
        for (const l of f.labelNames) e.labelSet.add(l);
        for (const n of f.sampleNames) e.nameSet.add(n);
        if (f.job !== undefined) e.jobSet.add(f.job);
        for (const [label, values] of f.values) {
          let set = e.valueSets.get(label);
          if (set === undefined) e.valueSets.set(label, (set = new Set()));
          for (const v of values) {
            if (set.size >= CARDINALITY_CAP) break;
            set.add(v);
          }
        }
        e.targets++;
        e.series += f.series;
      }
    }
    return [...merged.values()]
      .map(({ labelSet, nameSet, jobSet, valueSets, typeSet, ...e }) => ({
        ...e,
        labelNames: [...labelSet].sort(),
        sampleNames: [...nameSet].sort(),
        jobs: [...jobSet].sort(),
        labelValues: Object.fromEntries(
          [...valueSets].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.size]),
        ),
        conflictingTypes: [...typeSet].filter((t) => t !== e.type).sort(),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
