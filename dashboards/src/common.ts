/** Shared pieces of HomeStation's dashboards: the datasource variable, links, panel helpers. */
import {
  DashboardBuilder,
  DashboardLinkBuilder,
  DatasourceVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type DataSourceRef,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { ReduceDataOptionsBuilder, VizLegendOptionsBuilder, LegendDisplayMode, LegendPlacement } from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

/** Every panel reads the datasource the user picks: no datasource by name. */
export const DS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export function dashboard(title: string, uid: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['homestation'])
    .refresh('1m')
    .time({ from: 'now-24h', to: 'now' })
    .timezone('browser')
    .editable()
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .link(new DashboardLinkBuilder('HomeStation').type('dashboards' as never).tags(['homestation']).asDropdown(true).includeVars(true).keepTime(true));
}

export function query(expr: string, legend = ''): DataqueryBuilder {
  return new DataqueryBuilder().expr(expr).legendFormat(legend);
}

export function instant(expr: string): DataqueryBuilder {
  return new DataqueryBuilder().expr(expr).instant().format('table' as never).legendFormat('');
}

export interface Step {
  readonly value: number | null;
  readonly color: string;
}

export function stat(title: string, expr: string, unit: string, steps: Step[], description: string): StatPanel {
  return new StatPanel()
    .title(title)
    .description(description)
    .datasource(DS)
    .unit(unit)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps.map((s) => ({ value: s.value, color: s.color }))))
    .withTarget(query(expr))
    .height(4)
    .span(4);
}

export function timeseries(title: string, unit: string, description: string, ...targets: DataqueryBuilder[]): TimeseriesPanel {
  let p = new TimeseriesPanel()
    .title(title)
    .description(description)
    .datasource(DS)
    .unit(unit)
    .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Bottom).showLegend(true).calcs(['lastNotNull', 'max']))
    .height(8)
    .span(12);
  for (const t of targets) p = p.withTarget(t);
  return p;
}

export function table(title: string, description: string, ...targets: DataqueryBuilder[]): TablePanel {
  let p = new TablePanel().title(title).description(description).datasource(DS).height(8).span(24);
  for (const t of targets) p = p.withTarget(t);
  return p;
}

export const GREEN_RED: Step[] = [
  { value: null, color: 'green' },
  { value: 1, color: 'red' },
];

/**
 * How many things are in trouble: `count(<selector>) or vector(0)` (0, not "no
 * data", when none are), green at 0 and red from 1.
 */
export function problemCount(title: string, selector: string, description: string): StatPanel {
  return stat(title, `count(${selector}) or vector(0)`, 'short', GREEN_RED, description);
}
