import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  LegendDisplayMode,
  LegendPlacement,
  StackingConfigBuilder,
  StackingMode,
  VizLegendOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  CustomVariableBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type Panel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statushistory from '@grafana/grafana-foundation-sdk/statushistory';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { jobMatcher } from './job-dashboard.js';
import { selector } from './promql.js';
import type { DashboardSpec, PanelSpec } from './spec.js';

/** Every query goes to the dashboard's `datasource` variable. */
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

function queries(p: PanelSpec): DataqueryBuilder[] {
  return p.queries.map((q, i) => {
    const b = new DataqueryBuilder()
      .expr(q.expr)
      .refId(String.fromCharCode(65 + i))
      .datasource(DATASOURCE);
    if (q.legend !== undefined) b.legendFormat(q.legend);
    if (q.instant === true) b.instant().format(PromQueryFormat.Table);
    else b.range();
    return b;
  });
}

type AnyPanel = {
  title(t: string): unknown;
  description(d: string): unknown;
  unit(u: string): unknown;
  min(n: number): unknown;
  max(n: number): unknown;
  span(w: number): unknown;
  height(h: number): unknown;
  datasource(d: typeof DATASOURCE): unknown;
  withTarget(t: DataqueryBuilder): unknown;
};

function common<T extends AnyPanel>(b: T, p: PanelSpec): T {
  b.title(p.title);
  if (p.description !== undefined) b.description(p.description);
  if (p.unit !== undefined) b.unit(p.unit);
  if (p.min !== undefined) b.min(p.min);
  if (p.max !== undefined) b.max(p.max);
  b.span(p.width ?? 12);
  b.height(p.height ?? 8);
  b.datasource(DATASOURCE);
  for (const q of queries(p)) b.withTarget(q);
  return b;
}

function panel(p: PanelSpec): cog.Builder<Panel> {
  switch (p.kind) {
    case 'timeseries': {
      const b = common(new timeseries.PanelBuilder(), p)
        .legend(
          new VizLegendOptionsBuilder()
            .showLegend(true)
            .displayMode(LegendDisplayMode.List)
            .placement(LegendPlacement.Bottom),
        )
        .fillOpacity(p.stack === true ? 60 : 10)
        .lineWidth(1);
      if (p.stack === true) b.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
      return b;
    }
    case 'stat':
      return common(new stat.PanelBuilder(), p);
    case 'table':
      return common(new table.PanelBuilder(), p);
    case 'statushistory':
      return common(new statushistory.PanelBuilder(), p);
    case 'bargauge':
      return common(new bargauge.PanelBuilder(), p);
  }
}

/** Grafana dashboard JSON of a spec. Same spec, same bytes: ids and positions follow the spec's order. */
export function renderDashboard(d: DashboardSpec): Dashboard {
  const b = new DashboardBuilder(d.title)
    .uid(d.uid)
    .description(d.description)
    .tags(d.tags)
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('browser');
  b.withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'));
  if (d.variables.job === 'multi') {
    b.withVariable(
      new QueryVariableBuilder('job')
        .label('job')
        .query('label_values(up, job)')
        .datasource(DATASOURCE)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.+'),
    );
  } else {
    // A dashboard of one job: its panels select it literally (no regex), the variable only shows which.
    const job = d.variables.job.fixed;
    b.withVariable(
      new CustomVariableBuilder('job')
        .label('job')
        .options([{ text: job, value: job, selected: true }])
        .current({ text: job, value: job, selected: true }),
    );
  }
  const multi = d.variables.instance === 'multi';
  const instance = new QueryVariableBuilder('instance')
    .label('instance')
    .query(
      d.variables.job === 'multi'
        ? 'label_values(up{job=~"$job"}, instance)'
        : // One job: select it literally, as its panels do (a `$job` regex would misread dots and dollars).
          `label_values(${selector('up', [jobMatcher(d.variables.job.fixed)])}, instance)`,
    )
    .datasource(DATASOURCE)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(multi);
  if (multi) instance.includeAll(true).allValue('.+');
  b.withVariable(instance);
  for (const row of d.rows) {
    b.withRow(new RowBuilder(row.title));
    for (const p of row.panels) b.withPanel(panel(p));
  }
  const out = b.build();
  // Stable ids in spec order (Grafana needs them unique; the SDK leaves them unset).
  let id = 1;
  for (const p of out.panels ?? []) (p as { id?: number }).id = id++;
  return out;
}

/** The dashboard file's bytes: two-space JSON and a final newline. */
export function dashboardJson(d: DashboardSpec): string {
  return `${JSON.stringify(renderDashboard(d), null, 2)}\n`;
}
