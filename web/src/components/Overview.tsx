import { useCallback, useMemo, useState } from 'react';
import { useDashboard, useCatalog, useSeries, useSummary } from '../api/queries.ts';
import type { Scope } from '../api/queries.ts';
import type { SummaryResponse } from '../api/types.ts';
import { EventsPanel, type DrillTarget } from '../drilldown/EventsPanel.tsx';
import type { TimeRange } from '../lib/time.ts';
import { metricInfoMap } from '../metrics/metric-info.ts';
import { CountriesPanel, ErrorsPanel, LATENCY_METRICS, LatencyPanel, RequestsPanel, TopModelsPanel } from './DashboardPanels.tsx';
import { EmptyState } from './EmptyState.tsx';
import { MetricsTable } from './MetricsTable.tsx';
import { Panel } from './Panel.tsx';
import { RecentActivity } from './RecentActivity.tsx';
import { CostPanel, PagesPanel, TrendPanel } from './SeriesPanels.tsx';
import { SummaryCards } from './SummaryCards.tsx';
import { WorkflowUsage } from './WorkflowUsage.tsx';

function isEmptySummary(summary: SummaryResponse | undefined): boolean {
  return summary !== undefined && summary.summary.every((row) => !Number(row.total_count) && !Number(row.total_value));
}

/** Metrics with at least one event in the range (the summary has a row per metric). */
function metricsWithData(summary: SummaryResponse | undefined): Set<string> {
  return new Set((summary?.summary ?? []).filter((row) => Number(row.total_count) > 0 || Number(row.total_value) !== 0).map((row) => row.metric_name));
}

interface OverviewProps {
  scope: Scope;
  range: TimeRange;
  now: number;
  today: string;
  /** Metrics without data in the range shown too (cards, charts, table rows). */
  showAll: boolean;
  onShowAll: (showAll: boolean) => void;
}

export function Overview({ scope, range, now, today, showAll, onShowAll }: OverviewProps) {
  const current = useSummary(scope, range.start, range.dataEnd);
  const previous = useSummary(scope, range.previousStart, range.previousEnd);
  // The cards come first: the other panels ask only once both summaries have answered, so
  // on a cold server the card queries do not queue behind eight heavier ones.
  const cardsSettled = !current.isPending && !previous.isPending;
  const series = useSeries(scope, range, cardsSettled);
  const dashboard = useDashboard(scope, range, cardsSettled);
  const catalog = useCatalog(scope, cardsSettled);
  const info = useMemo(() => (catalog.data ? metricInfoMap(catalog.data) : undefined), [catalog.data]);
  const empty = isEmptySummary(current.data);
  const [drill, setDrill] = useState<DrillTarget | null>(null);
  const closeDrill = useCallback(() => setDrill(null), []);

  const withData = useMemo(() => metricsWithData(current.data), [current.data]);
  const hasData = useCallback((metric: string) => showAll || withData.has(metric), [showAll, withData]);
  const latencyMetrics = LATENCY_METRICS.filter(hasData);
  const panels = {
    pages: hasData('pages_processed') || hasData('failed_pages'),
    cost: hasData('llm_usage'),
    requests: hasData('requests'),
    latency: latencyMetrics.length > 0,
    models: hasData('requests'),
    errors: hasData('request_errors'),
    countries: hasData('requests'),
  };
  const panelTitles: Record<keyof typeof panels, string> = {
    pages: 'Pages processed',
    cost: 'LLM cost',
    requests: 'API requests',
    latency: 'Latency',
    models: 'Top models',
    errors: 'Errors by status code',
    countries: 'Top countries',
  };
  const hiddenPanels = (Object.keys(panels) as (keyof typeof panels)[]).filter((id) => !panels[id]).map((id) => panelTitles[id]);
  const common = { range, tz: scope.tz, onDrill: setDrill, info };

  return (
    <div className="overview" data-testid="overview">
      <Panel title="Summary" testId="panel-summary" what="the summary totals" queries={[current, previous]} skeletonHeight={110} className="full">
        {() =>
          current.data && previous.data ? (
            <SummaryCards
              current={current.data}
              previous={previous.data}
              range={range}
              directions={catalog.data ? new Map(catalog.data.map((m) => [m.name, m.goodDirection])) : undefined}
              info={info}
              showAll={showAll}
            />
          ) : null
        }
      </Panel>

      {empty ? <EmptyState orgId={scope.orgId} /> : null}

      {cardsSettled && !empty ? (
        <div className="show-all-bar" data-testid="show-all-bar">
          <label className="inline-label">
            <input type="checkbox" checked={showAll} onChange={(e) => onShowAll(e.target.checked)} data-testid="show-all" />
            Show metrics without data in this range
          </label>
          {!showAll && hiddenPanels.length > 0 ? (
            <span className="muted" data-testid="hidden-panels">
              Hidden, no data: {hiddenPanels.join(', ')}
            </span>
          ) : null}
        </div>
      ) : null}

      <div className="grid">
        {empty || !cardsSettled ? null : (
          <>
            {panels.pages ? <PagesPanel series={series} {...common} /> : null}
            {panels.cost ? <CostPanel series={series} {...common} /> : null}
            <TrendPanel series={series} catalog={catalog.data} hasData={hasData} {...common} />
            <RecentActivity scope={scope} now={now} />
            {panels.requests ? <RequestsPanel dashboard={dashboard} {...common} /> : null}
            {panels.latency ? <LatencyPanel scope={scope} range={range} metrics={latencyMetrics} onDrill={setDrill} info={info} /> : null}
            {panels.models || panels.errors || panels.countries ? (
              <div className="third-row">
                {panels.models ? <TopModelsPanel dashboard={dashboard} {...common} /> : null}
                {panels.errors ? <ErrorsPanel dashboard={dashboard} {...common} /> : null}
                {panels.countries ? <CountriesPanel dashboard={dashboard} {...common} /> : null}
              </div>
            ) : null}
            <WorkflowUsage scope={scope} range={range} />
          </>
        )}
        {cardsSettled ? <MetricsTable key={`${scope.orgId}-${scope.tz}`} scope={scope} today={today} showAll={showAll} info={info} onDrill={setDrill} /> : null}
      </div>
      {drill ? <EventsPanel scope={scope} target={drill} onClose={closeDrill} /> : null}
    </div>
  );
}
