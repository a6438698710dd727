/**
 * Dashboards as plain data, before the Grafana SDK sees them: what panel, which queries, which unit.
 * Builders return these (easy to test table-driven, and every expression is reachable for the PromQL
 * checks); render.ts turns them into Grafana JSON with @grafana/grafana-foundation-sdk.
 */

export type PanelKind = 'timeseries' | 'stat' | 'table' | 'statushistory' | 'bargauge';

export interface QuerySpec {
  expr: string;
  legend?: string;
  /** One value per series at the end of the range (stat, table, bar gauge), not a time series. */
  instant?: boolean;
}

export interface PanelSpec {
  kind: PanelKind;
  title: string;
  /** The family's HELP, or what the panel shows. */
  description?: string;
  /** A Grafana unit id: s, ms, bytes, Bps, percentunit, ops, short, … */
  unit?: string;
  min?: number;
  max?: number;
  /** Stacked areas (CPU by mode). */
  stack?: boolean;
  /** Out of 24 grid columns; default 12. */
  width?: number;
  /** Grid rows; default 8. */
  height?: number;
  queries: QuerySpec[];
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface VariablesSpec {
  /** Always a `datasource` variable of type prometheus. `job`: a multi-value query variable, or fixed. */
  job: 'multi' | { fixed: string };
  /** `instance`: a multi-value query variable, or one instance at a time (host dashboards). */
  instance: 'multi' | 'single';
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: VariablesSpec;
  rows: RowSpec[];
}

/** Every expression of a dashboard, with the panel it belongs to (for checks against a real Prometheus). */
export function expressions(d: DashboardSpec): Array<{ panel: string; expr: string }> {
  return d.rows.flatMap((r) =>
    r.panels.flatMap((p) => p.queries.map((q) => ({ panel: `${r.title} / ${p.title}`, expr: q.expr }))),
  );
}
