import { useDashboard, useCatalog, useSeries, useSummary } from '../api/queries.ts';
import type { Scope } from '../api/queries.ts';
import type { SummaryResponse } from '../api/types.ts';
import type { TimeRange } from '../lib/time.ts';
import { CountriesPanel, ErrorsPanel, LatencyPanel, RequestsPanel, TopModelsPanel } from './DashboardPanels.tsx';
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

interface OverviewProps {
  scope: Scope;
  range: TimeRange;
  now: number;
  today: string;
}

export function Overview({ scope, range, now, today }: OverviewProps) {
  const current = useSummary(scope, range.start, range.dataEnd);
  const previous = useSummary(scope, range.previousStart, range.previousEnd);
  // The cards come first: the other panels ask only once both summaries have answered, so
  // on a cold server the card queries do not queue behind eight heavier ones.
  const cardsSettled = !current.isPending && !previous.isPending;
  const series = useSeries(scope, range, cardsSettled);
  const dashboard = useDashboard(scope, range, cardsSettled);
  const catalog = useCatalog(scope, cardsSettled);
  const empty = isEmptySummary(current.data);

  return (
    <div className="overview" data-testid="overview">
      <Panel title="Summary" testId="panel-summary" what="the summary totals" queries={[current, previous]} skeletonHeight={110} className="full">
        {() => current.data && previous.data ? <SummaryCards current={current.data} previous={previous.data} range={range} directions={catalog.data ? new Map(catalog.data.map((m) => [m.name, m.goodDirection])) : undefined} /> : null}
      </Panel>

      {empty ? <EmptyState orgId={scope.orgId} /> : null}

      <div className="grid">
        {empty || !cardsSettled ? null : (
          <>
            <PagesPanel series={series} range={range} tz={scope.tz} scope={scope} />
            <CostPanel series={series} range={range} tz={scope.tz} />
            <TrendPanel series={series} range={range} tz={scope.tz} catalog={catalog.data} />
            <RecentActivity scope={scope} now={now} />
            <RequestsPanel dashboard={dashboard} range={range} tz={scope.tz} />
            <LatencyPanel scope={scope} range={range} />
            <div className="third-row">
              <TopModelsPanel dashboard={dashboard} range={range} tz={scope.tz} />
              <ErrorsPanel dashboard={dashboard} range={range} tz={scope.tz} />
              <CountriesPanel dashboard={dashboard} range={range} tz={scope.tz} />
            </div>
            <WorkflowUsage scope={scope} range={range} />
          </>
        )}
        {cardsSettled ? <MetricsTable key={`${scope.orgId}-${scope.tz}`} scope={scope} today={today} /> : null}
      </div>
    </div>
  );
}
